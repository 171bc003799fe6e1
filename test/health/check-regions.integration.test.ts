import { runDurableObjectAlarm } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HealthReport } from '../../src/control/health-report';
import type { Env } from '../../src/env';
import { parsePrometheus, valueOf } from '../support/prometheus';
import { admin, ADMIN_TOKEN, configure, lb, startOrigin, webhookPosts, type TestOrigin } from '../support/worker';
import { check, originOf, report } from '../support/health';

// Check regions (SPEC §4) end to end: one prober Durable Object per region, real
// origins on 127.0.0.1 that refuse, delay or answer the probes of one region
// (x-lb-probe-region) otherwise than the rest, clients placed in a region by the
// simulation headers (FRA is in WEU, IAD in ENAM, SIN in SEAS, GRU in SSAM).

const testEnv = env as Env;
const proberStub = (region: string) => testEnv.PROBERS.get(testEnv.PROBERS.idFromName(`probe:${region}`));

const verdicts = (r: HealthReport, pool: string, origin: string) => originOf(r, pool, origin).regions?.map((v) => `${v.region} ${v.state}${v.healthy ? '' : ' (skipped)'}`);

/** The origins that serve `n` requests from a client at `colo`. */
async function servedFrom(colo: string, n = 6): Promise<Set<string>> {
  const names = new Set<string>();
  for (let i = 0; i < n; i++) {
    const res = await lb('/', { headers: { 'x-lb-sim-colo': colo } });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    names.add(`${res.headers.get('x-lb-pool')}/${res.headers.get('x-lb-origin')}`);
  }
  return names;
}

async function healthEvents(): Promise<{ message: string; detail: Record<string, unknown> }[]> {
  return ((await (await admin('GET', '/events?kind=health&limit=50')).json()) as { events: never[] }).events;
}

async function probeRegions(origin: TestOrigin): Promise<string[]> {
  const log = await origin.log();
  return log.filter((r) => r.headers['user-agent'] === 'switchyard-monitor').map((r) => r.headers['x-lb-probe-region'] ?? 'control plane');
}

afterEach(() => {
  vi.useRealTimers();
});

describe('three check regions, one of which cannot reach origin a', () => {
  it('keeps a healthy by majority and skips it for that region only; with two regions cut off it is unhealthy for every client', async () => {
    const [a, b, plain] = await Promise.all([startOrigin('region-a'), startOrigin('region-b'), startOrigin('region-plain')]);
    await configure({
      monitors: [{ id: 'regional', interval: 3600, timeout: 2, consecutive_up: 1, consecutive_down: 1 }],
      pools: [
        { id: 'world', monitor: 'regional', check_regions: ['WEU', 'ENAM', 'SEAS'], origins: [{ name: 'a', address: a.url }, { name: 'b', address: b.url }] },
        { id: 'local', monitor: 'regional', origins: [{ name: 'plain', address: plain.url }] },
      ],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['world', 'local'] }],
    });
    await a.mode({ regions: { SEAS: { reset: true } } });

    const doc = await check();
    expect(originOf(doc, 'world', 'a')).toMatchObject({ healthy: true, state: 'healthy' });
    expect(originOf(doc, 'world', 'a').reason).toMatch(/unhealthy from 1 of 3 check regions \(SEAS: .+\); healthy by majority/);
    expect(verdicts(doc, 'world', 'a')).toEqual(['WEU healthy', 'ENAM healthy', 'SEAS unhealthy (skipped)']);
    expect(verdicts(doc, 'world', 'b')).toEqual(['WEU healthy', 'ENAM healthy', 'SEAS healthy']);
    expect(doc.pools.find((p) => p.id === 'world')).toEqual({
      id: 'world',
      healthy: true,
      healthy_origins: 2,
      minimum_origins: 1,
      regions: [
        { region: 'WEU', healthy: true, healthy_origins: 2 },
        { region: 'ENAM', healthy: true, healthy_origins: 2 },
        { region: 'SEAS', healthy: true, healthy_origins: 1 },
      ],
    });
    // A pool without check_regions is the control plane's, as before: no regions in its rows.
    expect(originOf(doc, 'local', 'plain')).not.toHaveProperty('regions');

    // Skipped for the clients of SEAS; served to everyone else, those of a region without a prober (GRU: SSAM) included.
    expect(await servedFrom('SIN')).toEqual(new Set(['world/b']));
    expect(await servedFrom('FRA')).toEqual(new Set(['world/a', 'world/b']));
    expect(await servedFrom('IAD')).toEqual(new Set(['world/a', 'world/b']));
    expect(await servedFrom('GRU')).toEqual(new Set(['world/a', 'world/b']));

    // Each region probed a from its own prober; the control plane probed only the pool without check_regions.
    expect(new Set(await probeRegions(a))).toEqual(new Set(['WEU', 'ENAM', 'SEAS']));
    expect(new Set(await probeRegions(plain))).toEqual(new Set(['control plane']));

    // Prometheus: each region's verdict and round trip beside the origin's own.
    const metrics = parsePrometheus(await (await lb('/__lb/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text());
    expect(valueOf(metrics, 'switchyard_origin_up', { pool: 'world', origin: 'a' })).toBe(1);
    expect(valueOf(metrics, 'switchyard_origin_region_up', { pool: 'world', origin: 'a', region: 'SEAS' })).toBe(0);
    expect(valueOf(metrics, 'switchyard_origin_region_up', { pool: 'world', origin: 'a', region: 'WEU' })).toBe(1);
    expect(valueOf(metrics, 'switchyard_origin_region_check_rtt_seconds', { pool: 'world', origin: 'b', region: 'ENAM' })).toBeGreaterThanOrEqual(0);
    expect(valueOf(metrics, 'switchyard_origin_region_up', { pool: 'local', origin: 'plain', region: 'WEU' })).toBeUndefined();

    const regional = (await healthEvents()).find((e) => e.detail.origin === 'a');
    expect(regional?.detail).toMatchObject({ pool: 'world', origin: 'a', region: 'SEAS', from: 'unknown', to: 'unhealthy' });
    expect(regional?.message).toMatch(/^origin world\/a unknown -> unhealthy from SEAS: /);

    // A second region loses a: unhealthy by majority, for every client, WEU's included.
    await a.mode({ regions: { SEAS: { reset: true }, ENAM: { reset: true } } });
    const cut = await check();
    expect(originOf(cut, 'world', 'a')).toMatchObject({ healthy: false, state: 'unhealthy' });
    expect(verdicts(cut, 'world', 'a')).toEqual(['WEU healthy (skipped)', 'ENAM unhealthy (skipped)', 'SEAS unhealthy (skipped)']);
    for (const colo of ['SIN', 'FRA', 'IAD', 'GRU']) expect(await servedFrom(colo)).toEqual(new Set(['world/b']));
    const events = await healthEvents();
    expect(events[0]!.detail).toMatchObject({ pool: 'world', origin: 'a', from: 'healthy', to: 'unhealthy' });
    expect(events[0]!.detail).not.toHaveProperty('region');
    expect(events[0]!.detail.reason).toMatch(/^unhealthy from 2 of 3 check regions \(ENAM: .+; SEAS: .+\)$/);
    expect(events[1]!.detail).toMatchObject({ pool: 'world', origin: 'a', region: 'ENAM', from: 'healthy', to: 'unhealthy' });
    await vi.waitFor(
      async () => {
        const posts = await webhookPosts();
        expect(posts).toContainEqual(expect.objectContaining({ pool: 'world', origin: 'a', region: 'ENAM', to: 'unhealthy' }));
        expect(posts).toContainEqual(expect.objectContaining({ pool: 'world', origin: 'a', from: 'healthy', to: 'unhealthy', reason: expect.stringMatching(/^unhealthy from 2 of 3/) }));
      },
      { timeout: 5000, interval: 50 },
    );

    // Reachable again from everywhere: back for every client.
    await a.mode({ regions: {} });
    const back = await check();
    expect(verdicts(back, 'world', 'a')).toEqual(['WEU healthy', 'ENAM healthy', 'SEAS healthy']);
    expect(originOf(back, 'world', 'a')).toMatchObject({ healthy: true, state: 'healthy', reason: '' });
    expect(await servedFrom('SIN')).toEqual(new Set(['world/a', 'world/b']));
  });
});

describe("each region's prober on its own", () => {
  it('runs its round while another region is still waiting on an origin that hangs', async () => {
    const origin = await startOrigin('region-hang');
    // Date only: the probers' alarms stay an hour away, so only this test runs them; timers are real.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 3_600_000 });
    await configure({
      monitors: [{ id: 'hang', interval: 60, timeout: 2, consecutive_down: 1 }],
      pools: [{ id: 'hanging', monitor: 'hang', check_regions: ['WEU', 'SEAS'], origins: [{ name: 'h', address: origin.url }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['hanging'] }],
    });
    await origin.mode({ regions: { SEAS: { delayMs: 5000 } } });

    let seasDone = false;
    const seas = runDurableObjectAlarm(proberStub('SEAS')).then((ran) => {
      seasDone = true;
      return ran;
    });
    expect(await runDurableObjectAlarm(proberStub('WEU'))).toBe(true);
    expect(seasDone).toBe(false);
    const during = await report();
    expect(verdicts(during, 'hanging', 'h')).toEqual(['WEU healthy', 'SEAS unknown']);

    expect(await seas).toBe(true);
    const after = await report();
    expect(verdicts(after, 'hanging', 'h')).toEqual(['WEU healthy', 'SEAS unhealthy (skipped)']);
    expect(originOf(after, 'hanging', 'h').regions![1]!.reason).toMatch(/timeout after 2000 ms/);
    // One of two: a tie, healthy.
    expect(originOf(after, 'hanging', 'h')).toMatchObject({ healthy: true, state: 'healthy' });
    await origin.mode({ regions: {} });
  });
});

describe('dynamic_latency with round trips per region', () => {
  it('sends the clients of two regions to different pools, each to the one nearer to it', async () => {
    const [eu, us] = await Promise.all([startOrigin('latency-eu'), startOrigin('latency-us')]);
    await configure({
      monitors: [{ id: 'rtt', interval: 3600, timeout: 2 }],
      pools: [
        { id: 'pool-us', monitor: 'rtt', check_regions: ['WEU', 'ENAM'], origins: [{ name: 'us', address: us.url }] },
        { id: 'pool-eu', monitor: 'rtt', check_regions: ['WEU', 'ENAM'], origins: [{ name: 'eu', address: eu.url }] },
      ],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['pool-us', 'pool-eu'], steering_policy: 'dynamic_latency' }],
    });
    // Each origin is far from the other region: its probes from there take 150 ms longer.
    await eu.mode({ regions: { ENAM: { delayMs: 150 } } });
    await us.mode({ regions: { WEU: { delayMs: 150 } } });
    const doc = await check();
    const rtt = (pool: string, origin: string, region: string) => originOf(doc, pool, origin).regions!.find((v) => v.region === region)!.rtt_ms!;
    expect(rtt('pool-eu', 'eu', 'ENAM')).toBeGreaterThan(rtt('pool-eu', 'eu', 'WEU') + 100);
    expect(rtt('pool-us', 'us', 'WEU')).toBeGreaterThan(rtt('pool-us', 'us', 'ENAM') + 100);

    expect(await servedFrom('FRA', 3)).toEqual(new Set(['pool-eu/eu']));
    expect(await servedFrom('IAD', 3)).toEqual(new Set(['pool-us/us']));

    const explain = (await (await admin('GET', '/explain?host=app.test&colo=FRA')).json()) as { trace: string[] };
    expect(explain.trace.join('\n')).toMatch(/by mean probe RTT \(from WEU where probed there\): pool-eu [\d.]+ ms, pool-us [\d.]+ ms/);
    await Promise.all([eu.mode({ regions: {} }), us.mode({ regions: {} })]);
  });
});
