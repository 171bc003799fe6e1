import { REGIONS, isRegion } from '../../geo/regions';
import { LoadBalancerSchema, POOL_STEERING_POLICIES, type ConfigInput } from '../schema';
import {
  boundedInteger,
  bounds,
  choices,
  isEmpty,
  isObject,
  isOneOf,
  positive,
  type Context,
  type Json,
  type Note,
} from './notes';

// The settings a Cloudflare load balancer and a rule's overrides share, under the same
// names: pool lists and maps (every reference rewritten to the imported pool's id),
// steering policy, random weights, session affinity, and the routing options Switchyard
// does not have. One mapping for both, so a rule's override reads as its load balancer's
// field would.

export type LoadBalancerInput = NonNullable<ConfigInput['load_balancers']>[number];

/** The fields of a load balancer a rule's overrides may replace (Cloudflare's and Switchyard's alike). */
export type SteeringInput = Partial<
  Pick<
    LoadBalancerInput,
    | 'default_pools'
    | 'fallback_pool'
    | 'region_pools'
    | 'country_pools'
    | 'pop_pools'
    | 'steering_policy'
    | 'random_steering'
    | 'session_affinity'
    | 'session_affinity_ttl'
    | 'session_affinity_attributes'
  >
>;

export const STEERING_FIELDS = [
  'default_pools', 'fallback_pool', 'region_pools', 'country_pools', 'pop_pools', 'steering_policy', 'random_steering',
  'session_affinity', 'session_affinity_ttl', 'session_affinity_attributes',
] as const satisfies readonly (keyof SteeringInput)[];

const AFFINITY_MODES = choices(LoadBalancerSchema.shape.session_affinity);
const AFFINITY_ATTRIBUTES = LoadBalancerSchema.shape.session_affinity_attributes.unwrap().shape;
const isCountryKey = (code: string) => LoadBalancerSchema.shape.country_pools.unwrap().keyType.safeParse(code).success;
const isPopKey = (code: string) => LoadBalancerSchema.shape.pop_pools.unwrap().keyType.safeParse(code).success;

/**
 * Maps every steering field of `raw` but default_pools (the caller decides what an empty
 * list means) into `out`. `inherited` is, for a rule's overrides, the load balancer they
 * override: a field left out keeps its setting, which is what the notes then say.
 */
export function importSteering(raw: Json, path: string, out: SteeringInput, ctx: Context, inherited?: SteeringInput): void {
  const { note } = ctx;
  const at = (field: string) => `${path}.${field}`;
  const list = (value: unknown, where: string) => poolList(value, where, ctx);

  if (raw.fallback_pool !== undefined && raw.fallback_pool !== null && raw.fallback_pool !== '') {
    const fallback = poolRef(raw.fallback_pool, at('fallback_pool'), ctx);
    if (fallback !== undefined) out.fallback_pool = fallback;
  }

  const region = geoPools(raw.region_pools, at('region_pools'), isRegion, `one of the ${REGIONS.length} Cloudflare region codes`, list, note);
  if (region !== undefined) out.region_pools = region;
  const country = geoPools(raw.country_pools, at('country_pools'), isCountryKey, 'an ISO country code', list, note);
  if (country !== undefined) out.country_pools = country;
  const pop = geoPools(raw.pop_pools, at('pop_pools'), isPopKey, 'an IATA colo code', list, note);
  if (pop !== undefined) out.pop_pools = pop;

  const policy = raw.steering_policy;
  if (isOneOf(policy, POOL_STEERING_POLICIES)) out.steering_policy = policy;
  else if (policy === 'least_connections') {
    out.steering_policy = 'least_outstanding_requests';
    note(at('steering_policy'), 'least_connections is imported as least_outstanding_requests');
  } else if (policy !== undefined && policy !== null) {
    note(at('steering_policy'), `unknown steering policy ${JSON.stringify(policy)}; ${inherited ? "the load balancer's applies" : '"" used'}`);
  }

  const random = randomSteering(raw.random_steering, at('random_steering'), ctx);
  if (random !== undefined) out.random_steering = random;

  importAffinity(raw, path, out, note, inherited);
}

/** adaptive_routing and location_strategy: noted only where they ask for what Switchyard does not do. */
export function noteRoutingOptions(raw: Json, path: string, note: Note): void {
  if (isObject(raw.adaptive_routing) && raw.adaptive_routing.failover_across_pools === true) {
    note(`${path}.adaptive_routing`, 'failover_across_pools is not supported; retries stay within the candidates Switchyard picked');
  }
  const location = raw.location_strategy;
  if (isObject(location) && ((location.mode ?? 'pop') !== 'pop' || (location.prefer_ecs ?? 'proximity') !== 'proximity')) {
    note(`${path}.location_strategy`, 'not supported: the client location is the PoP it reached and the location Cloudflare reports');
  }
}

function importAffinity(raw: Json, path: string, out: SteeringInput, note: Note, inherited: SteeringInput | undefined): void {
  const at = (field: string) => `${path}.${field}`;
  const mode = raw.session_affinity;
  if (isOneOf(mode, AFFINITY_MODES)) out.session_affinity = mode;
  else if (mode !== undefined && mode !== null && mode !== '') {
    note(at('session_affinity'), `unknown mode ${JSON.stringify(mode)}; ${inherited ? "the load balancer's applies" : 'none used'}`);
  }

  // Cloudflare returns 0 or nothing when affinity is off.
  if (raw.session_affinity_ttl !== 0) {
    const { min, max } = bounds(LoadBalancerSchema.shape.session_affinity_ttl);
    const ttl = boundedInteger(raw.session_affinity_ttl, min, max, at('session_affinity_ttl'), note);
    if (ttl !== undefined) out.session_affinity_ttl = ttl;
  }

  const attrs = raw.session_affinity_attributes;
  const attributes: NonNullable<SteeringInput['session_affinity_attributes']> = {};
  if (isObject(attrs)) {
    const where = (field: string) => at(`session_affinity_attributes.${field}`);
    const choose = <T extends string>(field: string, options: readonly T[]): T | undefined => {
      const value = attrs[field];
      if (value === undefined || value === null || value === '') return undefined;
      if (isOneOf(value, options)) return value;
      note(where(field), `${JSON.stringify(value)} is not one of ${options.join(', ')}; ignored`);
      return undefined;
    };
    const samesite = choose('samesite', choices(AFFINITY_ATTRIBUTES.samesite));
    if (samesite !== undefined) attributes.samesite = samesite;
    const secure = choose('secure', choices(AFFINITY_ATTRIBUTES.secure));
    if (secure !== undefined) attributes.secure = secure;
    const failover = choose('zero_downtime_failover', choices(AFFINITY_ATTRIBUTES.zero_downtime_failover));
    if (failover !== undefined) attributes.zero_downtime_failover = failover;
    if (Array.isArray(attrs.headers) && attrs.headers.every((h) => typeof h === 'string' && h !== '')) {
      if (attrs.headers.length > 0) attributes.headers = [...(attrs.headers as string[])];
    } else if (!isEmpty(attrs.headers)) note(where('headers'), 'expected a list of header names; ignored');
    if (positive(attrs.drain_duration)) note(where('drain_duration'), 'not supported: drain origins one by one with "drain": true instead');
    if (attrs.require_all_headers === true) note(where('require_all_headers'), 'not supported: the session key is made of the headers that are present');
  } else if (!isEmpty(attrs)) note(at('session_affinity_attributes'), 'expected an object; ignored');
  if (Object.keys(attributes).length > 0) out.session_affinity_attributes = attributes;

  // An override's attributes replace the load balancer's whole: keep the header names it does not change.
  const inheritedHeaders = inherited?.session_affinity_attributes?.headers ?? [];
  if (out.session_affinity_attributes !== undefined && attributes.headers === undefined && inheritedHeaders.length > 0) {
    attributes.headers = [...inheritedHeaders];
  }
  const effectiveMode = out.session_affinity ?? inherited?.session_affinity;
  const headers = (out.session_affinity_attributes ?? inherited?.session_affinity_attributes)?.headers ?? [];
  if (effectiveMode === 'header' && headers.length === 0) {
    note(at('session_affinity'), 'header affinity without header names cannot work; none used');
    out.session_affinity = 'none';
  }
}

function randomSteering(value: unknown, path: string, ctx: Context): SteeringInput['random_steering'] | undefined {
  const { note } = ctx;
  if (isEmpty(value)) return undefined;
  if (!isObject(value)) return void note(path, 'expected an object; ignored');
  const out: NonNullable<SteeringInput['random_steering']> = {};
  const weight = (w: unknown, where: string) => {
    if (typeof w === 'number' && Number.isFinite(w) && w >= 0) return w;
    note(where, `expected a number >= 0, got ${JSON.stringify(w)}; ignored`);
    return undefined;
  };
  if (value.default_weight !== undefined && value.default_weight !== null) {
    const w = weight(value.default_weight, `${path}.default_weight`);
    if (w !== undefined) out.default_weight = w;
  }
  if (isObject(value.pool_weights)) {
    const weights: Record<string, number> = {};
    for (const [cfId, w] of Object.entries(value.pool_weights)) {
      const where = `${path}.pool_weights.${cfId}`;
      const id = poolRef(cfId, where, ctx);
      const number = id === undefined ? undefined : weight(w, where);
      if (id !== undefined && number !== undefined) weights[id] = number;
    }
    if (Object.keys(weights).length > 0) out.pool_weights = weights;
  } else if (!isEmpty(value.pool_weights)) note(`${path}.pool_weights`, 'expected an object; ignored');
  return Object.keys(out).length > 0 ? out : undefined;
}

/** region/country/pop pools: keys upper-cased and checked, pool ids rewritten, emptied entries left out. */
function geoPools(
  value: unknown,
  path: string,
  valid: (code: string) => boolean,
  what: string,
  list: (value: unknown, where: string) => string[],
  note: Note,
): Record<string, string[]> | undefined {
  if (isEmpty(value)) return undefined;
  if (!isObject(value)) return void note(path, 'expected an object; ignored');
  const out: Record<string, string[]> = {};
  for (const [key, pools] of Object.entries(value)) {
    const code = key.toUpperCase();
    if (!valid(code)) {
      note(`${path}.${key}`, `"${key}" is not ${what}; entry ignored`);
      continue;
    }
    const ids = list(pools, `${path}.${key}`);
    if (ids.length > 0) out[code] = ids;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A list of Cloudflare pool ids as imported pool ids, each once; dropped references noted. */
export function poolList(value: unknown, path: string, ctx: Context): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    ctx.note(path, 'expected an array of pool ids; ignored');
    return [];
  }
  const ids: string[] = [];
  value.forEach((item, i) => {
    const id = poolRef(item, `${path}[${i}]`, ctx);
    if (id !== undefined && !ids.includes(id)) ids.push(id);
  });
  return ids;
}

function poolRef(value: unknown, path: string, { pools, note }: Context): string | undefined {
  if (typeof value !== 'string') return void note(path, `expected a pool id, got ${JSON.stringify(value)}; dropped`);
  const ref = pools.get(value);
  if (ref?.id !== undefined) return ref.id;
  if (ref !== undefined) {
    note(path, `pool ${ref.label} was not imported (${ref.dropped}); reference dropped`);
    (ref.referencedBy ??= []).push(path);
  }
  else note(path, `unknown pool "${value}"; reference dropped`);
  return undefined;
}
