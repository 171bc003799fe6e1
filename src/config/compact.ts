import { z } from 'zod';
import { LoadBalancerSchema, MonitorSchema, OriginSchema, PoolSchema, type Config } from './schema';

// A configuration's compact form: every field whose value is its default left out, in
// nested objects too. Validating the compact form gives back the same configuration.
// It is what the size limit of SPEC §7 measures (an operator's document is charged for
// what it says, not for how many defaults GET spells out or how it is indented) and,
// with the defaults it was written against, what the Durable Object stores: a later
// release that changes a default does not change a stored configuration. A
// 10,000-origin configuration is about 1.3 MB with every default written and about
// 0.5 MB without.

/** The most a configuration may hold as compact JSON (SPEC §7: 1 MiB). */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/**
 * The most it may hold as GET writes it (every default filled in): what a PUT body may
 * be at most, so that whatever GET returned can be PUT back.
 */
export const MAX_FULL_CONFIG_BYTES = 8 * MAX_CONFIG_BYTES;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Each resource kind's defaulted fields and their values. */
export interface Defaults {
  monitor: Record<string, Json>;
  origin: Record<string, Json>;
  pool: Record<string, Json>;
  load_balancer: Record<string, Json>;
}

/**
 * The defaulted fields of a schema, found by validating the smallest valid object: a
 * field the minimal object did not name came from its default.
 */
function defaultsOf(schema: z.ZodType, minimal: Record<string, unknown>): Record<string, Json> {
  const parsed = schema.parse(minimal) as Record<string, Json | undefined>;
  const defaults: Record<string, Json> = {};
  for (const [key, value] of Object.entries(parsed)) if (!(key in minimal) && value !== undefined) defaults[key] = value;
  return defaults;
}

const ORIGIN_MINIMAL = { name: 'o', address: 'o' };

/** This release's defaults. */
export const DEFAULTS: Defaults = {
  monitor: defaultsOf(MonitorSchema, { id: 'm' }),
  origin: defaultsOf(OriginSchema, ORIGIN_MINIMAL),
  pool: defaultsOf(PoolSchema, { id: 'p', origins: [ORIGIN_MINIMAL] }),
  load_balancer: defaultsOf(LoadBalancerSchema, { id: 'l', hostname: 'l', default_pools: ['p'] }),
};

const isObject = (value: unknown): value is Record<string, Json> => typeof value === 'object' && value !== null && !Array.isArray(value);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * `item` without the fields equal to `defaults`. A nested object whose default has
 * fields of its own (session_affinity_attributes, passive_health…) loses its default
 * fields one by one; a record whose default is empty (header maps, geo maps) is kept
 * or dropped whole.
 */
function strip(item: Record<string, unknown>, defaults: Record<string, Json>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) {
    if (value === undefined) continue;
    const fallback = defaults[key];
    if (fallback !== undefined && same(value, fallback)) continue;
    out[key] = isObject(value) && isObject(fallback) && Object.keys(fallback).length > 0 ? strip(value, fallback) : value;
  }
  return out;
}

/** `item` with every field of `defaults` it lacks filled in (the inverse of strip). */
function fill(item: unknown, defaults: Record<string, Json>): unknown {
  if (!isObject(item)) return item;
  const out: Record<string, unknown> = { ...item };
  for (const [key, fallback] of Object.entries(defaults)) {
    if (!(key in out)) out[key] = structuredClone(fallback);
    else if (isObject(out[key]) && isObject(fallback) && Object.keys(fallback).length > 0) out[key] = fill(out[key], fallback);
  }
  return out;
}

/** The configuration with every default-valued field left out (validating it gives `config` back). */
export function compactConfig(config: Config, defaults: Defaults = DEFAULTS): Partial<Config> {
  const out: Record<string, unknown> = {};
  if (config.monitors.length > 0) out.monitors = config.monitors.map((m) => strip(m, defaults.monitor));
  if (config.pools.length > 0) {
    out.pools = config.pools.map((pool) => ({
      ...strip(pool, defaults.pool),
      origins: pool.origins.map((o) => strip(o, defaults.origin)),
    }));
  }
  if (config.load_balancers.length > 0) out.load_balancers = config.load_balancers.map((lb) => strip(lb, defaults.load_balancer));
  return out as Partial<Config>;
}

/** One resource (a pool with its origins) without its default-valued fields. */
export function compactResource(kind: 'monitor' | 'pool' | 'load_balancer', value: Record<string, unknown>): Record<string, unknown> {
  const out = strip(value, DEFAULTS[kind]);
  if (kind === 'pool' && Array.isArray(value.origins)) out.origins = value.origins.map((o: Record<string, unknown>) => strip(o, DEFAULTS.origin));
  return out;
}

/** The compact form as JSON text: what the size limit counts. */
export function compactJson(config: Config): string {
  return JSON.stringify(compactConfig(config));
}

/** UTF-8 bytes of a text. */
export const byteLength = (text: string): number => new TextEncoder().encode(text).byteLength;

/** Whether a text is over `limit` UTF-8 bytes; a short one (3 bytes a unit at most) is not encoded. */
export const exceedsBytes = (text: string, limit: number): boolean => text.length * 3 > limit && byteLength(text) > limit;

/** Why a configuration is too large to store, or undefined when it fits. */
export function oversize(config: Config, compact = compactJson(config)): string | undefined {
  const bytes = byteLength(compact);
  if (bytes > MAX_CONFIG_BYTES) {
    return `the configuration is ${bytes} bytes as compact JSON (defaults left out); at most ${MAX_CONFIG_BYTES} (1 MiB) may be stored`;
  }
  const full = byteLength(JSON.stringify(config));
  if (full > MAX_FULL_CONFIG_BYTES) {
    return `the configuration is ${full} bytes with its defaults written out, as GET returns it; at most ${MAX_FULL_CONFIG_BYTES} (8 MiB), so that it can always be PUT back`;
  }
  return undefined;
}

/** The key of the stored form that holds the defaults it was written against. */
const DEFAULTS_KEY = '$defaults';

/** The text the Durable Object stores: the compact form and the defaults it leaves out. */
export function storedText(compact: string): string {
  return `{"${DEFAULTS_KEY}":${JSON.stringify(DEFAULTS)}${compact === '{}' ? '' : `,${compact.slice(1, -1)}`}}`;
}

/**
 * A stored document ready for validation: a compact one gets back the defaults it was
 * written against; one stored with its defaults written out (before the compact form)
 * is as it was. Anything else passes through for validation to refuse.
 */
export function expandStored(document: unknown): unknown {
  if (!isObject(document) || !(DEFAULTS_KEY in document)) return document;
  const { [DEFAULTS_KEY]: raw, ...rest } = document;
  if (!isObject(raw)) return document;
  const part = (kind: keyof Defaults): Record<string, Json> => (isObject(raw[kind]) ? raw[kind] : {});
  const list = (value: unknown, each: (item: unknown) => unknown) => (Array.isArray(value) ? value.map(each) : value);
  const out: Record<string, unknown> = { ...rest };
  if ('monitors' in rest) out.monitors = list(rest.monitors, (m) => fill(m, part('monitor')));
  if ('pools' in rest) {
    out.pools = list(rest.pools, (p) => {
      const pool = fill(p, part('pool'));
      return isObject(pool) ? { ...pool, origins: list(pool.origins, (o) => fill(o, part('origin'))) } : pool;
    });
  }
  if ('load_balancers' in rest) out.load_balancers = list(rest.load_balancers, (lb) => fill(lb, part('load_balancer')));
  return out;
}
