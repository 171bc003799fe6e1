/**
 * Bindings and vars as `wrangler types` generates them from wrangler.toml
 * (worker-configuration.d.ts; `npm run types` after changing wrangler.toml), plus the
 * secrets and optional bindings, which cannot be declared there as optional: without
 * ADMIN_TOKEN the admin is disabled (SPEC §7), without AFFINITY_SECRET the stored one
 * signs affinity tokens, without HEALTH_WEBHOOK_URL no notice is posted, without
 * ANALYTICS (a Workers Analytics Engine dataset) no per-request data point is written.
 */
export type Env = Cloudflare.Env & {
  ADMIN_TOKEN?: string;
  AFFINITY_SECRET?: string;
  HEALTH_WEBHOOK_URL?: string;
  ANALYTICS?: AnalyticsEngineDataset;
};

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
  /** The share of requests written to ANALYTICS (ANALYTICS_SAMPLE_RATE, 0 < rate <= 1; default 1). */
  analyticsSampleRate: number;
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
      analyticsSampleRate: sampleRate(env.ANALYTICS_SAMPLE_RATE),
    };
    parsed.set(env, found);
  }
  return found;
}

function sampleRate(value: string | undefined): number {
  const rate = Number(value?.trim() || '1');
  return Number.isFinite(rate) && rate > 0 && rate <= 1 ? rate : 1;
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
