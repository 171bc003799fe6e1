import type { Env } from '../env';
import { LbError } from '../errors';
import { shardOf, STATS_SHARDS, type BatchReceipt, type StatsBatch } from '../stats/hand-over';
import { emptyDelta, mergeStats, type StatsTotals } from '../stats/traffic';
import { controlPlane } from './locator';

// The stats shards from the outside: where a batch goes, and the one read of all
// traffic counts that GET /stats, /metrics and the dashboard share.

/** Shard `n` of the stats Durable Objects. */
export function statsShard(env: Env, n: number) {
  return env.STATS.get(env.STATS.idFromName(`stats:${n}`));
}

/** Hands a batch to the shard its sender hashes to. */
export function sendBatch(env: Env, batch: StatsBatch): Promise<BatchReceipt> {
  return statsShard(env, shardOf(batch.sender)).record(batch) as Promise<BatchReceipt>;
}

/**
 * Every shard's totals, read in parallel, and the ControlPlane's own from before the
 * shards (a store written by an earlier release, or by its isolates while a deploy
 * rolls out), merged. A shard that does not answer fails the read (503
 * `stats_unavailable`): totals without it would go down, which Prometheus would take
 * for a counter reset.
 */
export async function readStats(env: Env): Promise<StatsTotals> {
  const reads: Promise<StatsTotals | null>[] = [controlPlane(env).stats() as Promise<StatsTotals>];
  for (let n = 0; n < STATS_SHARDS; n++) reads.push(statsShard(env, n).totals() as Promise<StatsTotals | null>);
  const settled = await Promise.allSettled(reads);
  const failed = settled.flatMap((result, i) => (result.status === 'rejected' ? [i === 0 ? 'control' : `stats:${i - 1}`] : []));
  if (failed.length > 0) {
    for (const result of settled) if (result.status === 'rejected') console.error('stats read failed', result.reason);
    throw new LbError(503, 'stats_unavailable', `traffic counts could not be read from ${failed.join(', ')}; try again`, { headers: { 'retry-after': '5' } });
  }
  const totals: StatsTotals = { ...emptyDelta(), since: Date.now() };
  for (const result of settled) {
    const part = (result as PromiseFulfilledResult<StatsTotals | null>).value;
    if (part === null) continue;
    mergeStats(totals, part);
    totals.since = Math.min(totals.since, part.since);
  }
  return totals;
}
