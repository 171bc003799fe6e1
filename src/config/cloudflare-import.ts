import { isRegion } from '../geo/regions';
import {
  ID_PATTERN,
  LoadBalancerSchema,
  MonitorSchema,
  OriginSchema,
  parseOriginAddress,
  PoolSchema,
  type ConfigInput,
  type OriginPolicy,
  type PoolSteeringPolicy,
} from './schema';

// Turns what Cloudflare Load Balancing's API returns (monitors, pools, load balancers)
// into a Switchyard configuration. Pure: data in, data out.
//
// The result should behave as the Cloudflare objects did. Cloudflare ids (32 hex) become
// readable ids derived from names, and every reference is rewritten to them. What has
// no Switchyard equivalent is left out and listed in `unmapped`, each with the path of
// the input field ("pools[1].load_shedding"); paths index each kind in input order, for
// mixed arrays too. Odd values are noted and skipped, never thrown: the caller validates
// the result like any other configuration.

/** A Cloudflare setting that was not imported, or was changed on the way. */
export interface ImportNote {
  path: string;
  message: string;
}

/** A pool a load balancer refers to that was not imported: it has no usable origins. */
export interface EmptyPool {
  /** How notes name it: its Cloudflare name, quoted. */
  pool: string;
  /** Where it is in the input ("pools[0]"). */
  path: string;
  /** The references to it that were dropped ("load_balancers[0].default_pools[1]"). */
  referencedBy: string[];
}

export interface CloudflareImport {
  config: ConfigInput;
  unmapped: ImportNote[];
  /** Pools some load balancer refers to that were left out for lack of usable origins. */
  emptyPools: EmptyPool[];
}

type MonitorInput = NonNullable<ConfigInput['monitors']>[number];
type PoolInput = NonNullable<ConfigInput['pools']>[number];
type OriginInput = PoolInput['origins'][number];
type LoadBalancerInput = NonNullable<ConfigInput['load_balancers']>[number];
type Json = Record<string, unknown>;

const KINDS = ['monitors', 'pools', 'load_balancers'] as const;
type Kind = (typeof KINDS)[number];
type Sources = Record<Kind, unknown[]>;

/** Fields the API returns about an object's state, not its configuration: dropped silently. */
const READ_ONLY = new Set(['id', 'created_on', 'modified_on', 'healthy', 'disabled_at', 'failure_reason', 'zone_name', 'zone_id']);

/**
 * Converts a Cloudflare export: `{ monitors, pools, load_balancers }`, each an array or
 * an API response (`{ "result": [...], "success": true }`), or one array of such objects
 * told apart by their fields. Throws only when the input is not an export at all.
 */
export function importCloudflare(input: unknown): CloudflareImport {
  const unmapped: ImportNote[] = [];
  const note: Note = (path, message) => void unmapped.push({ path, message });
  const sources = collect(input, note);

  const ctx: Context = { note, monitors: new Map(), pools: new Map() };
  const monitors: MonitorInput[] = [];
  const pools: PoolInput[] = [];
  const loadBalancers: LoadBalancerInput[] = [];
  // Monitors first, then pools, then load balancers: each refers only to the kinds before it.
  const monitorIds = new IdSpace();
  eachObject(sources.monitors, 'monitors', note, (raw, path, i) => keep(monitors, importMonitor(raw, path, i, monitorIds, ctx)));
  const poolIds = new IdSpace();
  eachObject(sources.pools, 'pools', note, (raw, path, i) => keep(pools, importPool(raw, path, i, poolIds, ctx)));
  const lbIds = new IdSpace();
  const hostnames = new Set<string>();
  eachObject(sources.load_balancers, 'load_balancers', note, (raw, path) =>
    keep(loadBalancers, importLoadBalancer(raw, path, lbIds, hostnames, ctx)),
  );
  const emptyPools = [...ctx.pools.values()].flatMap((ref) =>
    ref.id === undefined && ref.path !== undefined && ref.referencedBy !== undefined ? [{ pool: ref.label, path: ref.path, referencedBy: ref.referencedBy }] : [],
  );
  return { config: { monitors, pools, load_balancers: loadBalancers }, unmapped, emptyPools };
}

/**
 * Why storing this conversion would take traffic down, or undefined when it would not
 * (SPEC §7's import guard): a conversion without any load balancer leaves every hostname
 * without one (404 no_load_balancer), and a pool a load balancer refers to that has no
 * usable origins would silently stop taking its share. A dry run may still show it.
 */
export function importRefusal(imported: CloudflareImport): string | undefined {
  const empty = imported.emptyPools.map(
    ({ pool, path, referencedBy }) => `pool ${pool} (${path}) has no usable origins but ${referencedBy.join(', ')} refer${referencedBy.length === 1 ? 's' : ''} to it`,
  );
  if ((imported.config.load_balancers ?? []).length === 0) {
    return [
      'the conversion has no load balancer: applied, it would leave every hostname without one (404 no_load_balancer)',
      ...empty,
      'see unmapped (a dry run, without apply=true) for what was left out',
    ].join('; ');
  }
  if (empty.length > 0) {
    return `${empty.join('; ')}: applying would drop it from those load balancers without a word; give it usable origins in the export, or remove the references`;
  }
  return undefined;
}

type Note = (path: string, message: string) => void;

/** What the importers share: where notes go, and what became of each Cloudflare id. */
interface Context {
  note: Note;
  monitors: Map<string, ImportedRef>;
  pools: Map<string, ImportedRef>;
}

/** What became of a Cloudflare object that others refer to by its Cloudflare id. */
interface ImportedRef {
  /** The Switchyard id; undefined when the object was not imported. */
  id: string | undefined;
  /** How notes name it: its Cloudflare name or description. */
  label: string;
  /** Why it was not imported. */
  dropped?: string;
  /** For monitors: the type, which decides the origins' scheme. */
  type?: string;
  /** For dropped pools: where the pool is in the input, and the references to it that were dropped. */
  path?: string;
  referencedBy?: string[];
}

function eachObject(items: readonly unknown[], kind: Kind, note: Note, fn: (raw: Json, path: string, index: number) => void): void {
  items.forEach((raw, index) => {
    const path = `${kind}[${index}]`;
    if (isObject(raw)) fn(raw, path, index);
    else note(path, 'not an object; ignored');
  });
}

function keep<T>(list: T[], item: T | undefined): void {
  if (item !== undefined) list.push(item);
}

// ---------------------------------------------------------------------------
// Input shapes

function collect(input: unknown, note: Note): Sources {
  const sources: Sources = { monitors: [], pools: [], load_balancers: [] };
  if (Array.isArray(input)) {
    collectMixed(input, 'input', sources, note);
    if (KINDS.every((kind) => sources[kind].length === 0)) {
      throw new Error('no Cloudflare monitor, pool or load balancer found in the array');
    }
    return sources;
  }
  if (!isObject(input)) {
    throw new Error(
      'expected a Cloudflare export: an object with "monitors", "pools" and/or "load_balancers", or an array of Cloudflare objects',
    );
  }
  if (KINDS.some((kind) => kind in input)) {
    for (const kind of KINDS) {
      const value = input[kind];
      if (value === undefined || value === null) continue;
      const list = resultList(value);
      if (list === undefined) note(kind, 'expected an array or an API response with a "result" array; ignored');
      else sources[kind] = list;
    }
    return sources;
  }
  // One API response, e.g. the body of GET /load_balancers/pools.
  const list = resultList(input);
  if (list !== undefined) return collect(list, note);
  throw new Error('expected a Cloudflare export: none of "monitors", "pools", "load_balancers" or "result" found');
}

function collectMixed(items: readonly unknown[], path: string, sources: Sources, note: Note): void {
  items.forEach((item, index) => {
    const at = `${path}[${index}]`;
    const kind = isObject(item) ? kindOf(item) : undefined;
    if (kind !== undefined) sources[kind].push(item);
    else if (isObject(item) && Array.isArray(item.result)) collectMixed(item.result, `${at}.result`, sources, note);
    else note(at, 'not recognized as a Cloudflare monitor, pool or load balancer; ignored');
  });
}

/** The items of an array or of an API response; a single `result` object counts as one item. */
function resultList(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (!isObject(value)) return undefined;
  if (Array.isArray(value.result)) return value.result;
  if (isObject(value.result)) return [value.result];
  return undefined;
}

const MONITOR_TYPES = new Set(['http', 'https', 'tcp', 'udp_icmp', 'icmp_ping', 'smtp']);

function kindOf(item: Json): Kind | undefined {
  if ('default_pools' in item || 'fallback_pool' in item || 'steering_policy' in item || 'region_pools' in item) return 'load_balancers';
  if ('origins' in item) return 'pools';
  if ('expected_codes' in item || 'consecutive_up' in item || (typeof item.type === 'string' && MONITOR_TYPES.has(item.type))) return 'monitors';
  return undefined;
}


// ---------------------------------------------------------------------------
// Monitors

const MONITOR_FIELDS = new Set([
  'type', 'method', 'path', 'header', 'port', 'timeout', 'retries', 'interval', 'expected_codes', 'expected_body',
  'follow_redirects', 'allow_insecure', 'probe_zone', 'consecutive_up', 'consecutive_down', 'description',
]);

/** The integer settings of a monitor, bounded as the schema bounds them. */
const MONITOR_NUMBERS = ['interval', 'timeout', 'retries', 'consecutive_up', 'consecutive_down'] as const;

function importMonitor(raw: Json, path: string, position: number, ids: IdSpace, ctx: Context): MonitorInput | undefined {
  const { note, monitors: refs } = ctx;
  const cfId = typeof raw.id === 'string' ? raw.id : undefined;
  const label = typeof raw.description === 'string' && raw.description !== '' ? `"${raw.description}"` : `"${cfId ?? path}"`;
  const type = raw.type ?? 'http';
  if (type !== 'http' && type !== 'https' && type !== 'tcp') {
    const reason = `${typeof type === 'string' ? type : 'unknown-type'} monitors are not supported`;
    note(`${path}.type`, `${JSON.stringify(type)} monitors are not supported (Switchyard checks http, https and tcp); monitor not imported`);
    if (cfId !== undefined) refs.set(cfId, { id: undefined, dropped: reason, label });
    return undefined;
  }

  const id = ids.take(slug(raw.description) ?? slug(`monitor-${cfId?.slice(0, 8) ?? position + 1}`) ?? `monitor-${position + 1}`);
  const monitor: MonitorInput = { id, type };
  const at = (field: string) => `${path}.${field}`;

  if (type !== 'tcp') {
    if (raw.method !== undefined && raw.method !== null) {
      const method = typeof raw.method === 'string' ? raw.method.toUpperCase() : raw.method;
      if (method === 'GET' || method === 'HEAD') monitor.method = method;
      else note(at('method'), `method ${JSON.stringify(raw.method)} is not supported (GET or HEAD); GET used`);
    }
    if (raw.path !== undefined && raw.path !== null) {
      if (typeof raw.path === 'string' && raw.path.startsWith('/')) monitor.path = raw.path;
      else note(at('path'), `expected a path starting with "/", got ${JSON.stringify(raw.path)}; "/" used`);
    }
    const header = headerMap(raw.header, at('header'), note);
    if (header !== undefined) monitor.header = header;
    if (raw.expected_codes !== undefined && raw.expected_codes !== null) {
      const codes = typeof raw.expected_codes === 'string' ? raw.expected_codes.replaceAll(' ', '').toLowerCase() : undefined;
      if (codes !== undefined && MonitorSchema.shape.expected_codes.safeParse(codes).success) monitor.expected_codes = codes;
      else note(at('expected_codes'), `${JSON.stringify(raw.expected_codes)} is not a status code pattern like "200" or "2xx"; "2xx" used`);
    }
    if (typeof raw.expected_body === 'string') monitor.expected_body = raw.expected_body;
    else if (raw.expected_body !== undefined && raw.expected_body !== null) note(at('expected_body'), 'expected a string; ignored');
    if (raw.follow_redirects === true) note(at('follow_redirects'), 'not supported: probes judge the first response and do not follow redirects');
    if (raw.allow_insecure === true) note(at('allow_insecure'), 'not supported: https probes always verify the certificate');
    if (typeof raw.probe_zone === 'string' && raw.probe_zone !== '') {
      note(at('probe_zone'), 'not supported: probes go straight to each origin; set a Host header to name the site');
    }
  }
  if (raw.port !== undefined && raw.port !== null && raw.port !== 0) {
    note(at('port'), `port ${JSON.stringify(raw.port)} is not supported: probes use each origin's own address and port`);
  }

  for (const field of MONITOR_NUMBERS) {
    let value = raw[field];
    // Cloudflare's 0 means "the first result decides", which is Switchyard's 1.
    if ((field === 'consecutive_up' || field === 'consecutive_down') && value === 0) value = 1;
    const { min, max } = bounds(MonitorSchema.shape[field]);
    const number = boundedInteger(value, min, max, at(field), note);
    if (number !== undefined) monitor[field] = number;
  }

  noteUnknownFields(raw, MONITOR_FIELDS, path, note);
  if (cfId !== undefined) refs.set(cfId, { id, label, type });
  return monitor;
}

// ---------------------------------------------------------------------------
// Pools and origins

const POOL_FIELDS = new Set([
  'name', 'description', 'enabled', 'minimum_origins', 'monitor', 'origins', 'origin_steering', 'latitude', 'longitude',
  'notification_email', 'notification_filter', 'check_regions', 'load_shedding', 'networks',
]);
const ORIGIN_FIELDS = new Set(['name', 'address', 'enabled', 'weight', 'header', 'virtual_network_id', 'port']);

function importPool(raw: Json, path: string, position: number, ids: IdSpace, ctx: Context): PoolInput | undefined {
  const { note, monitors, pools: refs } = ctx;
  const at = (field: string) => `${path}.${field}`;
  const cfId = typeof raw.id === 'string' ? raw.id : undefined;
  const label = typeof raw.name === 'string' && raw.name !== '' ? `"${raw.name}"` : `"${cfId ?? path}"`;

  let monitor: ImportedRef | undefined;
  if (typeof raw.monitor === 'string' && raw.monitor !== '') {
    const ref = monitors.get(raw.monitor);
    if (ref?.id !== undefined) monitor = ref;
    else if (ref !== undefined) note(at('monitor'), `monitor ${ref.label} was not imported (${ref.dropped}); the pool has no active health checks`);
    else note(at('monitor'), `unknown monitor "${raw.monitor}"; the pool has no active health checks`);
  } else if (raw.monitor !== undefined && raw.monitor !== null && raw.monitor !== '') {
    note(at('monitor'), 'expected a monitor id; ignored');
  }

  // An https monitor says the origins speak TLS.
  const scheme = monitor?.type === 'https' ? 'https' : 'http';
  const names = new IdSpace();
  const origins: OriginInput[] = [];
  if (Array.isArray(raw.origins)) {
    raw.origins.forEach((item, i) => {
      const origin = importOrigin(item, `${at('origins')}[${i}]`, i, scheme, names, note);
      if (origin !== undefined) origins.push(origin);
    });
  } else if (raw.origins !== undefined && raw.origins !== null) {
    note(at('origins'), 'expected an array of origins; ignored');
  }
  if (origins.length === 0) {
    note(at('origins'), 'no usable origins (a Switchyard pool needs at least one); pool not imported');
    if (cfId !== undefined) refs.set(cfId, { id: undefined, dropped: 'it has no usable origins', label, path });
    return undefined;
  }

  const id = ids.take(slug(raw.name) ?? slug(`pool-${cfId?.slice(0, 8) ?? position + 1}`) ?? `pool-${position + 1}`);
  const pool: Omit<PoolInput, 'origins'> = { id };

  if (typeof raw.name === 'string' && raw.name !== '') pool.name = raw.name.slice(0, 256);
  else if (raw.name !== undefined && raw.name !== null && raw.name !== '') note(at('name'), 'expected a string; ignored');
  const enabled = boolean(raw.enabled, at('enabled'), note);
  if (enabled !== undefined) pool.enabled = enabled;
  const { min, max } = bounds(PoolSchema.shape.minimum_origins);
  const minimum = boundedInteger(raw.minimum_origins, min, max, at('minimum_origins'), note);
  if (minimum !== undefined) pool.minimum_origins = minimum;
  if (monitor !== undefined) pool.monitor = monitor.id;

  const lat = raw.latitude ?? undefined;
  const lon = raw.longitude ?? undefined;
  if (lat !== undefined || lon !== undefined) {
    if (typeof lat === 'number' && typeof lon === 'number' && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
      pool.latitude = lat;
      pool.longitude = lon;
    } else {
      note(at('latitude'), `latitude ${JSON.stringify(lat ?? null)} and longitude ${JSON.stringify(lon ?? null)} are not a valid pair; ignored`);
    }
  }

  // Cloudflare's default origin steering is random; Switchyard's is round_robin.
  pool.origin_steering = { policy: 'random' };
  const steering = raw.origin_steering;
  const policy = isObject(steering) ? steering.policy : undefined;
  if (policy === 'random' || policy === 'hash' || policy === 'least_outstanding_requests') {
    pool.origin_steering = { policy: policy satisfies OriginPolicy };
  } else if (policy === 'least_connections') {
    pool.origin_steering = { policy: 'least_outstanding_requests' };
    note(at('origin_steering.policy'), 'least_connections is imported as least_outstanding_requests');
  } else if (policy !== undefined && policy !== null && policy !== '') {
    note(at('origin_steering.policy'), `unknown policy ${JSON.stringify(policy)}; random used`);
  } else if (steering !== undefined && steering !== null && !isObject(steering)) {
    note(at('origin_steering'), 'expected an object; random used');
  }

  if (typeof raw.notification_email === 'string' && raw.notification_email !== '') {
    note(at('notification_email'), 'not supported: set the HEALTH_WEBHOOK_URL var to be told about health changes');
  }
  if (!isEmpty(raw.notification_filter)) note(at('notification_filter'), 'not supported; health notifications go to HEALTH_WEBHOOK_URL unfiltered');
  if (!isEmpty(raw.check_regions)) note(at('check_regions'), 'not supported: probes run from the Worker, not from chosen regions');
  if (isObject(raw.load_shedding) && (positive(raw.load_shedding.default_percent) || positive(raw.load_shedding.session_percent))) {
    note(at('load_shedding'), 'not supported: Switchyard does not shed load from a healthy pool');
  }
  noteNetworks(raw.networks, at('networks'), note);

  noteUnknownFields(raw, POOL_FIELDS, path, note);
  if (cfId !== undefined) refs.set(cfId, { id, label });
  return { ...pool, origins };
}

function importOrigin(
  raw: unknown,
  path: string,
  position: number,
  scheme: 'http' | 'https',
  names: IdSpace,
  note: Note,
): OriginInput | undefined {
  if (!isObject(raw)) return void note(path, 'not an object; origin not imported');
  const at = (field: string) => `${path}.${field}`;

  let port: number | undefined;
  if (typeof raw.port === 'number' && Number.isInteger(raw.port) && raw.port >= 1 && raw.port <= 65535) port = raw.port;
  else if (raw.port !== undefined && raw.port !== null && raw.port !== 0) note(at('port'), `${JSON.stringify(raw.port)} is not a port; ignored`);

  const address = typeof raw.address === 'string' ? originAddress(raw.address, port, scheme) : undefined;
  if (address === undefined) {
    note(at('address'), `${JSON.stringify(raw.address ?? null)} is not a hostname or IP address; origin not imported`);
    return undefined;
  }

  const name = names.take(slug(raw.name) ?? slug(raw.address) ?? `origin-${position + 1}`);
  const origin: OriginInput = { name, address };

  if (raw.weight !== undefined && raw.weight !== null) {
    // Weights are relative in both: Cloudflare's 0..1 fractions need no rescaling.
    const { max } = bounds(OriginSchema.shape.weight);
    if (typeof raw.weight === 'number' && Number.isFinite(raw.weight) && raw.weight >= 0) {
      origin.weight = Math.min(raw.weight, max);
      if (raw.weight > max) note(at('weight'), `${raw.weight} clamped to ${max}`);
    } else {
      note(at('weight'), `expected a number >= 0, got ${JSON.stringify(raw.weight)}; 1 used`);
    }
  }
  const enabled = boolean(raw.enabled, at('enabled'), note);
  if (enabled !== undefined) origin.enabled = enabled;
  const header = headerMap(raw.header, at('header'), note);
  if (header !== undefined) origin.header = header;
  if (typeof raw.virtual_network_id === 'string' && raw.virtual_network_id !== '') {
    note(at('virtual_network_id'), 'not supported: Switchyard reaches the address directly, not through a Cloudflare Tunnel network');
  }

  noteUnknownFields(raw, ORIGIN_FIELDS, path, note);
  return origin;
}

/**
 * A Cloudflare origin address (hostname or IP, IPv6 without brackets) as an absolute
 * URL. A full URL is accepted too. The `port` field, when set, replaces the port.
 */
function originAddress(address: string, port: number | undefined, scheme: 'http' | 'https'): string | undefined {
  let text = address.trim();
  if (text === '') return undefined;
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
  // More than one colon and no brackets: a bare IPv6 address.
  if (!hasScheme && !text.startsWith('[') && text.indexOf(':') !== text.lastIndexOf(':')) text = `[${text}]`;
  const url = parseOriginAddress(hasScheme ? text : `${scheme}://${text}`);
  if (url === undefined || (!hasScheme && url.pathname !== '/')) return undefined;
  if (port !== undefined) url.port = String(port);
  return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

// ---------------------------------------------------------------------------
// Load balancers

const LOAD_BALANCER_FIELDS = new Set([
  'name', 'description', 'enabled', 'proxied', 'ttl', 'default_pools', 'fallback_pool', 'region_pools', 'country_pools',
  'pop_pools', 'steering_policy', 'random_steering', 'session_affinity', 'session_affinity_ttl',
  'session_affinity_attributes', 'adaptive_routing', 'location_strategy', 'rules', 'networks',
]);

const STEERING_POLICIES = new Set<string>(['', 'off', 'random', 'geo', 'proximity', 'least_outstanding_requests', 'dynamic_latency']);

function importLoadBalancer(raw: Json, path: string, ids: IdSpace, hostnames: Set<string>, ctx: Context): LoadBalancerInput | undefined {
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

  const region = geoPools(raw.region_pools, at('region_pools'), isRegion, 'one of the 13 Cloudflare region codes', list, note);
  if (region !== undefined) lb.region_pools = region;
  const country = geoPools(raw.country_pools, at('country_pools'), (code) => /^[A-Z]{2}$/.test(code), 'an ISO country code', list, note);
  if (country !== undefined) lb.country_pools = country;
  const pop = geoPools(raw.pop_pools, at('pop_pools'), (code) => /^[A-Z]{3}$/.test(code), 'an IATA colo code', list, note);
  if (pop !== undefined) lb.pop_pools = pop;

  const policy = raw.steering_policy;
  if (typeof policy === 'string' && STEERING_POLICIES.has(policy)) lb.steering_policy = policy as PoolSteeringPolicy;
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
    note(at('rules'), `${raw.rules.length} rule(s) not imported: Switchyard has no load balancer rules`);
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
  if (mode === 'none' || mode === 'cookie' || mode === 'ip_cookie' || mode === 'header') lb.session_affinity = mode;
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
      if (options.includes(value as T)) return value as T;
      note(where(field), `${JSON.stringify(value)} is not one of ${options.join(', ')}; ignored`);
      return undefined;
    };
    const samesite = choose('samesite', ['Auto', 'Lax', 'None', 'Strict'] as const);
    if (samesite !== undefined) attributes.samesite = samesite;
    const secure = choose('secure', ['Auto', 'Always', 'Never'] as const);
    if (secure !== undefined) attributes.secure = secure;
    const failover = choose('zero_downtime_failover', ['none', 'temporary', 'sticky'] as const);
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

function noteNetworks(value: unknown, path: string, note: Note): void {
  if (Array.isArray(value) && value.some((network) => network !== 'cloudflare')) {
    note(path, `only the "cloudflare" network is supported; ${JSON.stringify(value)} ignored`);
  }
}

// ---------------------------------------------------------------------------
// Small pieces

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Absent or carrying nothing: what Cloudflare returns for a setting left at its default. */
function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  return isObject(value) && Object.values(value).every(isEmpty);
}

function positive(value: unknown): boolean {
  return typeof value === 'number' && value > 0;
}

/** A readable id: lower-case, accents dropped, anything outside [a-z0-9_-] turned into "-". */
function slug(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  const out = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+/, '')
    .slice(0, 64)
    .replace(/[-_]+$/, '');
  return ID_PATTERN.test(out) ? out : undefined;
}

/** Hands out ids unique within one namespace: "eu", then "eu-2", "eu-3". */
class IdSpace {
  private readonly used = new Set<string>();

  take(base: string): string {
    let id = base;
    for (let n = 2; this.used.has(id); n++) {
      const suffix = `-${n}`;
      id = base.slice(0, 64 - suffix.length).replace(/[-_]+$/, '') + suffix;
    }
    this.used.add(id);
    return id;
  }
}

function boolean(value: unknown, path: string, note: Note): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  note(path, `expected true or false, got ${JSON.stringify(value)}; ignored`);
  return undefined;
}

/** An integer within [min, max]: other numbers are rounded and clamped with a note, non-numbers noted and skipped. */
function boundedInteger(value: unknown, min: number, max: number, path: string, note: Note): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    note(path, `expected a number, got ${JSON.stringify(value)}; ignored`);
    return undefined;
  }
  const out = Math.min(max, Math.max(min, Math.round(value)));
  const range = max === Infinity ? `>= ${min}` : `${min}..${max}`;
  if (out !== value) note(path, `${value} changed to ${out} (Switchyard allows whole numbers ${range})`);
  return out;
}

/** The numeric range a schema field allows, read from the schema so the two cannot drift. */
function bounds(field: { unwrap(): { minValue: number | null; maxValue: number | null } }): { min: number; max: number } {
  const inner = field.unwrap();
  return { min: inner.minValue ?? -Infinity, max: inner.maxValue ?? Infinity };
}

function headerMap(value: unknown, path: string, note: Note): Record<string, string[]> | undefined {
  if (isEmpty(value)) return undefined;
  if (!isObject(value)) return void note(path, 'expected an object of header name -> values; ignored');
  const out: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(value)) {
    const list = typeof values === 'string' ? [values] : Array.isArray(values) && values.every((v) => typeof v === 'string') ? values : undefined;
    if (name === '' || list === undefined) note(`${path}.${name}`, 'expected a list of strings; header ignored');
    else out[name] = [...(list as string[])];
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function noteUnknownFields(raw: Json, known: ReadonlySet<string>, path: string, note: Note): void {
  for (const [key, value] of Object.entries(raw)) {
    if (!known.has(key) && !READ_ONLY.has(key) && !isEmpty(value)) note(`${path}.${key}`, 'not a Switchyard setting; ignored');
  }
}
