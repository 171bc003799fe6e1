import { z } from 'zod';
import { LoadBalancerSchema, MonitorSchema, OriginSchema, PoolSchema, type Config } from './schema';

// A configuration's compact form: every field whose value is its default left out.
// Validating the compact form gives back the same configuration, so it is what the
// Durable Object stores and what the size limit of SPEC §7 measures: an operator's
// document is charged for what it says, not for how many defaults GET spells out or
// how it is indented. A 10,000-origin configuration is about 1.3 MB with every default
// written and about 0.5 MB without.

/** The most a configuration may hold, as compact JSON (SPEC §7: 1 MiB). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

type Fields = Readonly<Record<string, string>>;

/**
 * The JSON of each defaulted field of a schema, found by validating the smallest valid
 * object: a field the minimal object did not name came from its default.
 */
function defaultsOf(schema: z.ZodType, minimal: Record<string, unknown>): Fields {
  const parsed = schema.parse(minimal) as Record<string, unknown>;
  const defaults: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) if (!(key in minimal) && value !== undefined) defaults[key] = JSON.stringify(value);
  return defaults;
}

const ORIGIN_MINIMAL = { name: 'o', address: 'o' };
const DEFAULTS = {
  monitor: defaultsOf(MonitorSchema, { id: 'm' }),
  origin: defaultsOf(OriginSchema, ORIGIN_MINIMAL),
  pool: defaultsOf(PoolSchema, { id: 'p', origins: [ORIGIN_MINIMAL] }),
  loadBalancer: defaultsOf(LoadBalancerSchema, { id: 'l', hostname: 'l', default_pools: ['p'] }),
};

function withoutDefaults<T extends object>(item: T, defaults: Fields): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) {
    const fallback = defaults[key];
    if (value === undefined || (fallback !== undefined && JSON.stringify(value) === fallback)) continue;
    out[key] = value;
  }
  return out as Partial<T>;
}

/** The configuration with every default-valued field left out (validating it gives `config` back). */
export function compactConfig(config: Config): Partial<Config> {
  const out: Record<string, unknown> = {};
  if (config.monitors.length > 0) out.monitors = config.monitors.map((m) => withoutDefaults(m, DEFAULTS.monitor));
  if (config.pools.length > 0) {
    out.pools = config.pools.map((pool) => ({
      ...withoutDefaults(pool, DEFAULTS.pool),
      origins: pool.origins.map((o) => withoutDefaults(o, DEFAULTS.origin)),
    }));
  }
  if (config.load_balancers.length > 0) out.load_balancers = config.load_balancers.map((lb) => withoutDefaults(lb, DEFAULTS.loadBalancer));
  return out as Partial<Config>;
}

/** The compact form as JSON text: what is stored, and what the size limit counts. */
export function compactJson(config: Config): string {
  return JSON.stringify(compactConfig(config));
}

/** Why a configuration is over MAX_CONFIG_BYTES, or undefined when it fits. */
export function oversize(compact: string): string | undefined {
  const bytes = new TextEncoder().encode(compact).byteLength;
  if (bytes <= MAX_CONFIG_BYTES) return undefined;
  return `the configuration is ${bytes} bytes as compact JSON (defaults left out); at most ${MAX_CONFIG_BYTES} (1 MiB) may be stored`;
}
