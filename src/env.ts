import type { ControlPlane } from './control/control-plane';

/** Bindings and vars, as declared in wrangler.toml (secrets in .dev.vars locally). */
export interface Env {
  CONTROL: DurableObjectNamespace<ControlPlane>;
  SNAPSHOTS: KVNamespace;
  LB_NAME?: string;
  LB_SIMULATION?: string;
  SNAPSHOT_TTL_MS?: string;
  LB_CONFIG?: string;
  ADMIN_TOKEN?: string;
  AFFINITY_SECRET?: string;
  HEALTH_WEBHOOK_URL?: string;
  LB_ZONES?: string;
  ADMIN_HOSTNAME?: string;
}

/** String vars parsed once per env object. */
export interface Settings {
  lbName: string;
  simulation: boolean;
  snapshotTtlMs: number;
  adminToken: string | undefined;
  /** The zones this Worker's routes are in (LB_ZONES, comma-separated); undefined = not said, so a Host override cannot be checked (SPEC §10). */
  zones: readonly string[] | undefined;
  /** The only host the admin answers on (ADMIN_HOSTNAME, lower-cased); undefined = loopback names only. */
  adminHostname: string | undefined;
}

const parsed = new WeakMap<object, Settings>();

export function settings(env: Env): Settings {
  let found = parsed.get(env);
  if (found === undefined) {
    const ttl = Number(env.SNAPSHOT_TTL_MS);
    found = {
      lbName: env.LB_NAME?.trim() || 'switchyard',
      simulation: env.LB_SIMULATION?.trim().toLowerCase() === 'on',
      snapshotTtlMs: Number.isFinite(ttl) && ttl >= 0 ? ttl : 2000,
      adminToken: env.ADMIN_TOKEN || undefined,
      zones: parseZones(env.LB_ZONES),
      adminHostname: env.ADMIN_HOSTNAME?.trim().toLowerCase().replace(/\.$/, '') || undefined,
    };
    parsed.set(env, found);
  }
  return found;
}

function parseZones(value: string | undefined): readonly string[] | undefined {
  const zones = (value ?? '')
    .split(',')
    .map((zone) => zone.trim().toLowerCase().replace(/\.$/, ''))
    .filter((zone) => zone !== '');
  return zones.length === 0 ? undefined : zones;
}

/** The binding named `name` when it can take a fetch (a Workers VPC network or service, or a service binding standing in for one). */
export function bindingOf(env: Env, name: string): Fetcher | undefined {
  const binding = (env as unknown as Record<string, unknown>)[name] as Partial<Fetcher> | undefined;
  return typeof binding?.fetch === 'function' ? (binding as Fetcher) : undefined;
}
