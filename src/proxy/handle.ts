import { serialize } from 'hono/utils/cookie';
import type { LoadBalancer } from '../config/schema';
import type { Loaded } from '../control/snapshot-cache';
import { currentSnapshot, isolateColo } from '../control/snapshot-cache';
import { bindingOf, settings, type Env } from '../env';
import { internalErrorResponse, LbError } from '../errors';
import { AFFINITY_COOKIE, signAffinityToken } from '../steering/affinity-token';
import type { Decision } from '../steering/decide';
import type { ClientFacts } from '../steering/facts';
import type { CompiledOrigin, Plan } from '../steering/plan';
import type { Attempt } from './attempt';
import { forward, type ForwardContext, type Forwarded } from './forward';
import { inflight, passive, recordTraffic, type TrafficRecord } from './isolate';
import { steer, type Steered } from './steer';

// The request path, in the order of SPEC §2: steer (facts, load balancer, affinity,
// pools and origins), forward, record, then the response's own headers and the pin.

const RETRY_AFTER_SECONDS = '5';
/** Response fields the balancer sets when expose_headers is on; never an origin's to set. */
const EXPOSED = ['x-lb-pool', 'x-lb-origin', 'x-lb-pop', 'x-lb-attempts'];

/**
 * A proxied request, answered: an error becomes its JSON answer here (an unexpected one
 * is logged and answered 500), so the Worker's entry adds no async frame of its own.
 */
export async function proxyRequest(request: Request, env: Env, ctx: ExecutionContext, url = new URL(request.url)): Promise<Response> {
  const started = Date.now();
  let loaded: Loaded | undefined;
  try {
    const config = settings(env);
    if (hasForbiddenBody(request)) {
      throw new LbError(400, 'body_not_allowed', `a ${request.method} request cannot carry a body through this balancer; send it with POST or PUT`);
    }
    const current = currentSnapshot(env, ctx, started, isolateColo(request));
    loaded = current instanceof Promise ? await current : current;
    const steering = steer(request, loaded, config.simulation, undefined, url, env);
    const steered = steering instanceof Promise ? await steering : steering;
    const { lb, facts, decision, fixed } = steered;
    if (fixed !== null) return fixedResponse(fixed);
    if (decision.candidates.length === 0) {
      throw new LbError(503, 'no_healthy_origin', `no healthy origin for load balancer "${lb.config.id}"`, {
        headers: { 'retry-after': RETRY_AFTER_SECONDS },
      });
    }
    if (lb.redirect !== undefined) {
      const { response, origin } = redirectResponse(lb.redirect, decision.candidates, url, facts.colo, lb.config.expose_headers);
      recordTraffic(env, ctx, trafficOf(request, url, lb.config.id, facts, started, response.status, [], origin));
      return response;
    }
    const steeringMs = Date.now() - started;

    const result = await forward(
      request,
      { url, headers: request.headers, ip: facts.ip, pop: facts.colo, lbName: config.lbName },
      decision.candidates,
      forwardContext(loaded.plan!, lb.config, env),
    );
    recordTraffic(env, ctx, trafficOf(request, url, lb.config.id, facts, started, result.response.status, result.attempts, result.served));
    const answer = answered(result, steered, steeringMs);
    return answer instanceof Promise ? await answer : answer;
  } catch (error) {
    if (!(error instanceof LbError)) return internalErrorResponse(error, request.method, url.pathname);
    // A request refused by a rate limit still counts in the stats, as a 429.
    if (error.status === 429) recordRefused(request, env, ctx, url, loaded, started);
    return error.getResponse();
  }
}

function recordRefused(request: Request, env: Env, ctx: ExecutionContext, url: URL, loaded: Loaded | undefined, started: number): void {
  try {
    const lbId = loaded?.plan?.loadBalancerFor(url.hostname)?.config.id ?? '';
    recordTraffic(env, ctx, trafficOf(request, url, lbId, undefined, started, 429, [], undefined));
  } catch (error) {
    // The 429 is still the answer; only its count is lost.
    console.error('a refused request could not be counted', error);
  }
}

/** The stats' record of one request. */
function trafficOf(
  request: Request,
  url: URL,
  loadBalancer: string,
  facts: ClientFacts | undefined,
  started: number,
  status: number,
  attempts: Attempt[],
  served: CompiledOrigin | undefined,
): TrafficRecord {
  return {
    attempts,
    loadBalancer,
    host: url.hostname,
    method: request.method,
    pool: served?.pool,
    origin: served?.name,
    pop: facts?.colo,
    country: facts?.country,
    status,
    ms: Date.now() - started,
  };
}

/**
 * The client's response: the origin's, with the balancer's own fields. A promise only
 * when a new pin's token must be signed.
 */
function answered(result: Forwarded, steered: Steered, steeringMs: number): Response | Promise<Response> {
  const { lb, facts, decision, loaded, url } = steered;
  // A WebSocket upgrade's headers cannot change: one carrying a field of the
  // balancer's is answered anew, with the same socket and without those fields.
  if (result.response.status === 101) return setsOwnFields(result.response.headers) ? withoutOwnFields(result.response) : result.response;
  const served = result.served;
  const pin = served !== undefined && shouldPin(decision, served, lb.config);
  const expose = lb.config.expose_headers;
  // The affinity cookie and the x-lb-* fields are the balancer's: an origin may not set
  // them. The origin's response is copied (its headers made changeable) only when one
  // of them is there, or the balancer adds its own.
  if (!expose && !pin && (served === undefined || !setsOwnFields(result.response.headers))) return result.response;
  const response = result.copied ? result.response : new Response(result.response.body, result.response);
  const h = response.headers;
  if (served !== undefined && h.has('set-cookie')) stripAffinityCookies(h);
  if (expose) {
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
  if (!pin) return response;
  const token = pinToken(loaded, lb.config, served);
  if (typeof token === 'string') {
    h.append('set-cookie', affinityCookie(token, lb.config, url));
    return response;
  }
  return token.then((signed) => {
    h.append('set-cookie', affinityCookie(signed, lb.config, url));
    return response;
  });
}

/** forward()'s context per load balancer, with the Worker environment it was built for. */
const forwardContexts = new WeakMap<LoadBalancer, { env: Env; fc: ForwardContext }>();

/** forward()'s context for a load balancer: built once per snapshot and Worker environment, not per request. */
function forwardContext(plan: Plan, lb: LoadBalancer, env: Env): ForwardContext {
  const built = forwardContexts.get(lb);
  if (built !== undefined && built.fc.plan === plan && built.env === env) return built.fc;
  // Date.now read at each call, not captured: a test may replace it.
  const fc: ForwardContext = { plan, lb, passive, inflight, now: () => Date.now(), network: (name) => bindingOf(env, name), zones: settings(env).zones };
  forwardContexts.set(lb, { env, fc });
  return fc;
}

/** A GET or HEAD with a body: the runtime cannot send it, and dropping it would change the request (SPEC §3). */
function hasForbiddenBody(request: Request): boolean {
  if (request.body === null || (request.method !== 'GET' && request.method !== 'HEAD')) return false;
  const length = request.headers.get('content-length');
  return length === null || length.trim() !== '0';
}

/** Does an origin's response carry a field only the balancer may set (a Set-Cookie may be the affinity cookie)? */
function setsOwnFields(headers: Headers): boolean {
  if (headers.has('set-cookie')) return true;
  for (const name of EXPOSED) if (headers.has(name)) return true;
  return false;
}

function withoutOwnFields(upgrade: Response): Response {
  const headers = new Headers(upgrade.headers);
  stripAffinityCookies(headers);
  for (const name of EXPOSED) headers.delete(name);
  return new Response(null, { status: 101, statusText: upgrade.statusText, headers, webSocket: upgrade.webSocket });
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

/** The pin's token for `origin`: a promise only when no token for it was signed this second. */
function pinToken(loaded: Loaded, lb: LoadBalancer, origin: CompiledOrigin): string | Promise<string> {
  return signAffinityToken(loaded.affinityKey, lb.id, { pool: origin.pool, origin: origin.name }, Math.floor(Date.now() / 1000) + lb.session_affinity_ttl);
}

function affinityCookie(token: string, lb: LoadBalancer, url: URL): string {
  const { samesite, secure } = lb.session_affinity_attributes;
  const sameSite = samesite === 'Auto' ? 'Lax' : samesite;
  return serialize(AFFINITY_COOKIE, token, {
    path: '/',
    httpOnly: true,
    maxAge: lb.session_affinity_ttl,
    sameSite,
    secure: secure === 'Always' || (secure === 'Auto' && url.protocol === 'https:') || sameSite === 'None',
  });
}

/**
 * Redirect steering (SPEC §9): the client is sent to the chosen origin's public_url with
 * its path and query; no origin is asked. The schema makes every origin a redirect can
 * reach have one. The answer is not to be cached: where it points follows health and
 * the origins configured, so a browser keeping a 301 would keep sending clients to a
 * node since drained or removed.
 */
function redirectResponse(
  status: number,
  candidates: readonly CompiledOrigin[],
  url: URL,
  pop: string | undefined,
  expose: boolean,
): { response: Response; origin: CompiledOrigin } {
  const origin = redirectOrigin(candidates);
  if (origin === undefined) {
    // The client's answer names no origin (SPEC §3); the log does.
    console.error(`redirect: origin ${candidates[0]?.key} has no public_url to redirect to`);
    throw new LbError(503, 'no_healthy_origin', 'the origin chosen for this redirect has no public_url', { headers: { 'retry-after': RETRY_AFTER_SECONDS } });
  }
  const headers = new Headers({ location: redirectLocation([origin], url)!, 'cache-control': 'no-store' });
  if (expose) {
    headers.set('x-lb-pool', origin.pool);
    headers.set('x-lb-origin', origin.name);
    if (pop !== undefined) headers.set('x-lb-pop', pop);
  }
  return { response: new Response(null, { status, headers }), origin };
}

/** The origin steering chose, when it has a public_url. */
function redirectOrigin(candidates: readonly CompiledOrigin[]): CompiledOrigin | undefined {
  const first = candidates[0];
  return first?.publicUrl === undefined ? undefined : first;
}

/** Where a redirect sends the client: the chosen origin's public_url, then the request's path and query. */
export function redirectLocation(candidates: readonly CompiledOrigin[], url: URL): string | undefined {
  const origin = redirectOrigin(candidates);
  return origin === undefined ? undefined : origin.publicUrl + url.pathname + url.search;
}

/** A rule's fixed_response (SPEC §9): answered here, no origin asked. */
function fixedResponse(fixed: NonNullable<Steered['fixed']>): Response {
  const headers = new Headers();
  if (fixed.content_type !== undefined) headers.set('content-type', fixed.content_type);
  if (fixed.location !== undefined) headers.set('location', fixed.location);
  const empty = fixed.status_code === 204 || fixed.status_code === 205 || fixed.status_code === 304;
  return new Response(empty ? null : fixed.message_body, { status: fixed.status_code, headers });
}
