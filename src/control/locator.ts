import type { Env } from '../env';

/** The one ControlPlane Durable Object (named `control`): the writer of all state. */
export function controlPlane(env: Env) {
  return env.CONTROL.get(env.CONTROL.idFromName('control'));
}
