import { parse } from 'hono/utils/cookie';
import ipaddr from 'ipaddr.js';
import type { RateLimitKey } from '../config/schema';
import type { Env } from '../env';
import { LbError } from '../errors';
import type { ClientFacts } from '../steering/facts';
import { describeHashKey } from '../steering/hash-key';
import { hash32 } from '../steering/origin-pick';
import type { CompiledLoadBalancer } from '../steering/plan';
import { normalizedPath } from '../steering/rules';

// A rule's rate_limit (SPEC §9): the request is counted with a Workers Rate Limiting
// binding ([[ratelimits]] in wrangler.toml, where the limit and period live) under its
// key; over the limit it is answered 429 rate_limited with Retry-After. Every matching
// rule's limit counts the request, and any one of them refuses it. The binding counts
// per Cloudflare location, as the platform does. A rule naming a binding the Worker
// does not have, or a binding that fails or does not answer in time, lets traffic
// through: a rate limit protects origins, and must not become the outage itself.
//
// A key is what a client would have to change to get a fresh count, so it is made
// canonical: an IPv6 client is counted by its /64 (one subscriber's whole network), an
// IPv4-mapped address as IPv4, a path as Cloudflare normalises URLs, a header by its
// first value.

/** The longest key value sent as it is; a longer one (a hostile header) is sent as a hash and its length. */
const MAX_KEY_VALUE = 256;
/** How long the binding may take (it answers from a local cache in production) before the request goes on uncounted. */
const LIMIT_TIMEOUT_MS = 100;

/** Bindings already reported missing or failing in this isolate, so the log says it once each. */
const reported = new Set<string>();

/** What the binding is asked for: the load balancer, then the key's value (the client address when the request has none). */
export function rateLimitKey(lbId: string, key: RateLimitKey, url: URL, headers: Headers, facts: ClientFacts): string {
  let value: string | undefined;
  switch (key.kind) {
    case 'path':
      value = normalizedPath(url.pathname);
      break;
    case 'header':
      value = firstValue(headers.get(key.name));
      break;
    case 'cookie': {
      const cookie = headers.get('cookie');
      value = cookie === null ? undefined : parse(cookie, key.name)[key.name];
      break;
    }
    case 'ip':
      break;
  }
  const kind = value === undefined || value === '' ? 'ip' : key.kind;
  const text = kind === 'ip' ? clientNetwork(facts.ip) : value!;
  const bounded = text.length <= MAX_KEY_VALUE ? text : `#${hash32(text).toString(36)}:${text.length}:${text.slice(0, 64)}`;
  return `${lbId}|${kind}|${bounded}`;
}

/** A repeated header arrives joined with ", ": an origin reads its first value, and so does the count. */
function firstValue(joined: string | null): string | undefined {
  if (joined === null) return undefined;
  const comma = joined.indexOf(',');
  return (comma < 0 ? joined : joined.slice(0, comma)).trim();
}

/** The client's address in canonical form, an IPv6 one as its /64; "unknown" without one. */
export function clientNetwork(ip: string): string {
  if (ip === '') return 'unknown';
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip);
  if (address.kind() === 'ipv4') return address.toString();
  const parts = (address as ipaddr.IPv6).parts.slice(0, 4);
  return `${parts.map((part) => part.toString(16)).join(':')}::/64`;
}

/** Counts the request with each rate limit its matching rules name; throws 429 when one is over. */
export async function enforceRateLimits(env: Env, lb: CompiledLoadBalancer, url: URL, headers: Headers, facts: ClientFacts): Promise<void> {
  for (const limit of lb.rateLimits) {
    const binding = rateLimiter(env, limit.binding);
    if (binding === undefined) {
      once(`missing:${limit.binding}`, () =>
        console.warn(`rate_limit: this Worker has no Rate Limiting binding "${limit.binding}"; traffic passes (declare it under [[ratelimits]] in wrangler.toml)`),
      );
      continue;
    }
    const outcome = await countWith(binding, limit.binding, rateLimitKey(lb.config.id, limit.key, url, headers, facts));
    if (outcome !== false) continue;
    throw new LbError(429, 'rate_limited', `too many requests: over the limit of "${limit.binding}" for this ${describeHashKey(limit.key)}; retry after ${limit.period} s`, {
      headers: { 'retry-after': String(limit.period) },
    });
  }
}

/** The binding's verdict: false over the limit; true, or undefined when it failed or was late (the request goes on). */
async function countWith(binding: RateLimit, name: string, key: string): Promise<boolean | undefined> {
  try {
    const late = scheduler.wait(LIMIT_TIMEOUT_MS).then(() => 'late' as const);
    const outcome = await Promise.race([binding.limit({ key }), late]);
    if (outcome === 'late') {
      once(`late:${name}`, () => console.error(`rate_limit: binding "${name}" did not answer within ${LIMIT_TIMEOUT_MS} ms; traffic passes`));
      return undefined;
    }
    return outcome?.success !== false;
  } catch (error) {
    once(`failed:${name}`, () => console.error(`rate_limit: binding "${name}" failed; traffic passes`, error));
    return undefined;
  }
}

/**
 * The binding of that name when it is a Workers Rate Limiting binding: it has limit()
 * and is not a service, VPC or Durable Object stub (which answer any method name).
 */
export function rateLimiter(env: Env, name: string): RateLimit | undefined {
  if (!Object.hasOwn(env, name)) return undefined;
  const binding = (env as unknown as Record<string, unknown>)[name];
  if (typeof binding !== 'object' || binding === null) return undefined;
  const candidate = binding as Partial<RateLimit> & { fetch?: unknown; connect?: unknown; idFromName?: unknown };
  if (typeof candidate.fetch === 'function' || typeof candidate.connect === 'function' || typeof candidate.idFromName === 'function') return undefined;
  return typeof candidate.limit === 'function' ? (candidate as RateLimit) : undefined;
}

function once(what: string, log: () => void): void {
  if (reported.has(what)) return;
  reported.add(what);
  log();
}
