import { describe, expect, it } from 'vitest';
import {
  flushAfterMs,
  MAX_FLUSH_MS,
  MAX_UNACKED_MS,
  shardOf,
  SHARD_WRITES_PER_SECOND,
  STATS_FLUSH_MS,
  STATS_SHARDS,
  StatsOutbox,
  type BatchReceipt,
  type StatsBatch,
} from '../../src/stats/hand-over';
import { mergeStats, TrafficCounter, type AttemptRecord, type StatsTotals } from '../../src/stats/traffic';

const ok = (origin = 'a'): AttemptRecord => ({ key: `p/${origin}`, status: 200, failed: false, ejected: false, ms: 12 });

/** A shard in memory: applies each (sender, seq) once, as the Durable Object does. */
class FakeShard {
  readonly totals: StatsTotals = { origins: {}, pools: {}, pops: {}, since: 0 };
  readonly last = new Map<string, number>();
  readonly seen: number[] = [];

  receive(batch: StatsBatch): BatchReceipt {
    this.seen.push(batch.seq);
    if ((this.last.get(batch.sender) ?? 0) >= batch.seq) return { applied: false, flush_after_ms: STATS_FLUSH_MS };
    this.last.set(batch.sender, batch.seq);
    mergeStats(this.totals, structuredClone(batch.delta));
    return { applied: true, flush_after_ms: STATS_FLUSH_MS };
  }
}

describe('StatsOutbox', () => {
  it('numbers batches 1, 2, 3 and sends nothing without counts', async () => {
    const counter = new TrafficCounter();
    const outbox = new StatsOutbox('iso', counter);
    const shard = new FakeShard();
    const send = async (b: StatsBatch) => shard.receive(b);
    expect(outbox.hasWork).toBe(false);
    expect(await outbox.flush(send, 0)).toEqual({ receipt: undefined, gaveUp: undefined });
    for (let i = 0; i < 3; i++) {
      counter.record([ok()], 'p', 'FRA', 200);
      await outbox.flush(send, i);
    }
    expect(shard.seen).toEqual([1, 2, 3]);
    expect(shard.totals.origins['p/a']!.requests).toBe(3);
  });

  it('keeps a batch whose request was lost and sends it again, before the newer counts, under the same number', async () => {
    const counter = new TrafficCounter();
    const outbox = new StatsOutbox('iso', counter);
    const shard = new FakeShard();
    counter.record([ok()], 'p', 'FRA', 200);
    await expect(outbox.flush(async () => Promise.reject(new Error('network')), 0)).rejects.toThrow('network');
    expect(outbox.waiting?.seq).toBe(1);
    counter.record([ok('b')], 'p', 'FRA', 200);
    await outbox.flush(async (b) => shard.receive(b), 1);
    expect(shard.seen).toEqual([1, 2]);
    expect(outbox.hasWork).toBe(false);
    expect(shard.totals.pools.p!.requests).toBe(2);
  });

  it('does not double counts when the shard applied a batch but its answer was lost', async () => {
    const counter = new TrafficCounter();
    const outbox = new StatsOutbox('iso', counter);
    const shard = new FakeShard();
    counter.record([ok()], 'p', 'FRA', 200);
    await expect(
      outbox.flush(async (b) => {
        shard.receive(b);
        throw new Error('answer lost');
      }, 0),
    ).rejects.toThrow('answer lost');
    counter.record([ok()], 'p', 'FRA', 200);
    const { receipt } = await outbox.flush(async (b) => shard.receive(b), 1);
    // Batch 1 came twice and was applied once; batch 2 once.
    expect(shard.seen).toEqual([1, 1, 2]);
    expect(receipt?.applied).toBe(true);
    expect(shard.totals.origins['p/a']!.requests).toBe(2);
  });

  it('holds one batch in flight and one pending delta however long the shard fails', async () => {
    const counter = new TrafficCounter();
    const outbox = new StatsOutbox('iso', counter);
    const failing = async () => Promise.reject(new Error('down'));
    for (let i = 0; i < 100; i++) {
      counter.record([ok(`o${i % 3}`)], 'p', 'FRA', 200);
      await outbox.flush(failing, i).catch(() => undefined);
    }
    expect(outbox.waiting?.seq).toBe(1);
    expect(Object.keys(outbox.waiting!.delta.origins)).toEqual(['p/o0']);
    // The 99 later requests wait in the counter, one entry per origin.
    expect(counter.pendingCount).toBe(99);
    const shard = new FakeShard();
    await outbox.flush(async (b) => shard.receive(b), 100);
    expect(shard.seen).toEqual([1, 2]);
    expect(shard.totals.pools.p!.requests).toBe(100);
  });

  it(`gives a batch up after ${MAX_UNACKED_MS / 3600_000} h without an answer, and says so`, async () => {
    const counter = new TrafficCounter();
    const outbox = new StatsOutbox('iso', counter);
    counter.record([ok()], 'p', 'FRA', 200);
    await outbox.flush(async () => Promise.reject(new Error('down')), 0).catch(() => undefined);
    const shard = new FakeShard();
    const early = await outbox.flush(async (b) => shard.receive(b), MAX_UNACKED_MS);
    expect(early.gaveUp).toBeUndefined();
    expect(shard.seen).toEqual([1]);

    counter.record([ok()], 'p', 'FRA', 200);
    await outbox.flush(async () => Promise.reject(new Error('down')), 10).catch(() => undefined);
    const late = await outbox.flush(async (b) => shard.receive(b), 10 + MAX_UNACKED_MS + 1);
    expect(late.gaveUp?.seq).toBe(2);
    expect(shard.seen).toEqual([1]);
  });
});

describe('shards', () => {
  it('spreads senders evenly over the shards, each always to the same one', () => {
    const counts = new Array(STATS_SHARDS).fill(0);
    for (let i = 0; i < 16_000; i++) counts[shardOf(`isolate-${i}-${(i * 7919) % 1000}`)]++;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
    expect(shardOf('some-isolate')).toBe(shardOf('some-isolate'));
  });

  it(`asks senders to wait ${STATS_FLUSH_MS / 1000} s while they fit the write budget, longer beyond it`, () => {
    expect(flushAfterMs(0)).toBe(STATS_FLUSH_MS);
    expect(flushAfterMs(SHARD_WRITES_PER_SECOND * 10)).toBe(STATS_FLUSH_MS);
    expect(flushAfterMs(SHARD_WRITES_PER_SECOND * 60)).toBe(60_000);
    expect(flushAfterMs(1e9)).toBe(MAX_FLUSH_MS);
    // Active senders over their wait: never above the budget until MAX_FLUSH_MS caps it.
    for (const senders of [10, 500, 1000, 5000, 15_000]) expect(senders / (flushAfterMs(senders) / 1000)).toBeLessThanOrEqual(SHARD_WRITES_PER_SECOND);
  });
});
