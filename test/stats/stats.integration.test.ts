import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Env } from '../../src/env';
import worker from '../../src/index';
import type { StatsReport } from '../../src/stats/traffic';
import { parsePrometheus, valueOf, type MetricFamily } from '../support/prometheus';
import { admin, configure, lb, startOrigin, ADMIN_TOKEN } from '../support/worker';

// Stats and metrics count real proxied traffic: N requests in, N counted.

async function stats(): Promise<StatsReport> {
  const res = await admin('GET', '/stats');
  expect(res.status).toBe(200);
  return (await res.json()) as StatsReport;
}

async function metrics(): Promise<MetricFamily[]> {
  const res = await lb('/__lb/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await res.text());
}

afterEach(() => vi.useRealTimers());

describe('GET /__lb/api/stats', () => {
  it('counts every proxied request by origin, status class, pool and PoP', async () => {
    const origins = await Promise.all(['st-a', 'st-b', 'st-c'].map((n) => startOrigin(n)));
    await origins[2]!.mode({ paths: { '/missing': 404 } });
    await configure({
      pools: [{ id: 'stats', origins: origins.map((o, i) => ({ name: `st-${'abc'[i]}`, address: o.url })) }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['stats'] }],
    });
    for (let i = 0; i < 30; i++) {
      const res = await lb(i % 3 === 2 && i < 15 ? '/missing' : '/', { headers: { 'x-lb-sim-colo': 'AMS' } });
      await res.arrayBuffer();
    }
    const report = await stats();
    const of = (name: string) => report.origins.find((o) => o.pool === 'stats' && o.origin === name)!;
    expect(of('st-a')).toMatchObject({ requests: 10, responses: { '2xx': 10, '4xx': 0, '5xx': 0 }, failures: 0, retries: 0, in_flight: 0 });
    expect(of('st-b')).toMatchObject({ requests: 10, responses: { '2xx': 10 } });
    // Round robin sends every third request to st-c; five of them asked for /missing.
    expect(of('st-c')).toMatchObject({ requests: 10, responses: { '2xx': 5, '4xx': 5 } });
    expect(of('st-a').latency_ms.p50).not.toBeNull();
    expect(of('st-a').latency_ms.p95!).toBeGreaterThanOrEqual(of('st-a').latency_ms.p50!);
    expect(report.pools.find((p) => p.pool === 'stats')).toMatchObject({ requests: 30, responses: { '2xx': 25, '4xx': 5 } });
    expect(report.pops.find((p) => p.pop === 'AMS')!.requests).toBeGreaterThanOrEqual(30);
  });

  it('counts failures, retries and ejections when an origin is down', async () => {
    const [up, down] = await Promise.all([startOrigin('fr-up'), startOrigin('fr-down')]);
    await down.down();
    await configure({
      pools: [{ id: 'fr', origins: [{ name: 'fr-down', address: down.url }, { name: 'fr-up', address: up.url }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['fr'], passive_health: { max_fails: 2, fail_timeout: 60, max_ejection_percent: 50 } }],
    });
    for (let i = 0; i < 10; i++) expect((await lb('/')).status).toBe(200);
    const report = await stats();
    const of = (name: string) => report.origins.find((o) => o.pool === 'fr' && o.origin === name)!;
    // Round robin tries fr-down first on every other request until two failures eject it.
    expect(of('fr-down')).toMatchObject({ requests: 2, failures: 2, ejections: 1, responses: { '2xx': 0 } });
    expect(of('fr-up')).toMatchObject({ requests: 10, failures: 0, retries: 2, responses: { '2xx': 10 } });
  });

  it('adds no KV or Durable Object call to the request path: counts are flushed in the background, at most every 10 s', async () => {
    const origin = await startOrigin('flushed');
    await configure({
      pools: [{ id: 'flush', origins: [{ name: 'flushed', address: origin.url }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['flush'] }],
    });
    await stats(); // flushes whatever earlier tests left pending
    const calls: string[] = [];
    const base = env as Env;
    const counting = <T extends object>(name: string, namespace: T): T =>
      new Proxy(namespace, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver);
          return typeof value === 'function'
            ? (...args: unknown[]) => {
                calls.push(`${name}.${String(prop)}`);
                return (value as (...a: unknown[]) => unknown).apply(target, args);
              }
            : value;
        },
      });
    const counted = { ...base, CONTROL: counting('control', base.CONTROL), STATS: counting('stats', base.STATS) } as Env;
    const send = async () => {
      const ctx = createExecutionContext();
      const res = await worker.fetch(new Request('http://app.test/'), counted, ctx);
      await res.arrayBuffer();
      expect(res.status).toBe(200);
      await waitOnExecutionContext(ctx);
    };

    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    for (let i = 0; i < 5; i++) await send();
    expect(calls).toEqual([]);

    // Past 10 s, one request hands the counts over to its stats shard, in
    // ctx.waitUntil; the next ones do not, and nothing goes to the ControlPlane.
    vi.setSystemTime(Date.now() + 11_000);
    await send();
    expect(calls).toEqual(['stats.idFromName', 'stats.get']);
    for (let i = 0; i < 5; i++) await send();
    expect(calls).toHaveLength(2);
    vi.useRealTimers();
    const report = await stats();
    expect(report.origins.find((o) => o.pool === 'flush' && o.origin === 'flushed')!.requests).toBe(11);
  });
});

describe('GET /__lb/metrics', () => {
  it('is Prometheus text that a parser reads, with counts matching the traffic', async () => {
    const [a, b] = await Promise.all([startOrigin('pm-a'), startOrigin('pm-b')]);
    await configure({
      monitors: [{ id: 'pm', interval: 3600 }],
      pools: [{ id: 'prom', monitor: 'pm', origins: [{ name: 'pm-a', address: a.url }, { name: 'pm-b', address: b.url, weight: 3 }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['prom'] }],
    });
    await b.down();
    expect((await admin('POST', '/health/check')).status).toBe(200);
    await b.up();
    for (let i = 0; i < 12; i++) await (await lb('/')).arrayBuffer();

    const families = await metrics();
    for (const family of families) expect(family.name).toMatch(/^switchyard_[a-z_]+$/);
    expect(families.find((f) => f.name === 'switchyard_origin_requests_total')!.type).toBe('counter');
    expect(valueOf(families, 'switchyard_origin_requests_total', { pool: 'prom', origin: 'pm-a', code: '2xx' })).toBe(3);
    expect(valueOf(families, 'switchyard_origin_requests_total', { pool: 'prom', origin: 'pm-b', code: '2xx' })).toBe(9);
    expect(valueOf(families, 'switchyard_origin_response_seconds_count', { pool: 'prom', origin: 'pm-b' })).toBe(9);
    expect(valueOf(families, 'switchyard_origin_response_seconds_bucket', { pool: 'prom', origin: 'pm-b', le: '+Inf' })).toBe(9);
    expect(valueOf(families, 'switchyard_origin_response_seconds_sum', { pool: 'prom', origin: 'pm-b' })).toBeGreaterThan(0);
    // One failed check of pm-b; a single failure is below consecutive_down: still up.
    expect(valueOf(families, 'switchyard_origin_check_failures_total', { pool: 'prom', origin: 'pm-b' })).toBe(1);
    expect(valueOf(families, 'switchyard_origin_up', { pool: 'prom', origin: 'pm-b' })).toBe(1);
    expect(valueOf(families, 'switchyard_pool_healthy', { pool: 'prom' })).toBe(1);
    expect(valueOf(families, 'switchyard_config_version')).toBeGreaterThan(0);
  });

  it('the reader used here refuses what Prometheus would refuse', () => {
    expect(() => parsePrometheus('x 1')).toThrow(/newline/);
    expect(() => parsePrometheus('# TYPE x counter\nx{a="b} 1\n')).toThrow(/labels/);
    expect(() => parsePrometheus('# TYPE x counter\nx -1\n')).toThrow(/counter/);
    expect(() => parsePrometheus('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n')).toThrow(/cumulative/);
    expect(() => parsePrometheus('# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\n# TYPE x gauge\n')).toThrow(/two blocks/);
  });

  it('needs the bearer token', async () => {
    const res = await lb('/__lb/metrics');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });
});
