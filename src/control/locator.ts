import type { Env } from '../env';
import type { Region } from '../geo/regions';

/** The one ControlPlane Durable Object (named `control`): the writer of all state. */
export function controlPlane(env: Env) {
  return env.CONTROL.get(env.CONTROL.idFromName('control'));
}

/** Where each check region's prober is placed (SPEC §4): the Durable Object location nearest to the region. */
export const PROBER_LOCATIONS: Readonly<Record<Region, DurableObjectLocationHint>> = {
  WNAM: 'wnam',
  ENAM: 'enam',
  NSAM: 'sam',
  SSAM: 'sam',
  WEU: 'weur',
  EEU: 'eeur',
  OC: 'oc',
  ME: 'me',
  NAF: 'afr',
  SAF: 'afr',
  SAS: 'apac',
  SEAS: 'apac',
  NEAS: 'apac',
};

/** The prober of a check region (`probe:<REGION>`), created in that region's location. */
export function prober(env: Env, region: Region) {
  return env.PROBERS.get(env.PROBERS.idFromName(`probe:${region}`), { locationHint: PROBER_LOCATIONS[region] });
}
