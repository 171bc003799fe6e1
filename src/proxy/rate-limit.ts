import { parse } from 'hono/utils/cookie';
import type { RateLimitKey } from '../config/schema';
import type { Env } from '../env';
import { LbError } from '../errors';
import type { ClientFacts } from '../steering/facts';
import { hash32 } from '../steering/origin-pick';
import type { CompiledLoadBalancer } from '../steering/plan';

// A rule's rate_limit (SPEC §9): the request is counted with a Workers Rate Limiting
// binding ([[ratelimits]] in wrangler.toml, where the limit and period live) under its
// key; over the limit it is answered 429 rate_limited with Retry-After. The binding is
// counted per Cloudflare location, as the platform counts it. A rule naming a binding
// the Worker does not have, or a binding that fails, lets traffic through: a rate
// limit protects origins, and must not become the outage itself.

/** The longest key value sent as it is; a longer one (a hostile header) is sent as a hash and its length. */
const MAX_KEY_VALUE = 256;

/** Bindings already reported missing or failing in this isolate, so the log says it once each. */
const reported = new Set<string>();

/** What the binding is asked for: the load balancer, then the key's value (the client IP when the request has none). */
export function rateLimitKey(lbId: string, key: RateLimitKey, url: URL, headers: Headers, facts: ClientFacts): string {
  let value: string | undefined;
  switch (key.kind) {
    case 'path':
      value = url.pathname;
      break;
    case 'header':
      value = headers.get(key.name) ?? undefined;
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
  const text = kind === 'ip' ? facts.ip || 'unknown' : value!;
  const bounded = text.length <= MAX_KEY_VALUE ? text : `#${hash32(text).toString(36)}:${text.length}:${text.slice(0, 64)}`;
  return `${lbId}|${kind}|${bounded}`;
}

/** Counts the request when the load balancer (with its matching rules) has a rate_limit; throws 429 over the limit. */
export async function enforceRateLimit(env: Env, lb: CompiledLoadBalancer, url: URL, headers: Headers, facts: ClientFacts): Promise<void> {
  const limit = lb.rateLimit;
  if (limit === undefined) return;
  const binding = rateLimiter(env, limit.binding);
  if (binding === undefined) {
    once(`missing:${limit.binding}`, () => console.warn(`rate_limit: this Worker has no Rate Limiting binding "${limit.binding}"; traffic passes (declare it under [[ratelimits]] in wrangler.toml)`));
    return;
  }
  let success: boolean;
  try {
    ({ success } = await binding.limit({ key: rateLimitKey(lb.config.id, limit.key, url, headers, facts) }));
  } catch (error) {
    once(`failed:${limit.binding}`, () => console.error(`rate_limit: binding "${limit.binding}" failed; traffic passes`, error));
    return;
  }
  if (success) return;
  throw new LbError(429, 'rate_limited', `too many requests: over the limit of "${limit.binding}" for this ${describe(limit.key)}; retry after ${limit.period} s`, {
    headers: { 'retry-after': String(limit.period) },
  });
}

/** The binding of that name when it can count (a Workers Rate Limiting binding). */
export function rateLimiter(env: Env, name: string): RateLimit | undefined {
  const binding = (env as unknown as Record<string, unknown>)[name] as Partial<RateLimit> | undefined;
  return typeof binding?.limit === 'function' ? (binding as RateLimit) : undefined;
}

function describe(key: RateLimitKey): string {
  return key.kind === 'ip' ? 'client' : 'name' in key ? `${key.kind} ${key.name}` : key.kind;
}

function once(what: string, log: () => void): void {
  if (reported.has(what)) return;
  reported.add(what);
  log();
}
