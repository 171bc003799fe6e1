import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS_MS, type StatsTotals, mergeStats, percentileMs, statsReport, statusClass, TrafficCounter, type AttemptRecord } from '../../src/stats/traffic';

const attempt = (origin: string, extra: Partial<AttemptRecord> = {}): AttemptRecord => ({
  key: `p/${origin}`,
  status: 200,
  failed: false,
  ejected: false,
  ms: 12,
  ...extra,
});

describe('TrafficCounter', () => {
  it('counts attempts per origin, retries after the first, and the answer per pool and PoP', () => {
    const counter = new TrafficCounter();
    counter.record([attempt('a', { status: 503, failed: true, ejected: true }), attempt('b')], 'p', 'FRA', 200);
    counter.record([attempt('b', { status: 404 })], 'p', 'FRA', 404);
    counter.record([attempt('a', { status: undefined, failed: true, ms: 3000 })], undefined, undefined, 502);
    expect(counter.pendingCount).toBe(3);
    const delta = counter.take();
    expect(counter.pendingCount).toBe(0);
    expect(delta.origins['p/a']).toMatchObject({ requests: 2, failures: 2, ejections: 1, retries: 0, responses: { '5xx': 1 } });
    expect(delta.origins['p/b']).toMatchObject({ requests: 2, failures: 0, retries: 1, responses: { '2xx': 1, '4xx': 1 } });
    // Failed attempts stay out of the latency histogram.
    expect(delta.origins['p/a']!.latency.reduce((x, y) => x + y, 0)).toBe(0);
    expect(delta.pools.p).toEqual({ requests: 2, responses: { '2xx': 1, '4xx': 1 } });
    expect(delta.pops).toEqual({ FRA: { requests: 2, responses: { '2xx': 1, '4xx': 1 } }, unknown: { requests: 1, responses: { '5xx': 1 } } });
  });
});

describe('merging and reporting', () => {
  it('adds deltas into totals', () => {
    const one = new TrafficCounter();
    one.record([attempt('a')], 'p', 'FRA', 200);
    const two = new TrafficCounter();
    two.record([attempt('a', { ms: 700 })], 'p', 'AMS', 200);
    const empty: StatsTotals = { origins: {}, pools: {}, pops: {}, since: 0 };
    const totals = mergeStats(mergeStats(empty, one.take()), two.take());
    expect(totals.origins['p/a']).toMatchObject({ requests: 2, latency_sum_ms: 712 });
    expect(Object.keys(totals.pops).sort()).toEqual(['AMS', 'FRA']);
  });

  it('estimates percentiles inside histogram buckets', () => {
    const latency = new Array(LATENCY_BUCKETS_MS.length + 1).fill(0);
    expect(percentileMs(latency, 0.5)).toBeNull();
    latency[2] = 100; // all in (10, 25] ms
    expect(percentileMs(latency, 0.5)).toBe(17.5);
    latency[5] = 100; // half in (100, 250]
    expect(percentileMs(latency, 0.5)).toBe(25);
    expect(percentileMs(latency, 0.95)).toBe(235);
  });

  it('lists every configured origin, zeros included', () => {
    const report = statsReport({ origins: {}, pools: {}, pops: {}, since: 0 }, [{ pool: 'p', origin: 'idle' }], () => 2);
    expect(report.origins).toEqual([
      expect.objectContaining({ pool: 'p', origin: 'idle', requests: 0, in_flight: 2, responses: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 } }),
    ]);
  });

  it('classes statuses', () => {
    expect([101, 200, 301, 404, 503, 99, 700].map(statusClass)).toEqual(['1xx', '2xx', '3xx', '4xx', '5xx', '1xx', '5xx']);
  });
});
