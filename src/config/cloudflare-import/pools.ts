import { isRegion } from '../../geo/regions';
import { OriginSchema, ORIGIN_POLICIES, parseOriginAddress, PoolSchema, type CheckRegion, type ConfigInput } from '../schema';
import { IdSpace, slug } from './ids';
import {
  boolean,
  boundedInteger,
  bounds,
  choices,
  headerMap,
  isEmpty,
  isObject,
  isOneOf,
  noteNetworks,
  noteUnknownFields,
  type Context,
  type ImportedRef,
  type Json,
  type Note,
} from './notes';

// Cloudflare pools and their origins to Switchyard's. An origin's address becomes a
// URL (https when the pool's monitor is https); a pool left without usable origins is
// not imported, and is remembered so the load balancers that refer to it can say so.

export type PoolInput = NonNullable<ConfigInput['pools']>[number];
type OriginInput = PoolInput['origins'][number];

const POOL_FIELDS = new Set([
  'name', 'description', 'enabled', 'minimum_origins', 'monitor', 'origins', 'origin_steering', 'latitude', 'longitude',
  'notification_email', 'notification_filter', 'check_regions', 'load_shedding', 'networks',
]);
const ORIGIN_FIELDS = new Set(['name', 'address', 'enabled', 'weight', 'header', 'virtual_network_id', 'port']);

export function importPool(raw: Json, path: string, position: number, ids: IdSpace, ctx: Context): PoolInput | undefined {
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
  if (isOneOf(policy, ORIGIN_POLICIES)) {
    pool.origin_steering = { policy };
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
  const regions = checkRegions(raw.check_regions, at('check_regions'), note);
  if (regions !== undefined) pool.check_regions = regions;
  const shedding = loadShedding(raw.load_shedding, at('load_shedding'), note);
  if (shedding !== undefined) pool.load_shedding = shedding;
  noteNetworks(raw.networks, at('networks'), note);

  noteUnknownFields(raw, POOL_FIELDS, path, note);
  if (cfId !== undefined) refs.set(cfId, { id, label });
  return { ...pool, origins };
}

/**
 * check_regions as Cloudflare's: its null (every data centre) is ALL_REGIONS, a list of
 * region codes is kept, an unknown code left out with a note; absent or [] = the
 * control plane probes the pool.
 */
function checkRegions(value: unknown, path: string, note: Note): CheckRegion[] | undefined {
  if (value === undefined) return undefined;
  if (value === null) return ['ALL_REGIONS'];
  if (!Array.isArray(value)) return void note(path, 'expected a list of region codes or null; the control plane probes the pool');
  if (value.includes('ALL_REGIONS')) {
    if (value.length > 1) note(path, 'ALL_REGIONS names every region; the other codes are left out');
    return ['ALL_REGIONS'];
  }
  const kept = new Set<CheckRegion>();
  value.forEach((code, i) => {
    if (typeof code === 'string' && isRegion(code)) kept.add(code);
    else note(`${path}[${i}]`, `${JSON.stringify(code)} is not a Cloudflare region code (WNAM, ENAM, WEU, EEU, NSAM, SSAM, OC, ME, NAF, SAF, SAS, SEAS, NEAS); left out`);
  });
  return kept.size === 0 ? undefined : [...kept];
}

const SHEDDING = PoolSchema.shape.load_shedding.unwrap().shape;
const SHEDDING_FIELDS = new Set(Object.keys(SHEDDING));

/** load_shedding has Cloudflare's field names and meaning: percentages kept (clamped to 0..100), policies checked. */
function loadShedding(value: unknown, path: string, note: Note): PoolInput['load_shedding'] {
  if (isEmpty(value)) return undefined;
  if (!isObject(value)) return void note(path, 'expected an object; ignored');
  const out: NonNullable<PoolInput['load_shedding']> = {};
  const share = (field: 'default_percent' | 'session_percent') => {
    const raw = value[field];
    if (raw === undefined || raw === null) return undefined;
    if (typeof raw !== 'number' || !Number.isFinite(raw)) return void note(`${path}.${field}`, `expected a number, got ${JSON.stringify(raw)}; 0 used`);
    const clamped = Math.min(100, Math.max(0, raw));
    if (clamped !== raw) note(`${path}.${field}`, `${raw} changed to ${clamped} (a percentage, 0..100)`);
    return clamped;
  };
  const policy = <T extends string>(field: 'default_policy' | 'session_policy', options: readonly T[], fallback: T): T | undefined => {
    const raw = value[field];
    if (raw === undefined || raw === null || raw === '') return undefined;
    if (isOneOf(raw, options)) return raw;
    return void note(`${path}.${field}`, `${JSON.stringify(raw)} is not one of ${options.join(', ')}; ${fallback} used`);
  };
  const defaultPercent = share('default_percent');
  if (defaultPercent !== undefined) out.default_percent = defaultPercent;
  const defaultPolicy = policy('default_policy', choices(SHEDDING.default_policy), 'random');
  if (defaultPolicy !== undefined) out.default_policy = defaultPolicy;
  const sessionPercent = share('session_percent');
  if (sessionPercent !== undefined) out.session_percent = sessionPercent;
  const sessionPolicy = policy('session_policy', choices(SHEDDING.session_policy), 'hash');
  if (sessionPolicy !== undefined) out.session_policy = sessionPolicy;
  noteUnknownFields(value, SHEDDING_FIELDS, path, note);
  return Object.keys(out).length > 0 ? out : undefined;
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
