import type { Env } from '../env';
import { controlPlane } from '../control/locator';
import { PassiveHealth } from '../health/passive';
import { TrafficCounter, type AttemptRecord } from '../stats/traffic';
import type { Plan } from '../steering/plan';
import { InFlight } from './forward';

// The isolate's own state, shared by every request it serves: passive health, in-flight
// counts and traffic counts, the last handed to the control plane in the background.

export const passive = new PassiveHealth();
export const inflight = new InFlight();
const traffic = new TrafficCounter();

/** Counts reach the Durable Object at most this often per isolate, in the background. */
const STATS_FLUSH_MS = 10_000;
/** Set by the first request: at global scope a Worker's clock reads 0. */
let lastFlush: number | undefined;
let flushing: Promise<void> | undefined;
let planSeen: Plan | undefined;

/** Called with the plan each request steers by: new health results end ejections an active check disproved. */
export function notePlan(plan: Plan): void {
  if (plan === planSeen) return;
  planSeen = plan;
  passive.readmitChecked((pool, origin) => plan.pools.get(pool)?.byName.get(origin)?.checkedUpAt);
}

/** Counts one request's attempts; schedules a flush when the last one is old enough. */
export function recordTraffic(
  env: Env,
  ctx: ExecutionContext,
  attempts: readonly AttemptRecord[],
  pool: string | undefined,
  pop: string | undefined,
  status: number,
): void {
  traffic.record(attempts, pool, pop, status);
  const now = Date.now();
  lastFlush ??= now;
  if (flushing === undefined && now - lastFlush >= STATS_FLUSH_MS) ctx.waitUntil(flushStats(env));
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
