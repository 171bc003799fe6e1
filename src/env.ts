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
}

/** String vars parsed once per env object. */
export interface Settings {
  lbName: string;
  simulation: boolean;
  snapshotTtlMs: number;
  adminToken: string | undefined;
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
    };
    parsed.set(env, found);
  }
  return found;
}
