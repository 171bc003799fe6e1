import { REGIONS, isRegion } from '../../geo/regions';
import { LoadBalancerSchema, POOL_STEERING_POLICIES, type ConfigInput } from '../schema';
import { IdSpace, slug } from './ids';
import {
  boolean,
  boundedInteger,
  bounds,
  choices,
  isEmpty,
  isObject,
  isOneOf,
  noteNetworks,
  noteUnknownFields,
  positive,
  type Context,
  type ImportedRef,
  type Json,
  type Note,
} from './notes';

// Cloudflare load balancers to Switchyard's: the hostname from the name, every pool
// reference rewritten to the imported pool's id (a reference to a pool that was not
// imported is dropped, with a note), steering, affinity and random weights kept;
// rules, adaptive routing and DNS-only load balancing have no equivalent.

export type LoadBalancerInput = NonNullable<ConfigInput['load_balancers']>[number];

const AFFINITY_MODES = choices(LoadBalancerSchema.shape.session_affinity);
const AFFINITY_ATTRIBUTES = LoadBalancerSchema.shape.session_affinity_attributes.unwrap().shape;
const isCountryKey = (code: string) => LoadBalancerSchema.shape.country_pools.unwrap().keyType.safeParse(code).success;
const isPopKey = (code: string) => LoadBalancerSchema.shape.pop_pools.unwrap().keyType.safeParse(code).success;

const LOAD_BALANCER_FIELDS = new Set([
  'name', 'description', 'enabled', 'proxied', 'ttl', 'default_pools', 'fallback_pool', 'region_pools', 'country_pools',
  'pop_pools', 'steering_policy', 'random_steering', 'session_affinity', 'session_affinity_ttl',
  'session_affinity_attributes', 'adaptive_routing', 'location_strategy', 'rules', 'networks',
]);

export function importLoadBalancer(raw: Json, path: string, ids: IdSpace, hostnames: Set<string>, ctx: Context): LoadBalancerInput | undefined {
  const { note, pools } = ctx;
  const at = (field: string) => `${path}.${field}`;

  const name = typeof raw.name === 'string' ? raw.name.trim().toLowerCase().replace(/\.$/, '') : undefined;
  const hostname = name === undefined ? undefined : LoadBalancerSchema.shape.hostname.safeParse(name);
  if (hostname === undefined || !hostname.success) {
    return void note(at('name'), `${JSON.stringify(raw.name ?? null)} is not a hostname; load balancer not imported`);
  }
  if (hostnames.has(hostname.data)) {
    return void note(at('name'), `hostname "${hostname.data}" is already used by an earlier load balancer; not imported`);
  }

  const ref = (value: unknown, where: string) => poolRef(value, where, pools, note);
  const list = (value: unknown, where: string) => poolList(value, where, pools, note);

  const defaultPools = list(raw.default_pools, at('default_pools'));
  if (defaultPools.length === 0) {
    return void note(at('default_pools'), 'no imported pool left (a load balancer needs at least one); load balancer not imported');
  }

  hostnames.add(hostname.data);
  const id = ids.take(slug(hostname.data.replace(/^\*\./, 'wildcard.')) ?? 'lb');
  const lb: LoadBalancerInput = { id, hostname: hostname.data, default_pools: defaultPools };

  const enabled = boolean(raw.enabled, at('enabled'), note);
  if (enabled !== undefined) lb.enabled = enabled;
  if (raw.fallback_pool !== undefined && raw.fallback_pool !== null && raw.fallback_pool !== '') {
    const fallback = ref(raw.fallback_pool, at('fallback_pool'));
    if (fallback !== undefined) lb.fallback_pool = fallback;
  }

  const region = geoPools(raw.region_pools, at('region_pools'), isRegion, `one of the ${REGIONS.length} Cloudflare region codes`, list, note);
  if (region !== undefined) lb.region_pools = region;
  const country = geoPools(raw.country_pools, at('country_pools'), isCountryKey, 'an ISO country code', list, note);
  if (country !== undefined) lb.country_pools = country;
  const pop = geoPools(raw.pop_pools, at('pop_pools'), isPopKey, 'an IATA colo code', list, note);
  if (pop !== undefined) lb.pop_pools = pop;

  const policy = raw.steering_policy;
  if (isOneOf(policy, POOL_STEERING_POLICIES)) lb.steering_policy = policy;
  else if (policy === 'least_connections') {
    lb.steering_policy = 'least_outstanding_requests';
    note(at('steering_policy'), 'least_connections is imported as least_outstanding_requests');
  } else if (policy !== undefined && policy !== null) {
    note(at('steering_policy'), `unknown steering policy ${JSON.stringify(policy)}; "" used`);
  }

  const random = randomSteering(raw.random_steering, at('random_steering'), pools, note);
  if (random !== undefined) lb.random_steering = random;

  importAffinity(raw, path, lb, note);

  if (raw.proxied === false) note(at('proxied'), 'DNS-only (unproxied) load balancing is not supported: Switchyard always proxies; ttl is ignored');
  if (Array.isArray(raw.rules) && raw.rules.length > 0) {
    note(at('rules'), `${raw.rules.length} rule(s) not imported: the importer does not convert rules yet (write them as load balancer rules, README Rules)`);
  } else if (!isEmpty(raw.rules) && !Array.isArray(raw.rules)) note(at('rules'), 'expected an array; ignored');
  if (isObject(raw.adaptive_routing) && raw.adaptive_routing.failover_across_pools === true) {
    note(at('adaptive_routing'), 'failover_across_pools is not supported; retries stay within the candidates Switchyard picked');
  }
  const location = raw.location_strategy;
  if (isObject(location) && ((location.mode ?? 'pop') !== 'pop' || (location.prefer_ecs ?? 'proximity') !== 'proximity')) {
    note(at('location_strategy'), 'not supported: the client location is the PoP it reached and the location Cloudflare reports');
  }
  noteNetworks(raw.networks, at('networks'), note);

  noteUnknownFields(raw, LOAD_BALANCER_FIELDS, path, note);
  return lb;
}

function importAffinity(raw: Json, path: string, lb: LoadBalancerInput, note: Note): void {
  const at = (field: string) => `${path}.${field}`;
  const mode = raw.session_affinity;
  if (isOneOf(mode, AFFINITY_MODES)) lb.session_affinity = mode;
  else if (mode !== undefined && mode !== null && mode !== '') note(at('session_affinity'), `unknown mode ${JSON.stringify(mode)}; none used`);

  // Cloudflare returns 0 or nothing when affinity is off.
  if (raw.session_affinity_ttl !== 0) {
    const { min, max } = bounds(LoadBalancerSchema.shape.session_affinity_ttl);
    const ttl = boundedInteger(raw.session_affinity_ttl, min, max, at('session_affinity_ttl'), note);
    if (ttl !== undefined) lb.session_affinity_ttl = ttl;
  }

  const attrs = raw.session_affinity_attributes;
  const attributes: NonNullable<LoadBalancerInput['session_affinity_attributes']> = {};
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
  if (Object.keys(attributes).length > 0) lb.session_affinity_attributes = attributes;

  if (lb.session_affinity === 'header' && (attributes.headers ?? []).length === 0) {
    note(at('session_affinity'), 'header affinity without header names cannot work; none used');
    lb.session_affinity = 'none';
  }
}

function randomSteering(
  value: unknown,
  path: string,
  pools: Map<string, ImportedRef>,
  note: Note,
): LoadBalancerInput['random_steering'] | undefined {
  if (isEmpty(value)) return undefined;
  if (!isObject(value)) return void note(path, 'expected an object; ignored');
  const out: NonNullable<LoadBalancerInput['random_steering']> = {};
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
      const id = poolRef(cfId, where, pools, note);
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

function poolList(value: unknown, path: string, pools: Map<string, ImportedRef>, note: Note): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    note(path, 'expected an array of pool ids; ignored');
    return [];
  }
  const ids: string[] = [];
  value.forEach((item, i) => {
    const id = poolRef(item, `${path}[${i}]`, pools, note);
    if (id !== undefined && !ids.includes(id)) ids.push(id);
  });
  return ids;
}

function poolRef(value: unknown, path: string, pools: Map<string, ImportedRef>, note: Note): string | undefined {
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
