import type { LoadBalancer } from '../config/schema';
import type { PassiveHealth } from '../health/passive';
import { originKey, type CompiledOrigin, type Plan } from '../steering/plan';
import { CONNECT_FAILURE_STATUS, isEdgeIpRefusal, isEdgeStatus } from '../edge/subrequest';
import { AttemptClock } from './attempt-clock';
import type { Attempt, AttemptOutcome } from './attempt';
import { failureResponse } from './failure-response';
import { replayableBody } from './replay-body';
import { guardBody } from './read-timeout';
import { isWebSocketUpgrade, upstreamHeaders, upstreamRoute, type ClientSide } from './upstream';

// Attempts and retries (SPEC §2.10–2.11). An attempt fails when its outcome is in the
// load balancer's retry_on: a connect failure (a thrown connection error, or the
// edge's 521/522/523/530, or its 403 error 1003 for an IP-literal URL), a timeout
// before response headers, or a listed status. Failed attempts are charged to passive
// health and retried on the next candidate: any failure for idempotent methods, only a
// connect failure (nothing reached the origin) for the others. Nothing is retried once
// bytes went to the client, which holds by construction: a response is only returned,
// never streamed, before the decision to stop. An error the runtime raises before the
// request leaves is the balancer's, never the origin's: not charged, not retried.

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** Bodies of known length up to this are read whole under one deadline (see guardResponse). */
const BUFFERED_BODY_BYTES = 64 * 1024;

/** In-flight requests per origin ("pool/name") and per pool (its id), for least_outstanding_requests. */
export class InFlight {
  private readonly counts = new Map<string, number>();
  readonly byOrigin = (origin: CompiledOrigin): number => this.counts.get(origin.key) ?? 0;
  readonly byPool = (pool: string): number => this.counts.get(pool) ?? 0;
  readonly byName = (pool: string, origin: string): number => this.counts.get(originKey(pool, origin)) ?? 0;

  add(origin: CompiledOrigin, delta: number): void {
    this.counts.set(origin.key, this.byOrigin(origin) + delta);
    this.counts.set(origin.pool, this.byPool(origin.pool) + delta);
  }
}

export interface Forwarded {
  response: Response;
  /** The response is this balancer's own object, whose headers can be changed; else it is the origin's, as fetch gave it. */
  copied: boolean;
  attempts: Attempt[];
  /** The origin whose response the client gets; undefined when Switchyard answered itself. */
  served: CompiledOrigin | undefined;
  upstreamMs: number;
}

export interface ForwardContext {
  plan: Plan;
  lb: LoadBalancer;
  passive: PassiveHealth;
  inflight: InFlight;
  now: () => number;
  /** The Workers VPC binding an origin's `network` names; undefined when the Worker has none by that name. */
  network: (name: string) => Fetcher | undefined;
  /** The zones of the Worker's routes (LB_ZONES), where a Host override can be sent. */
  zones: readonly string[] | undefined;
}

/** retry_on, parsed once per load balancer object. */
interface RetryPolicy {
  connectFailure: boolean;
  timeout: boolean;
  statuses: ReadonlySet<number>;
}

const retryPolicies = new WeakMap<LoadBalancer, RetryPolicy>();

function retryPolicy(lb: LoadBalancer): RetryPolicy {
  let policy = retryPolicies.get(lb);
  if (policy === undefined) {
    const list = lb.retry_on;
    policy = {
      connectFailure: list.includes('connect-failure'),
      timeout: list.includes('timeout'),
      statuses: new Set(list.filter((entry) => /^\d{3}$/.test(entry)).map(Number)),
    };
    retryPolicies.set(lb, policy);
  }
  return policy;
}

export async function forward(request: Request, client: ClientSide, candidates: readonly CompiledOrigin[], fc: ForwardContext): Promise<Forwarded> {
  const { lb } = fc;
  const policy = retryPolicy(lb);
  const isWebSocket = isWebSocketUpgrade(request.headers);
  const idempotent = IDEMPOTENT.has(request.method);
  const replayable = replayableBody(request, candidates.length > 1 && !isWebSocket);
  const body = replayable instanceof Promise ? await replayable : replayable;
  const headers = upstreamHeaders(client, lb, isWebSocket);
  const attempts: Attempt[] = [];
  const started = fc.now();
  // What the body holds of the isolate's replay budget is given back once no attempt is left to make.
  try {
    for (let i = 0; i < candidates.length; i++) {
      const origin = candidates[i];
      const last = i === candidates.length - 1;
      const attempt = await attemptOn(origin, i === 0, request.method, headers, body.value, client, fc);
      attempts.push(attempt.record);
      const { record } = attempt;

      // A response to pass on (the origin's success, or its own error page when nothing
      // else is left) is readied here: a small body is read whole first, and a stall
      // before anything went to the client is still this attempt's failure.
      const relay = attempt.response !== undefined && !isEdgeStatus(attempt.response.status) && (record.outcome === 'ok' || (record.outcome === 'status' && (last || !body.replayable || !idempotent)));
      if (relay) {
        const passing = passOn(attempt.response!, request.method, origin, fc, attempt.clock);
        const ready = passing instanceof Promise ? await passing : passing;
        if (ready.response !== undefined) {
          if (record.outcome === 'ok') fc.passive.recordSuccess(origin.pool, origin.name);
          else record.ejected = charge(origin, fc);
          return { response: ready.response, copied: ready.copied, attempts, served: origin, upstreamMs: fc.now() - started };
        }
        record.outcome = ready.stalled ? 'timeout' : 'network';
        record.failed = true;
        record.detail = ready.stalled ? `response body silent for ${lb.read_timeout_ms} ms` : 'response body cut off';
      }

      const { outcome } = record;
      const failed =
        outcome === 'connect-failure'
          ? policy.connectFailure || attempt.statusListed
          : outcome === 'network'
            ? policy.connectFailure
            : outcome === 'timeout'
              ? policy.timeout
              : outcome === 'status';
      // While the client's body is still streaming up, a slow attempt may be the client's doing.
      if (failed && !(outcome === 'timeout' && body.streamed)) record.ejected = charge(origin, fc);
      // Retry only what cannot have reached the origin, unless the method may be repeated.
      // workerd throws the same error for a refused connection and for a reset after the
      // request was sent ("network"): only the edge's 52x answers say nothing arrived.
      const retry = failed && !last && body.replayable && (idempotent || outcome === 'connect-failure');
      await attempt.response?.body?.cancel().catch(() => undefined);
      if (!retry) break;
    }

    return { response: failureResponse(attempts, lb), copied: true, attempts, served: undefined, upstreamMs: fc.now() - started };
  } finally {
    body.release();
  }
}

interface AttemptResult {
  record: Attempt;
  response?: Response;
  /** The attempt's timer, for the body's deadline. */
  clock: AttemptClock;
  /** A connect failure reported as a status that retry_on lists by number ("521"). */
  statusListed: boolean;
}

function attemptResult(origin: CompiledOrigin, clock: AttemptClock, started: number, now: number, outcome: AttemptOutcome, detail?: string, status?: number, response?: Response, statusListed = false): AttemptResult {
  const record: Attempt = { origin, key: origin.key, outcome, status, failed: outcome !== 'ok' && outcome !== 'internal', ejected: false, ms: now - started };
  if (detail !== undefined) record.detail = detail;
  return { record, response, clock, statusListed };
}

async function attemptOn(
  origin: CompiledOrigin,
  first: boolean,
  method: string,
  headers: Headers,
  body: BodyInit | null,
  client: ClientSide,
  fc: ForwardContext,
): Promise<AttemptResult> {
  const { lb } = fc;
  const route = upstreamRoute(origin, client.url, lb, fc.zones);
  const network = origin.config.network;
  const binding = network === '' ? undefined : fc.network(network);
  const started = fc.now();
  const clock = new AttemptClock(lb.attempt_timeout_ms, started, !first);
  if (network !== '' && binding === undefined) {
    return attemptResult(origin, clock, started, fc.now(), 'internal', `no binding named ${network} (the origin's network)`);
  }

  const init: RequestInit<RequestInitCfProperties> = { method, headers, body, redirect: 'manual' };
  if (clock.controller !== undefined) init.signal = clock.controller.signal;
  if (route.resolveOverride !== undefined) init.cf = { resolveOverride: route.resolveOverride };
  fc.inflight.add(origin, 1);
  let response: Response;
  try {
    const pending = binding === undefined ? fetch(route.url, init) : binding.fetch(route.url, init);
    // The timer fires at attempt_timeout_ms: a response is never undefined.
    const answer = await Promise.race([pending, clock.timer]);
    if (answer === undefined) {
      // Given up: aborted, or, for a first attempt, late headers release their
      // connection at once and the request itself ends with the client's.
      clock.giveUp();
      pending.then(discard, () => undefined);
      return attemptResult(origin, clock, started, fc.now(), 'timeout', `no response headers within ${lb.attempt_timeout_ms} ms from ${route.url}`);
    }
    response = answer;
  } catch (error) {
    // A TypeError is the runtime refusing the request itself (a body it cannot send,
    // a header it rejects): nothing left the balancer.
    const detail = `${route.url}: ${(error as Error)?.message ?? String(error)}`;
    return attemptResult(origin, clock, started, fc.now(), error instanceof TypeError ? 'internal' : 'network', detail);
  } finally {
    fc.inflight.add(origin, -1);
  }

  const status = response.status;
  const now = fc.now();
  const policy = retryPolicy(lb);
  if (CONNECT_FAILURE_STATUS.has(status)) {
    return attemptResult(origin, clock, started, now, 'connect-failure', `${route.url}: the edge answered ${status}`, status, response, policy.statuses.has(status));
  }
  if (status === 403 && origin.ipLiteral && network === '' && (await isEdgeIpRefusal(response))) {
    return attemptResult(origin, clock, started, now, 'connect-failure', `${route.url}: the edge refused an IP-literal subrequest (error 1003)`, status, response);
  }
  if (policy.statuses.has(status)) return attemptResult(origin, clock, started, now, 'status', undefined, status, response, true);
  return attemptResult(origin, clock, started, now, 'ok', undefined, status, response);
}

/**
 * Counts a failed attempt against its origin; true when that ejected it. The count
 * goes by the pool's policy (the hardest of the load balancers sending to it), so a
 * load balancer with looser settings cannot eject origins for the others; one with
 * passive health off counts nothing.
 */
function charge(origin: CompiledOrigin, fc: ForwardContext): boolean {
  if (fc.lb.passive_health.max_fails <= 0) return false;
  const pool = fc.plan.pools.get(origin.pool);
  const policy = fc.plan.passivePolicy(origin.pool) ?? fc.lb.passive_health;
  return fc.passive.recordFailure(origin.pool, origin.name, pool?.healthyOrigins ?? 0, policy, fc.now());
}

/**
 * The origin's response, readied to be passed on with its body under read_timeout_ms.
 * A body of known length up to BUFFERED_BODY_BYTES, not compressed (its Content-Length
 * would not bound what decoding yields), is read whole before it is passed on, as
 * nginx's proxy_buffering does: within read_timeout_ms, or the attempt fails and
 * nothing has gone to the client yet. The runtime reads such a body without
 * the Worker's code in between; a stream watching every chunk cost about a fifth of
 * the request's CPU. Any other body passes through that stream, which cuts it after
 * read_timeout_ms of silence and charges the origin. With no read timeout (0), or no
 * body, the response is passed on as fetch gave it: copying it costs CPU, and the
 * caller copies it only when it must change a header.
 */
function passOn(response: Response, method: string, origin: CompiledOrigin, fc: ForwardContext, clock: AttemptClock): Ready | Promise<Ready> {
  const limit = fc.lb.read_timeout_ms;
  const source = response.body;
  if (response.status === 101 || source === null || method === 'HEAD' || limit === 0) return { response, copied: false };
  const declared = response.headers.get('content-length');
  const encoding = response.headers.get('content-encoding');
  if (declared !== null && Number(declared) <= BUFFERED_BODY_BYTES && (encoding === null || encoding === 'identity')) {
    return readWhole(response, fc.now() + limit, fc, clock);
  }
  const body = guardBody(source, limit, () => {
    console.warn(`origin ${origin.key} sent nothing for ${limit} ms after its headers: response cut`);
    charge(origin, fc);
  });
  return { response: new Response(body, response), copied: true };
}

interface Ready {
  /** Undefined when the body failed before anything went to the client. */
  response?: Response;
  copied: boolean;
  /** The body was silent until its deadline. */
  stalled?: boolean;
}

/** A small body read whole by `deadline`. */
async function readWhole(response: Response, deadline: number, fc: ForwardContext, clock: AttemptClock): Promise<Ready> {
  const reading = response.arrayBuffer();
  try {
    let timer = clock.by(deadline, fc.now());
    for (;;) {
      const whole = await Promise.race([reading, timer]);
      if (whole !== undefined) return { response: new Response(whole, response), copied: true };
      const now = fc.now();
      if (now >= deadline) break;
      // The attempt's timer fired first: wait for what is left.
      timer = clock.again(deadline, now);
    }
  } catch {
    return { copied: false };
  }
  // Nothing of it went out. A first attempt's read ends with the client's request.
  clock.giveUp();
  reading.catch(() => undefined);
  return { stalled: true, copied: false };
}

/** A late response nobody waits for: its body or WebSocket is let go, so its connection is freed. */
function discard(response: Response): void {
  const socket = response.webSocket;
  if (socket !== null) {
    try {
      socket.accept();
      socket.close(1001, 'the balancer stopped waiting for this origin');
    } catch {
      // Already closed.
    }
  }
  response.body?.cancel().catch(() => undefined);
}
