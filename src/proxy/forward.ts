import type { LoadBalancer } from '../config/schema';
import type { PassiveHealth } from '../health/passive';
import { originKey, type CompiledOrigin, type Plan } from '../steering/plan';
import { errorResponse } from './errors';
import { hostFor, isWebSocketUpgrade, upstreamUrl, upstreamHeaders, type ClientSide } from './upstream';

// Attempts and retries (SPEC §2.10–2.11): an attempt fails on a network error, on
// attempt_timeout_ms before response headers, or on 502/503/504. Idempotent requests
// move to the next candidate; nothing is retried once bytes went to the client,
// which holds by construction: a response is only returned, never streamed, before
// the decision to stop.

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const RETRYABLE_STATUS = new Set([502, 503, 504]);
const MAX_REPLAY_BYTES = 1024 * 1024;
const TIMED_OUT: unique symbol = Symbol('attempt timed out');

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

export interface Attempt {
  origin: CompiledOrigin;
  outcome: 'ok' | 'status' | 'timeout' | 'network';
  status?: number;
  detail?: string;
  /** Time to response headers, or to the failure. */
  ms: number;
  /** This failure ejected the origin (passive health). */
  ejected?: boolean;
}

export interface Forwarded {
  response: Response;
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
}

export async function forward(request: Request, client: ClientSide, candidates: readonly CompiledOrigin[], fc: ForwardContext): Promise<Forwarded> {
  const { lb } = fc;
  const isWebSocket = isWebSocketUpgrade(request.headers);
  const body = await replayableBody(request, candidates.length > 1 && !isWebSocket);
  const tries = body.replayable ? candidates : candidates.slice(0, 1);
  const headers = upstreamHeaders(client, lb, isWebSocket);
  const attempts: Attempt[] = [];
  const started = fc.now();

  for (let i = 0; i < tries.length; i++) {
    const origin = tries[i];
    const last = i === tries.length - 1;
    headers.set('host', hostFor(origin, client, lb));
    fc.inflight.add(origin, 1);
    const attemptStarted = fc.now();
    let response: Response;
    try {
      // The attempt timer races the fetch rather than aborting it through a signal:
      // a signal on a Worker's fetch cost about a tenth of the request's CPU here
      // (npm run bench). An attempt that loses the race is left to finish on its own;
      // its late response is discarded, and the runtime cancels whatever is still
      // pending when the client's request ends.
      const pending = fetch(upstreamUrl(origin, client.url), { method: request.method, headers, body: body.value, redirect: 'manual' });
      const first = await Promise.race([pending, scheduler.wait(lb.attempt_timeout_ms).then((): typeof TIMED_OUT => TIMED_OUT)]);
      if (first === TIMED_OUT) {
        pending.then(
          (late) => late.body?.cancel(),
          () => undefined,
        );
        attempts.push({ origin, outcome: 'timeout', detail: `no response within ${lb.attempt_timeout_ms} ms`, ms: fc.now() - attemptStarted, ejected: failed(origin, fc) });
        continue;
      }
      response = first;
    } catch (error) {
      attempts.push({ origin, outcome: 'network', detail: (error as Error).message, ms: fc.now() - attemptStarted, ejected: failed(origin, fc) });
      continue;
    } finally {
      fc.inflight.add(origin, -1);
    }

    const ms = fc.now() - attemptStarted;
    if (RETRYABLE_STATUS.has(response.status)) {
      attempts.push({ origin, outcome: 'status', status: response.status, ms, ejected: failed(origin, fc) });
      if (!last) {
        await response.body?.cancel();
        continue;
      }
    } else {
      attempts.push({ origin, outcome: 'ok', status: response.status, ms });
      fc.passive.recordSuccess(origin.pool, origin.name);
    }
    return { response, attempts, served: origin, upstreamMs: fc.now() - started };
  }

  const allTimedOut = attempts.every((a) => a.outcome === 'timeout');
  const list = attempts.map((a) => `${a.origin.pool}/${a.origin.name}: ${a.detail ?? a.status}`).join('; ');
  const response = allTimedOut
    ? errorResponse(504, 'upstream_timeout', `every attempt timed out (${list})`)
    : errorResponse(502, 'upstream_error', `every attempt failed (${list})`);
  return { response, attempts, served: undefined, upstreamMs: fc.now() - started };
}

/** Counts a failed attempt against its origin; true when that ejected it. */
function failed(origin: CompiledOrigin, fc: ForwardContext): boolean {
  const pool = fc.plan.pools.get(origin.pool);
  return fc.passive.recordFailure(origin.pool, origin.name, pool?.origins.length ?? 1, fc.lb.passive_health, fc.now());
}

/**
 * The request body, buffered when it may be sent more than once: idempotent methods
 * with a body of at most 1 MiB. Anything else streams through on a single attempt.
 */
async function replayableBody(request: Request, wantRetries: boolean): Promise<{ value: BodyInit | null; replayable: boolean }> {
  if (!wantRetries || !IDEMPOTENT.has(request.method)) return { value: request.body, replayable: false };
  if (request.body === null) return { value: null, replayable: true };
  const length = Number(request.headers.get('content-length') ?? NaN);
  if (!(length <= MAX_REPLAY_BYTES)) return { value: request.body, replayable: false };
  return { value: await request.arrayBuffer(), replayable: true };
}
