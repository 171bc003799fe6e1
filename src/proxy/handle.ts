import { parse, serialize } from 'hono/utils/cookie';
import type { LoadBalancer } from '../config/schema';
import { bindingOf, settings, type Env } from '../env';
import { controlPlane, currentSnapshot, type Loaded } from '../control/snapshot-cache';
import { TrafficCounter } from '../stats/traffic';
import { PassiveHealth } from '../health/passive';
import { AFFINITY_COOKIE, signAffinityToken, verifyAffinityToken } from '../steering/affinity-token';
import { decide, poolFor, type Decision, type Pin } from '../steering/decide';
import { clientFacts, type ClientFacts } from '../steering/facts';
import type { CompiledLoadBalancer, CompiledOrigin, Plan } from '../steering/plan';
import { LbError } from './errors';
import { forward, InFlight } from './forward';

// The request path, in the order of SPEC §2: facts, load balancer, affinity, pools
// and origins (decide), forward, record. Isolate-wide state lives here: passive
// health and in-flight counts, shared by every request the isolate serves.

const passive = new PassiveHealth();
const inflight = new InFlight();
const traffic = new TrafficCounter();
/** Counts reach the Durable Object at most this often per isolate, in the background. */
const STATS_FLUSH_MS = 10_000;
/** Set by the first request: at global scope a Worker's clock reads 0. */
let lastFlush: number | undefined;
let flushing: Promise<void> | undefined;
let planSeen: Plan | undefined;
const RETRY_AFTER_SECONDS = '5';
/** Response fields the balancer sets when expose_headers is on; never an origin's to set. */
const EXPOSED = ['x-lb-pool', 'x-lb-origin', 'x-lb-pop', 'x-lb-attempts'];

export interface Steered {
  url: URL;
  loaded: Loaded;
  lb: CompiledLoadBalancer;
  facts: ClientFacts;
  decision: Decision;
  pin: Pin | undefined;
}

/** Facts, load balancer, affinity and decision for a request: shared by the proxy and explain. */
export async function steer(request: Request, loaded: Loaded, simulation: boolean, trace?: string[], url = new URL(request.url)): Promise<Steered> {
  const plan = loaded.plan;
  if (plan === undefined) {
    throw new LbError(
      503,
      'not_configured',
      `${loaded.snapshot.configError ?? 'Switchyard has no configuration yet.'} Load one with PUT /__lb/api/config (see the README) or set the LB_CONFIG var.`,
    );
  }
  if (plan !== planSeen) {
    // New health results: an active check that found an ejected origin up ends its ejection.
    planSeen = plan;
    passive.readmitChecked((pool, origin) => plan.pools.get(pool)?.byName.get(origin)?.checkedUpAt);
  }
  const lb = plan.loadBalancerFor(url.hostname);
  if (lb === undefined) throw new LbError(404, 'no_load_balancer', `no load balancer serves host "${url.hostname}"`);
  if (!lb.config.enabled) throw new LbError(503, 'load_balancer_disabled', `load balancer "${lb.config.id}" is disabled`);
  trace?.push(`load balancer ${lb.config.id} (hostname ${lb.config.hostname}) for host ${url.hostname}`);

  const facts = clientFacts(request.headers, request.cf as Record<string, unknown> | undefined, simulation, plan.withdrawn);
  trace?.push(
    `client ${facts.ip || 'unknown'} from ${facts.source}: country ${facts.country ?? '?'}, region ${facts.region ?? '?'}, PoP ${facts.colo ?? '?'}` +
      (facts.lat !== undefined ? `, at ${facts.lat},${facts.lon}` : ''),
  );

  const now = Date.now();
  const { pin, sessionKey } = await affinityOf(request, lb.config, loaded.affinityKey, now, trace);
  const decision = decide(plan, lb, {
    facts,
    pin,
    sessionKey,
    now,
    random: Math.random,
    inflight: inflight.byOrigin,
    poolInflight: inflight.byPool,
    passive,
    trace,
  });
  return { url, loaded, lb, facts, decision, pin };
}

export async function proxyRequest(request: Request, env: Env, ctx: ExecutionContext, url = new URL(request.url)): Promise<Response> {
  const started = Date.now();
  const config = settings(env);
  if (hasForbiddenBody(request)) {
    throw new LbError(400, 'body_not_allowed', `a ${request.method} request cannot carry a body through this balancer; send it with POST or PUT`);
  }
  const loaded = await currentSnapshot(env, ctx, started);
  const { lb, facts, decision } = await steer(request, loaded, config.simulation, undefined, url);
  if (decision.candidates.length === 0) {
    throw new LbError(503, 'no_healthy_origin', `no healthy origin for load balancer "${lb.config.id}"`, undefined, {
      'retry-after': RETRY_AFTER_SECONDS,
    });
  }
  const steeringMs = Date.now() - started;

  const result = await forward(
    request,
    { url, headers: request.headers, ip: facts.ip, pop: facts.colo, lbName: config.lbName },
    decision.candidates,
    { plan: loaded.plan!, lb: lb.config, passive, inflight, now: Date.now, network: (name) => bindingOf(env, name), zones: config.zones },
  );

  traffic.record(
    result.attempts.map((a) => ({
      key: a.origin.key,
      status: a.status,
      failed: a.outcome !== 'ok' && a.outcome !== 'internal',
      ejected: a.ejected === true,
      ms: a.ms,
    })),
    result.served?.pool,
    facts.colo,
    result.response.status,
  );
  const now = Date.now();
  lastFlush ??= now;
  if (flushing === undefined && now - lastFlush >= STATS_FLUSH_MS) ctx.waitUntil(flushStats(env));

  const response = result.response;
  // A WebSocket upgrade's headers cannot change; every other response from forward() is
  // already a copy whose headers can.
  if (response.status === 101) return response;
  const h = response.headers;
  const served = result.served;
  // The affinity cookie and the x-lb-* fields are the balancer's: an origin may not set them.
  if (served !== undefined && h.has('set-cookie')) stripAffinityCookies(h);
  if (lb.config.expose_headers) {
    if (served !== undefined) {
      h.set('x-lb-pool', served.pool);
      h.set('x-lb-origin', served.name);
    }
    if (facts.colo !== undefined) h.set('x-lb-pop', facts.colo);
    else h.delete('x-lb-pop');
    h.set('x-lb-attempts', String(result.attempts.length));
    h.append('server-timing', `lb;dur=${steeringMs}, origin;dur=${result.upstreamMs}`);
  } else if (served !== undefined) {
    for (const name of EXPOSED) h.delete(name);
  }
  if (served !== undefined && shouldPin(decision, served, lb.config)) h.append('set-cookie', await affinityCookie(loaded, lb.config, served, url));
  return response;
}

/** A GET or HEAD with a body: the runtime cannot send it, and dropping it would change the request (SPEC §3). */
function hasForbiddenBody(request: Request): boolean {
  if (request.body === null || (request.method !== 'GET' && request.method !== 'HEAD')) return false;
  const length = request.headers.get('content-length');
  return length === null || length.trim() !== '0';
}

function stripAffinityCookies(headers: Headers): void {
  const cookies = headers.getSetCookie();
  // Browsers trim the name, so "__lb_affinity =x" would still replace the pin.
  const kept = cookies.filter((cookie) => cookie.slice(0, cookie.indexOf('=')).trim() !== AFFINITY_COOKIE);
  if (kept.length === cookies.length) return;
  headers.delete('set-cookie');
  for (const cookie of kept) headers.append('set-cookie', cookie);
}

function shouldPin(decision: Decision, served: CompiledOrigin, lb: LoadBalancer): boolean {
  if (decision.pinServed) return true;
  // A pinned request that failed over to another origin re-pins there when failover is sticky.
  return decision.affinity === 'pinned' && served !== decision.candidates[0] && lb.session_affinity_attributes.zero_downtime_failover === 'sticky';
}

async function affinityOf(
  request: Request,
  lb: LoadBalancer,
  key: CryptoKey,
  now: number,
  trace: string[] | undefined,
): Promise<{ pin: Pin | undefined; sessionKey: string | undefined }> {
  switch (lb.session_affinity) {
    case 'none':
      return { pin: undefined, sessionKey: undefined };
    case 'header': {
      const values = lb.session_affinity_attributes.headers.map((name) => request.headers.get(name));
      const present = values.some((v) => v !== null);
      trace?.push(present ? 'affinity: session identified by headers' : 'affinity: no session headers; steering as new');
      return { pin: undefined, sessionKey: present ? values.map((v) => v ?? '').join('\u0000') : undefined };
    }
    case 'cookie':
    case 'ip_cookie': {
      const cookie = request.headers.get('cookie');
      const token = cookie === null ? undefined : parse(cookie, AFFINITY_COOKIE)[AFFINITY_COOKIE];
      if (token === undefined) return { pin: undefined, sessionKey: undefined };
      const pin = await verifyAffinityToken(key, lb.id, token, Math.floor(now / 1000));
      if (pin === undefined) trace?.push('affinity: token invalid, forged or expired: ignored');
      return { pin, sessionKey: undefined };
    }
  }
}

async function affinityCookie(loaded: Loaded, lb: LoadBalancer, origin: CompiledOrigin, url: URL): Promise<string> {
  const ttl = lb.session_affinity_ttl;
  const token = await signAffinityToken(loaded.affinityKey, lb.id, { pool: origin.pool, origin: origin.name }, Math.floor(Date.now() / 1000) + ttl);
  const { samesite, secure } = lb.session_affinity_attributes;
  const sameSite = samesite === 'Auto' ? 'Lax' : samesite;
  return serialize(AFFINITY_COOKIE, token, {
    path: '/',
    httpOnly: true,
    maxAge: ttl,
    sameSite,
    secure: secure === 'Always' || (secure === 'Auto' && url.protocol === 'https:') || sameSite === 'None',
  });
}

/**
 * Hands this isolate's pending counts to the control plane (one flush at a time).
 * The request path only schedules it with ctx.waitUntil; GET /stats awaits it.
 */
export function flushStats(env: Env): Promise<void> {
  flushing ??= (async () => {
    lastFlush = Date.now();
    if (traffic.pendingCount === 0) return;
    const delta = traffic.take();
    try {
      await controlPlane(env).recordStats(delta);
    } catch (error) {
      traffic.giveBack(delta);
      console.error('stats flush failed; the counts are kept for the next one', error);
    }
  })().finally(() => {
    flushing = undefined;
  });
  return flushing;
}

/** In-flight requests of this isolate to an origin. */
export const inFlightOf = (pool: string, origin: string): number => inflight.byName(pool, origin);

/**
 * For each PoP, the pool its new clients are steered to by the load balancer serving
 * `host` (the PoP map); undefined when no load balancer serves the host.
 */
export function poolsByPop(loaded: Loaded, host: string, colos: readonly string[]): Map<string, string | undefined> | undefined {
  const plan = loaded.plan;
  const lb = plan?.loadBalancerFor(host);
  if (plan === undefined || lb === undefined) return undefined;
  const now = Date.now();
  return new Map(
    colos.map((colo) => [colo, poolFor(plan, lb, clientFacts(new Headers({ 'x-lb-sim-colo': colo }), undefined, true, plan.withdrawn), passive, now)]),
  );
}
