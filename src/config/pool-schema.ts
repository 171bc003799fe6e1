import { z } from 'zod';
import { HEADER_NAME } from './header-rules';
import { REGIONS, type Region } from '../geo/regions';
import { headerMap, id, latitude, longitude } from './fields';

// Origins and pools (SPEC §1): addresses, origin steering with its hash key,
// Cloudflare's load shedding and check regions.

/** An absolute http(s) URL (a path prefix is allowed) or host[:port]. */
export const originAddress = z
  .string()
  .min(1)
  .refine((value) => parseOriginAddress(value) !== undefined, {
    message: 'must be an absolute http(s) URL or host[:port]',
  });

export function parseOriginAddress(address: string): URL | undefined {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `http://${address}`;
  if (!URL.canParse(withScheme)) return undefined;
  const url = new URL(withScheme);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.hostname === '' || url.username !== '' || url.password !== '') return undefined;
  if (url.search !== '' || url.hash !== '') return undefined;
  return url;
}

/**
 * Where clients can reach an origin themselves (redirect steering, SPEC §9): an
 * absolute http(s) URL, a path prefix allowed, without credentials, query or fragment.
 */
export function parsePublicUrl(value: string): URL | undefined {
  if (!/^https?:\/\//i.test(value) || value.includes('?') || value.includes('#')) return undefined;
  const url = URL.parse(value);
  if (url === null || url.hostname === '' || url.username !== '' || url.password !== '') return undefined;
  return url;
}

/** A binding's name as wrangler.toml declares it; "" = none. */
export const BINDING_NAME = /^(?:[A-Za-z_][A-Za-z0-9_]{0,63})?$/;

/** A URL hostname that is an IPv4 address or a bracketed IPv6 one (WHATWG URL parsing normalises both). */
export function isIpLiteral(hostname: string): boolean {
  return hostname.startsWith('[') || /^\d{1,3}(?:\.\d{1,3}){3}$/.test(hostname);
}

export const OriginSchema = z.strictObject({
  name: id,
  address: originAddress,
  weight: z.number().min(0).max(1_000_000).default(1),
  enabled: z.boolean().default(true),
  drain: z.boolean().default(false),
  backup: z.boolean().default(false),
  header: headerMap.default({}),
  network: z
    .string()
    .regex(BINDING_NAME, 'must be the name of a Workers VPC binding (letters, digits, _) or ""')
    .default(''),
  public_url: z
    .string()
    .max(2048)
    .refine((value) => value === '' || parsePublicUrl(value) !== undefined, {
      message: 'must be an absolute http(s) URL without credentials, query or fragment, or ""',
    })
    .optional()
    .meta({ description: 'absolute URL clients can reach this origin at, for redirect steering; absent or "" = none' }),
});

export const ORIGIN_POLICIES = ['round_robin', 'random', 'hash', 'least_outstanding_requests'] as const;
export type OriginPolicy = (typeof ORIGIN_POLICIES)[number];

/** What the hash origin policy hashes: the client IP, the path, path and query, or one header, cookie or query parameter. */
export type HashKey =
  | { readonly kind: 'ip' | 'path' | 'uri' }
  | { readonly kind: 'header' | 'cookie' | 'query'; readonly name: string };

const NAMED_HASH_KEYS = ['header', 'cookie', 'query'] as const;

/** "ip", "path", "uri", "header:<name>", "cookie:<name>" or "query:<name>", the name an RFC 9110 token; else undefined. */
export function parseHashKey(value: string): HashKey | undefined {
  if (value === 'ip' || value === 'path' || value === 'uri') return { kind: value };
  const colon = value.indexOf(':');
  const kind = value.slice(0, colon);
  const name = value.slice(colon + 1);
  if (colon < 0 || !(NAMED_HASH_KEYS as readonly string[]).includes(kind) || !HEADER_NAME.test(name)) return undefined;
  return { kind: kind as (typeof NAMED_HASH_KEYS)[number], name };
}

export const hashKey = z
  .string()
  .max(256)
  .refine((value) => parseHashKey(value) !== undefined, {
    message: 'must be ip, path, uri, or header:, cookie: or query: followed by a name (an RFC 9110 token)',
  });

const percent = z.number().min(0).max(100);

/** Cloudflare's load_shedding; the session policy is hash only, as Cloudflare's (a random one would decay sessions away). */
const LOAD_SHEDDING_DEFAULT = { default_percent: 0, default_policy: 'random', session_percent: 0, session_policy: 'hash' } as const;
const loadShedding = z
  .strictObject({
    default_percent: percent.default(0),
    default_policy: z.enum(['random', 'hash']).default('random'),
    session_percent: percent.default(0),
    session_policy: z.enum(['hash']).default('hash'),
  })
  .default(LOAD_SHEDDING_DEFAULT);

/** How a pool picks its origins; a rule's origin_steering override (SPEC §9) has the same shape. */
export const originSteering = z
  .strictObject({ policy: z.enum(ORIGIN_POLICIES).default('round_robin'), hash_key: hashKey.default('ip') })
  .superRefine((steering, ctx) => {
    if (steering.hash_key !== 'ip' && steering.policy !== 'hash') {
      ctx.addIssue({ code: 'custom', path: ['hash_key'], message: `only the hash policy hashes a key; the policy is ${steering.policy}` });
    }
  });

/** Cloudflare's region codes a pool may be probed from, and ALL_REGIONS for every one of them (SPEC §4). */
export const CHECK_REGIONS = [...REGIONS, 'ALL_REGIONS'] as const;
export type CheckRegion = (typeof CHECK_REGIONS)[number];

const checkRegions = z
  .array(z.enum(CHECK_REGIONS))
  .max(REGIONS.length)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((region, index) => {
      if (seen.has(region)) ctx.addIssue({ code: 'custom', path: [index], message: `region "${region}" is already in this list` });
      seen.add(region);
    });
    if (list.includes('ALL_REGIONS') && list.length > 1) {
      ctx.addIssue({ code: 'custom', path: [list.indexOf('ALL_REGIONS')], message: 'ALL_REGIONS names every region: list it alone' });
    }
  })
  .default([])
  .meta({
    description:
      "Cloudflare region codes the pool is probed from, each by a prober of its own, or ALL_REGIONS for all 13: an origin is healthy while a majority of them say so (a tie counts as healthy), and the clients of a listed region are sent to it only while their region's prober finds it healthy too; [] = probed from the control plane alone",
  });

/** The regions a pool is probed from, ALL_REGIONS spelled out; empty when the control plane probes it. */
export function checkRegionsOf(pool: { check_regions?: readonly CheckRegion[] }): readonly Region[] {
  const list = pool.check_regions ?? [];
  if (list.includes('ALL_REGIONS')) return REGIONS;
  return list as readonly Region[];
}

export const poolFields = {
  id,
  name: z.string().max(256).optional(),
  enabled: z.boolean().default(true),
  minimum_origins: z.number().int().min(0).default(1),
  monitor: id.optional(),
  latitude: latitude.optional(),
  longitude: longitude.optional(),
  origin_steering: originSteering.default({ policy: 'round_robin', hash_key: 'ip' }),
  load_shedding: loadShedding,
  check_regions: checkRegions,
  slow_start: z.number().int().min(0).max(3600).default(0),
  origins: z.array(OriginSchema).min(1),
};

export function checkPool(
  pool: { origins: { name: string }[]; latitude?: number; longitude?: number },
  ctx: z.RefinementCtx,
): void {
  const seen = new Set<string>();
  pool.origins.forEach((origin, index) => {
    if (seen.has(origin.name)) {
      ctx.addIssue({ code: 'custom', path: ['origins', index, 'name'], message: `duplicate origin name "${origin.name}"` });
    }
    seen.add(origin.name);
  });
  if ((pool.latitude === undefined) !== (pool.longitude === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['latitude'], message: 'latitude and longitude go together' });
  }
}

export const PoolSchema = z.strictObject(poolFields).superRefine(checkPool);
