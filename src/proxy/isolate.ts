import { settings, type Env } from '../env';
import { sendBatch } from '../control/stats-shards';
import { PassiveHealth } from '../health/passive';
import { MAX_FLUSH_MS, STATS_FLUSH_MS, StatsOutbox } from '../stats/hand-over';
import { requestPoint, type ServedRequest } from '../stats/request-point';
import { TrafficCounter, type AttemptRecord } from '../stats/traffic';
import type { Plan } from '../steering/plan';
import { InFlight } from './forward';

// The isolate's own state, shared by every request it serves: passive health, in-flight
// counts and traffic counts, the last handed to a stats shard in the background.

export const passive = new PassiveHealth();
export const inflight = new InFlight();
const traffic = new TrafficCounter();
/** Made by the first flush: the isolate's id is random, and global scope may not draw random numbers. */
let outbox: StatsOutbox | undefined;
/** Counts reach a shard at most this often per isolate, in the background; the shard may ask for longer. */
let flushEvery = STATS_FLUSH_MS;
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

/** One finished client request: its attempts for the counters, the rest for the optional Analytics Engine point. */
export interface TrafficRecord extends Omit<ServedRequest, 'attempts'> {
  attempts: readonly AttemptRecord[];
}

/**
 * Counts one request's attempts; schedules a flush when the last one is old enough;
 * writes its Analytics Engine data point when the ANALYTICS binding is there (no I/O:
 * the runtime sends points on its own).
 */
export function recordTraffic(env: Env, ctx: ExecutionContext, record: TrafficRecord): void {
  traffic.record(record.attempts, record.pool, record.pop, record.status);
  const now = Date.now();
  lastFlush ??= now;
  if (flushing === undefined && now - lastFlush >= flushEvery) ctx.waitUntil(flushStats(env));
  if (env.ANALYTICS !== undefined) writePoint(env.ANALYTICS, { ...record, attempts: record.attempts.length }, settings(env).analyticsSampleRate);
}

function writePoint(dataset: AnalyticsEngineDataset, request: ServedRequest, rate: number): void {
  const point = requestPoint(request, rate, Math.random());
  if (point === undefined) return;
  try {
    dataset.writeDataPoint(point);
  } catch (error) {
    // Analytics never fail a request.
    console.error('analytics data point not written', error);
  }
}

/**
 * Hands this isolate's pending counts to its stats shard (one flush at a time), after
 * any batch whose hand-over failed (hand-over.ts). The request path only schedules it
 * with ctx.waitUntil; GET /stats awaits it.
 */
export function flushStats(env: Env): Promise<void> {
  flushing ??= (async () => {
    lastFlush = Date.now();
    outbox ??= new StatsOutbox(crypto.randomUUID(), traffic);
    if (!outbox.hasWork) return;
    try {
      const { receipt, gaveUp } = await outbox.flush((batch) => sendBatch(env, batch), lastFlush);
      if (gaveUp !== undefined) console.error(`stats batch ${gaveUp.seq} of ${gaveUp.sender} was never acknowledged; its counts are given up`);
      if (receipt !== undefined) flushEvery = Math.min(MAX_FLUSH_MS, Math.max(STATS_FLUSH_MS, receipt.flush_after_ms));
    } catch (error) {
      console.error('stats hand-over failed; the counts are kept and sent with the next one', error);
    }
  })().finally(() => {
    flushing = undefined;
  });
  return flushing;
}

/** In-flight requests of this isolate to an origin. */
export const inFlightOf = (pool: string, origin: string): number => inflight.byName(pool, origin);
