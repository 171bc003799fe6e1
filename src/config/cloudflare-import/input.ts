import { isObject, type Json, type Note } from './notes';

// The shapes an export comes in: `{ monitors, pools, load_balancers }`, each an array
// or an API response (`{ "result": [...] }`), one API response, or one array of
// Cloudflare objects of any kinds, told apart by their fields.

export const KINDS = ['monitors', 'pools', 'load_balancers'] as const;
export type Kind = (typeof KINDS)[number];
export type Sources = Record<Kind, unknown[]>;

/** The objects of each kind in the input; throws only when the input is not an export at all. */
export function collect(input: unknown, note: Note): Sources {
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

/** Cloudflare's monitor types, Switchyard's and the ones it cannot check, by which a monitor is recognized. */
const CLOUDFLARE_MONITOR_TYPES = new Set(['http', 'https', 'tcp', 'udp_icmp', 'icmp_ping', 'smtp']);

function kindOf(item: Json): Kind | undefined {
  if ('default_pools' in item || 'fallback_pool' in item || 'steering_policy' in item || 'region_pools' in item) return 'load_balancers';
  if ('origins' in item) return 'pools';
  if ('expected_codes' in item || 'consecutive_up' in item || (typeof item.type === 'string' && CLOUDFLARE_MONITOR_TYPES.has(item.type))) return 'monitors';
  return undefined;
}

/** Calls `fn` for each object of a kind, with its path ("pools[1]"); anything else is noted. */
export function eachObject(items: readonly unknown[], kind: Kind, note: Note, fn: (raw: Json, path: string, index: number) => void): void {
  items.forEach((raw, index) => {
    const path = `${kind}[${index}]`;
    if (isObject(raw)) fn(raw, path, index);
    else note(path, 'not an object; ignored');
  });
}
