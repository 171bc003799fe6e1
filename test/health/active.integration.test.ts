import { createExecutionContext, createScheduledController, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Env } from '../../src/env';
import type { HealthReport } from '../../src/control/health-report';
import worker from '../../src/index';
import { admin, configure, lb, startOrigin, webhookPosts } from '../support/worker';
import { check, originOf, report } from '../support/health';

// Active health checks end to end: real origins on 127.0.0.1, the real Durable
// Object, checks started by POST /health/check, the cron trigger and the alarm.

const testEnv = env as Env;
const controlStub = () => testEnv.CONTROL.get(testEnv.CONTROL.idFromName('control'));


async function servedBy(n: number, path = '/'): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await lb(path);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    names.push(`${res.headers.get('x-lb-origin')}/${res.headers.get('x-lb-attempts')}`);
  }
  return names;
}

async function healthEvents(): Promise<{ message: string; detail: { pool: string; origin: string; from: string; to: string; reason: string } }[]> {
  return ((await (await admin('GET', '/events?kind=health&limit=50')).json()) as { events: never[] }).events;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("seed 000: nginx active-backup (origin 2 is 'backup')", () => {
  it('serves everything from 1; with 1 stopped every request still succeeds from 2; after consecutive_up checks traffic returns to 1', async () => {
    const [one, two] = await Promise.all([startOrigin('nginx-1'), startOrigin('nginx-2')]);
    await configure({
      // A long interval: only POST /health/check runs probes in this test.
      monitors: [{ id: 'nginx', interval: 3600, timeout: 2, consecutive_up: 2, consecutive_down: 2 }],
      pools: [{ id: 'ab', monitor: 'nginx', origins: [{ name: 'web1', address: one.url }, { name: 'web2', address: two.url, backup: true }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['ab'] }],
    });
    expect(originOf(await check(), 'ab', 'web1').state).toBe('healthy');
    expect(await servedBy(5)).toEqual(Array(5).fill('web1/1'));

    await one.down();
    // Before any check notices, the backup takes the retry: no client error.
    const during = await servedBy(6);
    expect(during.every((s) => s.startsWith('web2/'))).toBe(true);
    // Passive health: after max_fails (3) failed attempts web1 is ejected and no longer tried first.
    expect(during).toEqual(['web2/2', 'web2/2', 'web2/2', 'web2/1', 'web2/1', 'web2/1']);

    await check();
    const down = await check();
    expect(originOf(down, 'ab', 'web1')).toMatchObject({ state: 'unhealthy', healthy: false, consecutive_down: 2 });
    expect(down.pools[0]).toMatchObject({ id: 'ab', healthy: true, healthy_origins: 1 });
    expect((await healthEvents())[0]!.detail).toMatchObject({ pool: 'ab', origin: 'web1', from: 'healthy', to: 'unhealthy' });
    // Known down: the backup serves at the first attempt.
    expect(await servedBy(4)).toEqual(Array(4).fill('web2/1'));

    await one.up();
    expect(originOf(await check(), 'ab', 'web1')).toMatchObject({ state: 'unhealthy', consecutive_up: 1 });
    expect(await servedBy(2)).toEqual(Array(2).fill('web2/1'));
    expect(originOf(await check(), 'ab', 'web1')).toMatchObject({ state: 'healthy', consecutive_up: 2 });
    // Well inside fail_timeout (10 s): the successful check, not the clock, ended the passive ejection.
    expect(await servedBy(4)).toEqual(Array(4).fill('web1/1'));
    expect((await healthEvents())[0]!.detail).toMatchObject({ origin: 'web1', from: 'unhealthy', to: 'healthy' });
  });
});

describe('seed 003: a slow server and a monitor timeout', () => {
  it('an origin answering after 2.5 s with a 2 s timeout goes unhealthy after consecutive_down checks, gets no new traffic, and recovers when fast', async () => {
    const [slow, fast] = await Promise.all([startOrigin('slow'), startOrigin('fast')]);
    await configure({
      monitors: [{ id: 'to', interval: 3600, timeout: 2, consecutive_up: 1, consecutive_down: 2 }],
      pools: [{ id: 'web', monitor: 'to', origins: [{ name: 'slow', address: slow.url }, { name: 'fast', address: fast.url }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['web'] }],
    });
    await slow.mode({ delayMs: 2500 });
    expect(originOf(await check(), 'web', 'slow')).toMatchObject({ state: 'healthy', consecutive_down: 1 });
    const after = originOf(await check(), 'web', 'slow');
    expect(after).toMatchObject({ state: 'unhealthy', consecutive_down: 2 });
    expect(after.reason).toMatch(/timeout/i);
    const event = (await healthEvents())[0]!;
    expect(event.detail).toMatchObject({ pool: 'web', origin: 'slow', to: 'unhealthy' });
    expect(event.detail.reason).toMatch(/timeout/i);

    await slow.clearLog();
    expect(new Set(await servedBy(6))).toEqual(new Set(['fast/1']));
    expect((await slow.log()).filter((r) => r.headers['user-agent'] !== 'switchyard-monitor')).toEqual([]);

    await slow.mode({ delayMs: 0 });
    expect(originOf(await check(), 'web', 'slow').state).toBe('healthy');
    expect(new Set(await servedBy(4))).toEqual(new Set(['slow/1', 'fast/1']));
  });
});

describe('the health document', () => {
  it('shows state, counters, last check time, RTT and reason for each origin', async () => {
    const [up, gone] = await Promise.all([startOrigin('doc-up'), startOrigin('doc-gone')]);
    await gone.down();
    await configure({
      monitors: [{ id: 'doc', interval: 3600, timeout: 2, consecutive_down: 1 }],
      pools: [
        { id: 'checked', monitor: 'doc', minimum_origins: 2, origins: [{ name: 'up', address: up.url }, { name: 'gone', address: gone.url }] },
        { id: 'unchecked', origins: [{ name: 'plain', address: up.url }] },
      ],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['checked', 'unchecked'] }],
    });
    const before = originOf(await report(), 'checked', 'up');
    expect(before).toMatchObject({ state: 'unknown', healthy: true, last_check_at: null, rtt_ms: null });

    const started = Date.now();
    const doc = await check();
    const ok = originOf(doc, 'checked', 'up');
    expect(ok).toMatchObject({ state: 'healthy', healthy: true, consecutive_up: 1, consecutive_down: 0, reason: '' });
    expect(Date.parse(ok.last_check_at!)).toBeGreaterThanOrEqual(started - 1000);
    expect(ok.rtt_ms).toBeGreaterThanOrEqual(0);
    const failed = originOf(doc, 'checked', 'gone');
    expect(failed).toMatchObject({ state: 'unhealthy', healthy: false, consecutive_down: 1 });
    expect(failed.reason).not.toBe('');
    // minimum_origins 2 with one healthy: the pool is unhealthy and steering skips it.
    expect(doc.pools).toEqual([
      { id: 'checked', healthy: false, healthy_origins: 1, minimum_origins: 2 },
      { id: 'unchecked', healthy: true, healthy_origins: 1, minimum_origins: 1 },
    ]);
    expect(originOf(doc, 'unchecked', 'plain').state).toBe('unknown');
    const res = await lb('/');
    expect(res.headers.get('x-lb-pool')).toBe('unchecked');
  });

  it('posts each transition to HEALTH_WEBHOOK_URL as JSON', async () => {
    const origin = await startOrigin('hooked');
    await configure({
      monitors: [{ id: 'hook', interval: 3600, timeout: 2, consecutive_down: 1 }],
      pools: [{ id: 'hooks', monitor: 'hook', origins: [{ name: 'hooked', address: origin.url }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['hooks'] }],
    });
    await check();
    await origin.down();
    await check();
    await vi.waitFor(
      async () => {
        const posts = await webhookPosts();
        expect(posts).toContainEqual(
          expect.objectContaining({ event: 'health_transition', balancer: 'switchyard', pool: 'hooks', origin: 'hooked', from: 'healthy', to: 'unhealthy' }),
        );
      },
      { timeout: 5000, interval: 50 },
    );
  });
});

describe('scheduling: cron trigger and Durable Object alarm, with fake time', () => {
  it('arms an alarm for the next due probe; the alarm and the cron run the due checks as time passes', async () => {
    const origin = await startOrigin('scheduled');
    const t0 = Date.now() + 3_600_000;
    vi.useFakeTimers({ toFake: ['Date'], now: t0 });
    await configure({
      monitors: [{ id: 'fast', interval: 15, timeout: 2, consecutive_up: 1, consecutive_down: 2 }],
      pools: [{ id: 'sched', monitor: 'fast', origins: [{ name: 'scheduled', address: origin.url }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['sched'] }],
    });
    const alarmAt = () => runInDurableObject(controlStub(), (_instance, state) => state.storage.getAlarm());
    // Never checked: due at once (the alarm waits at least a second).
    expect(await alarmAt()).toBeGreaterThanOrEqual(t0);
    expect(await alarmAt()).toBeLessThanOrEqual(t0 + 1000);

    expect(await runDurableObjectAlarm(controlStub())).toBe(true);
    const first = originOf(await report(), 'sched', 'scheduled');
    expect(first).toMatchObject({ state: 'healthy', consecutive_up: 1 });
    expect(await alarmAt()).toBe(Date.parse(first.last_check_at!) + 15_000);

    // Nothing is due yet: the alarm changes nothing.
    vi.setSystemTime(t0 + 5_000);
    await runDurableObjectAlarm(controlStub());
    expect(originOf(await report(), 'sched', 'scheduled').consecutive_up).toBe(1);

    // 15 s later the alarm probes again.
    await origin.down();
    vi.setSystemTime(t0 + 16_000);
    await runDurableObjectAlarm(controlStub());
    expect(originOf(await report(), 'sched', 'scheduled')).toMatchObject({ state: 'healthy', consecutive_down: 1 });

    // The cron trigger runs the same due checks a minute on.
    vi.setSystemTime(t0 + 60_000);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: t0 + 60_000, cron: '* * * * *' }), testEnv, ctx);
    await waitOnExecutionContext(ctx);
    expect(originOf(await report(), 'sched', 'scheduled')).toMatchObject({ state: 'unhealthy', consecutive_down: 2 });
    expect(await alarmAt()).toBeGreaterThan(t0 + 60_000);
  });

  it('clears the alarm when nothing is monitored', async () => {
    const origin = await startOrigin('unmonitored');
    await configure({
      pools: [{ id: 'plain', origins: [{ name: 'o', address: origin.url }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['plain'] }],
    });
    expect(await runInDurableObject(controlStub(), (_i, state) => state.storage.getAlarm())).toBeNull();
  });
});

describe('dynamic_latency steering', () => {
  it('orders pools by the moving average of probe round trips', async () => {
    const [near, far] = await Promise.all([startOrigin('near'), startOrigin('far')]);
    await far.mode({ delayMs: 60 });
    await configure({
      monitors: [{ id: 'rtt', interval: 3600, timeout: 2 }],
      pools: [
        { id: 'far-pool', monitor: 'rtt', origins: [{ name: 'far', address: far.url }] },
        { id: 'near-pool', monitor: 'rtt', origins: [{ name: 'near', address: near.url }] },
      ],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['far-pool', 'near-pool'], steering_policy: 'dynamic_latency' }],
    });
    const doc = await check();
    expect(originOf(doc, 'far-pool', 'far').rtt_ms!).toBeGreaterThan(originOf(doc, 'near-pool', 'near').rtt_ms!);
    const res = await lb('/');
    expect(res.headers.get('x-lb-pool')).toBe('near-pool');
    await res.arrayBuffer();

    // The far pool gets faster, the near one slower: a few probes move the average over.
    await far.mode({ delayMs: 0 });
    await near.mode({ delayMs: 120 });
    for (let i = 0; i < 4; i++) await check();
    const after = await lb('/');
    expect(after.headers.get('x-lb-pool')).toBe('far-pool');
    await after.arrayBuffer();
  });
});

describe('POST /health/check, called concurrently', () => {
  it('returns only after the probes it asked for, those another call was running included', async () => {
    const origins = await Promise.all(['join-1', 'join-2', 'join-3'].map((n) => startOrigin(n)));
    await Promise.all(origins.map((o) => o.mode({ delayMs: 400 })));
    await configure({
      monitors: [{ id: 'join', interval: 3600, timeout: 5 }],
      pools: [{ id: 'join', monitor: 'join', origins: origins.map((o, i) => ({ name: `j${i + 1}`, address: o.url })) }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['join'] }],
    });
    const reports = await Promise.all(Array.from({ length: 10 }, () => check()));
    for (const r of reports) {
      const states = r.origins.filter((o) => o.pool === 'join').map((o) => `${o.origin} ${o.state} ${o.last_check_at === undefined || o.last_check_at === null ? 'never' : 'checked'}`);
      expect(states).toEqual(['j1 healthy checked', 'j2 healthy checked', 'j3 healthy checked']);
    }
    await Promise.all(origins.map((o) => o.mode({ delayMs: 0 })));
  });
});
