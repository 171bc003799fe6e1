import { createExecutionContext, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { controlPlane } from '../../src/control/locator';
import type { StatsShard } from '../../src/control/stats-shard';
import { ShardStore } from '../../src/control/stats-shard-store';
import { readStats, sendBatch, statsShard } from '../../src/control/stats-shards';
import type { Env } from '../../src/env';
import worker from '../../src/index';
import { ACTIVE_SENDER_MS, flushAfterMs, SENDER_RETENTION_MS, shardOf, STATS_SHARDS, StatsOutbox, type BatchReceipt, type StatsBatch } from '../../src/stats/hand-over';
import { TrafficCounter, type AttemptRecord, type StatsDelta, type StatsReport, type StatsTotals } from '../../src/stats/traffic';
import { admin, ADMIN_TOKEN, configure } from '../support/worker';

// The stats shards against real Durable Objects: many isolates' hand-overs, some of
// them failing before or after the shard applied them, some delivered twice, must
// add up to exactly what was counted.

const E = env as Env;
const ORIGINS = ['sh-a', 'sh-b', 'sh-c'];
const POOL = 'sharded';

async function stats(): Promise<StatsReport> {
  const res = await admin('GET', '/stats');
  expect(res.status).toBe(200);
  return (await res.json()) as StatsReport;
}

/** The part of the totals under this test's own keys (other tests count into the same shards). */
function only(totals: StatsDelta, pool: string, pops: (pop: string) => boolean): StatsDelta {
  return {
    origins: Object.fromEntries(Object.entries(totals.origins).filter(([key]) => key.startsWith(`${pool}/`))),
    pools: Object.fromEntries(Object.entries(totals.pools).filter(([key]) => key === pool)),
    pops: Object.fromEntries(Object.entries(totals.pops).filter(([key]) => pops(key))),
  };
}

/** One attempt pattern per request number: several origins, statuses, failures, retries and latencies. */
function requestOf(n: number): { attempts: AttemptRecord[]; status: number } {
  const first = ORIGINS[n % 3]!;
  const failedFirst = n % 11 === 0;
  const attempt = (origin: string, failed: boolean, status: number | undefined, ms: number): AttemptRecord => ({ key: `${POOL}/${origin}`, status, failed, ejected: failed && n % 22 === 0, ms });
  const status = [200, 200, 201, 304, 404, 503][n % 6]!;
  const attempts = failedFirst ? [attempt(first, true, undefined, 3000), attempt(ORIGINS[(n + 1) % 3]!, false, status, (n * 37) % 4000)] : [attempt(first, false, status, (n * 53) % 7000)];
  return { attempts, status };
}

type Fault = 'none' | 'lost-request' | 'lost-answer' | 'delivered-twice';
const FAULTS: Fault[] = ['none', 'lost-request', 'none', 'lost-answer', 'delivered-twice', 'none', 'lost-answer'];

describe('stats shards', () => {
  it('sums the counts of 100 isolates exactly, across lost requests, lost answers and repeated hand-overs', async () => {
    await configure({
      pools: [{ id: POOL, origins: ORIGINS.map((name, i) => ({ name, address: `http://127.0.0.1:${9 + i}` })) }],
      load_balancers: [{ id: 'main', hostname: 'sharded.test', default_pools: [POOL] }],
    });
    const run = crypto.randomUUID().slice(0, 8);
    const pop = (i: number) => `SH${run}${i % 5}`;
    const before = only(await readStats(E), POOL, (key) => key.startsWith(`SH${run}`));

    const expected = new TrafficCounter();
    const isolates = Array.from({ length: 100 }, (_, i) => {
      const counter = new TrafficCounter();
      return { i, counter, outbox: new StatsOutbox(`${run}-isolate-${i}`, counter) };
    });
    const delivered: StatsBatch[] = [];
    const faulty = (fault: Fault) => async (batch: StatsBatch): Promise<BatchReceipt> => {
      if (fault === 'lost-request') throw new Error('the hand-over never reached the shard');
      const receipt = await sendBatch(E, batch);
      delivered.push(batch);
      if (fault === 'lost-answer') throw new Error('the shard applied it; its answer was lost');
      if (fault === 'delivered-twice') {
        delivered.push(batch);
        return sendBatch(E, batch);
      }
      return receipt;
    };

    let failures = 0;
    let request = 0;
    for (let round = 0; round < 4; round++) {
      await Promise.all(
        isolates.map(async ({ i, counter, outbox }) => {
          for (let k = 0; k < 1 + ((i + round) % 4); k++) {
            const { attempts, status } = requestOf(request++);
            counter.record(attempts, POOL, pop(i), status);
            expected.record(attempts, POOL, pop(i), status);
          }
          // The last round delivers everything that is still waiting.
          const fault = round === 3 ? 'none' : FAULTS[(i * 3 + round) % FAULTS.length]!;
          await outbox.flush(faulty(fault), Date.now()).catch(() => failures++);
        }),
      );
      // Midway the shards fold their journals into their counts: batches resent after that are recognised there.
      if (round === 1) for (let n = 0; n < STATS_SHARDS; n++) await runDurableObjectAlarm(statsShard(E, n));
    }
    expect(failures).toBeGreaterThan(50);
    expect(isolates.every(({ outbox }) => !outbox.hasWork)).toBe(true);
    // Some batches reached a shard more than once; every one of them counted once.
    expect(delivered.length).toBeGreaterThan(new Set(delivered.map((b) => `${b.sender}#${b.seq}`)).size);

    const want = expected.take();
    const after = only(await readStats(E), POOL, (key) => key.startsWith(`SH${run}`));
    const gained = (key: string, kind: 'origins' | 'pools' | 'pops') => {
      const a = after[kind][key] as { requests: number } | undefined;
      const b = before[kind][key] as { requests: number } | undefined;
      return (a?.requests ?? 0) - (b?.requests ?? 0);
    };
    for (const key of Object.keys(want.origins)) {
      const now = after.origins[key]!;
      const was = before.origins[key];
      const wanted = want.origins[key]!;
      expect(now.requests - (was?.requests ?? 0)).toBe(wanted.requests);
      expect(now.failures - (was?.failures ?? 0)).toBe(wanted.failures);
      expect(now.retries - (was?.retries ?? 0)).toBe(wanted.retries);
      expect(now.ejections - (was?.ejections ?? 0)).toBe(wanted.ejections);
      expect(now.latency.map((n, b) => n - (was?.latency[b] ?? 0))).toEqual(wanted.latency);
      expect(now.latency_sum_ms - (was?.latency_sum_ms ?? 0)).toBe(wanted.latency_sum_ms);
      for (const cls of ['2xx', '3xx', '4xx', '5xx'] as const) expect((now.responses[cls] ?? 0) - (was?.responses[cls] ?? 0)).toBe(wanted.responses[cls] ?? 0);
    }
    expect(gained(POOL, 'pools')).toBe(request);
    expect(want.pools[POOL]!.requests).toBe(request);
    for (const key of Object.keys(want.pops)) expect(after.pops[key]).toEqual(want.pops[key]);

    // The stats document says the same through the admin API.
    const report = await stats();
    expect(report.pools.find((p) => p.pool === POOL)!.requests - (before.pools[POOL]?.requests ?? 0)).toBe(request);
    for (const name of ORIGINS) {
      const row = report.origins.find((o) => o.pool === POOL && o.origin === name)!;
      expect(row.requests - (before.origins[`${POOL}/${name}`]?.requests ?? 0)).toBe(want.origins[`${POOL}/${name}`]!.requests);
    }
    expect(report.pops.filter((p) => p.pop.startsWith(`SH${run}`)).reduce((sum, p) => sum + p.requests, 0)).toBe(request);

    // The 100 isolates are spread over the shards: none holds more than a fifth of them.
    const perShard = new Array(STATS_SHARDS).fill(0);
    for (const { outbox } of isolates) perShard[shardOf(outbox.sender)]++;
    expect(perShard.filter((n) => n > 0).length).toBeGreaterThanOrEqual(12);
    expect(Math.max(...perShard)).toBeLessThanOrEqual(20);
  });

  it('applies a batch once however often it arrives, writing one journal row per batch, folded into the counts by the alarm', async () => {
    const stub = E.STATS.get(E.STATS.idFromName(`stats:test-${crypto.randomUUID()}`));
    const sender = `direct-${crypto.randomUUID()}`;
    const counter = new TrafficCounter();
    const pop = `D${sender.slice(7, 13)}`;
    counter.record(requestOf(1).attempts.map((a) => ({ ...a, key: `direct/${a.key.split('/')[1]}` })), 'direct', pop, 200);
    const delta = counter.take();
    const batch = (seq: number): StatsBatch => ({ sender, seq, delta });
    const applied = async (seq: number) => ((await stub.record(batch(seq))) as BatchReceipt).applied;
    const rows = () => runInDurableObject(stub, (instance: StatsShard) => instance.store.rowsWritten);

    expect(await applied(1)).toBe(true);
    // The journal row, and the shard's first-batch time.
    expect(await rows()).toBe(2);
    expect(await applied(1)).toBe(false);
    expect(await applied(2)).toBe(true);
    expect(await applied(1)).toBe(false);
    expect(await rows()).toBe(3);

    // The alarm folds the journal in: one row per origin, pool and PoP changed, one per sender, the two journal rows deleted.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await rows()).toBe(3 + 3 + 1 + 2);
    expect(await applied(2)).toBe(false);
    expect(await applied(3)).toBe(true);
    const totals = (await stub.totals()) as StatsTotals;
    expect(totals.pops[pop]).toEqual({ requests: 3, responses: { '2xx': 3 } });
    expect(totals.origins['direct/sh-b']!.requests).toBe(3);
    // What the object reads after a restart: the folded counts and the journal since.
    const reread = await runInDurableObject(stub, (_instance: StatsShard, state) => new ShardStore(state.storage).totals());
    expect(reread).toEqual(totals);

    // A malformed batch is refused (caught here at once: an RPC promise's rejection is reported as unhandled otherwise).
    const refusal = (b: StatsBatch) => stub.record(b).then(() => 'applied', (error: Error) => error.message);
    expect(await refusal({ sender: '', seq: 1, delta })).toMatch(/sender/);
    expect(await refusal({ sender, seq: 0, delta })).toMatch(/seq/);
  });

  it('asks its senders to wait longer when more are active than its write budget allows, and forgets senders after a week', async () => {
    const stub = E.STATS.get(E.STATS.idFromName(`stats:test-${crypto.randomUUID()}`));
    const now = Date.now();
    await runInDurableObject(stub, (_instance: StatsShard, state) => {
      for (let i = 0; i < 3000; i++) state.storage.sql.exec('INSERT INTO senders (sender, seq, at) VALUES (?, ?, ?)', `busy-${i}`, 1, now - (i % 60) * 1000);
      state.storage.sql.exec('INSERT INTO senders (sender, seq, at) VALUES (?, ?, ?)', 'gone', 9, now - ACTIVE_SENDER_MS - 1);
      state.storage.sql.exec('INSERT INTO senders (sender, seq, at) VALUES (?, ?, ?)', 'forgotten', 9, now - SENDER_RETENTION_MS - 60_000);
    });
    const counter = new TrafficCounter();
    counter.record([], undefined, 'BUSY', 200);
    const receipt = (await stub.record({ sender: 'newcomer', seq: 1, delta: counter.take() })) as BatchReceipt;
    // 3,000 busy senders; the one quiet for longer than ACTIVE_SENDER_MS is not counted.
    expect(receipt.flush_after_ms).toBe(flushAfterMs(3000));
    expect(receipt.flush_after_ms).toBe(60_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const left = await runInDurableObject(stub, (_instance: StatsShard, state) =>
      state.storage.sql.exec<{ sender: string }>("SELECT sender FROM senders WHERE sender IN ('gone', 'forgotten', 'newcomer') ORDER BY sender").toArray().map((r) => r.sender),
    );
    expect(left).toEqual(['gone', 'newcomer']);
  });

  it('merges the counts the ControlPlane held before the shards, once', async () => {
    const pool = `legacy${crypto.randomUUID().slice(0, 6)}`;
    const old = new TrafficCounter();
    old.record([{ key: `${pool}/o`, status: 200, failed: false, ejected: false, ms: 40 }], pool, 'LEG', 200);
    old.record([{ key: `${pool}/o`, status: 500, failed: false, ejected: false, ms: 40 }], pool, 'LEG', 500);
    // What an isolate of the release before hands over while a deploy rolls out.
    await controlPlane(E).recordStats(old.take());
    const fresh = new TrafficCounter();
    fresh.record([{ key: `${pool}/o`, status: 200, failed: false, ejected: false, ms: 40 }], pool, 'LEG', 200);
    await sendBatch(E, { sender: `legacy-${pool}`, seq: 1, delta: fresh.take() });

    const report = await stats();
    expect(report.pools.find((p) => p.pool === pool)).toEqual({ pool, requests: 3, responses: { '1xx': 0, '2xx': 2, '3xx': 0, '4xx': 0, '5xx': 1 } });
    expect(report.origins.find((o) => o.pool === pool)).toMatchObject({ requests: 3 });
    expect((await stats()).pools.find((p) => p.pool === pool)!.requests).toBe(3);
  });

  it('answers 503 stats_unavailable, not a smaller count, when a shard does not answer', async () => {
    const real = E.STATS;
    const broken = {
      idFromName: (name: string) => real.idFromName(name),
      get: (id: DurableObjectId) => (id.equals(real.idFromName('stats:7')) ? { totals: () => Promise.reject(new Error('shard unreachable')), record: () => Promise.reject(new Error('shard unreachable')) } : real.get(id)),
    };
    const ctx = createExecutionContext();
    const res = await worker.fetch(new Request('http://localhost/__lb/api/stats', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }), { ...E, STATS: broken } as unknown as Env, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'stats_unavailable', message: expect.stringContaining('stats:7') });
  });
});
