import { describe, expect, it } from 'vitest';
import {
  applyOutcomes,
  DUE_SLACK_MS,
  dueTargets,
  HEALTH_PUBLISH_MS,
  healthPublishDue,
  nextAlarm,
  nextDue,
  pruneHealth,
  targetKey,
  type CheckTarget,
} from '../../src/control/health-schedule';
import type { Config } from '../../src/config/schema';
import type { ProbeResult } from '../../src/health/rise-fall';
import type { HealthMap, OriginHealth } from '../../src/health/state';
import { loadBalancer, origin, pool, validConfig } from '../support/configs';

// SPEC §4: which origins are probed when, and what a round's outcomes do to the health
// map, without a Durable Object: the configuration, the health map and `now` in.

const T0 = Date.parse('2026-11-22T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const checkedAt = (ms: number, extra: Partial<OriginHealth> = {}): OriginHealth => ({ healthy: true, consecutive_up: 1, consecutive_down: 0, last_check_at: iso(ms), reason: '', ...extra });
const ok = (rtt_ms = 10): ProbeResult => ({ ok: true, rtt_ms, reason: '' });
const fail = (reason = 'status 503 not in 2xx'): ProbeResult => ({ ok: false, rtt_ms: 5, reason });
const names = (targets: readonly CheckTarget[]) => targets.map((t) => `${t.pool.id}/${t.origin.name}`);

/** Pool `fast` (monitor every 15 s, rise 2, fall 3) with a, b; pool `slow` (every 60 s) with c. */
function config(extra: { fastEnabled?: boolean; bEnabled?: boolean; slowMonitor?: string | undefined } = {}): Config {
  return validConfig({
    monitors: [
      { id: 'fast', interval: 15, consecutive_up: 2, consecutive_down: 3 },
      { id: 'slow', interval: 60 },
    ],
    pools: [
      pool('fast', ['a', origin('b', { enabled: extra.bEnabled ?? true })], { monitor: 'fast', enabled: extra.fastEnabled ?? true }),
      pool('slow', ['c'], { monitor: 'slowMonitor' in extra ? extra.slowMonitor : 'slow' }),
    ],
    load_balancers: [loadBalancer({ default_pools: ['fast', 'slow'] })],
  });
}

describe('dueTargets', () => {
  it('an origin never checked is due at once; one checked is due an interval later, DUE_SLACK_MS early at most', () => {
    const health: HealthMap = { fast: { a: checkedAt(T0), b: checkedAt(T0) }, slow: { c: checkedAt(T0) } };
    expect(names(dueTargets(config(), {}, T0))).toEqual(['fast/a', 'fast/b', 'slow/c']);
    expect(dueTargets(config(), health, T0 + 15_000 - DUE_SLACK_MS - 1)).toEqual([]);
    expect(names(dueTargets(config(), health, T0 + 15_000 - DUE_SLACK_MS))).toEqual(['fast/a', 'fast/b']);
    expect(names(dueTargets(config(), health, T0 + 15_000))).toEqual(['fast/a', 'fast/b']);
    expect(names(dueTargets(config(), health, T0 + 60_000 - DUE_SLACK_MS - 1))).toEqual(['fast/a', 'fast/b']);
    expect(names(dueTargets(config(), health, T0 + 60_000 - DUE_SLACK_MS))).toEqual(['fast/a', 'fast/b', 'slow/c']);
  });

  it('`all` takes every monitored origin whether due or not; origins in `busy` are left to the round probing them', () => {
    const health: HealthMap = { fast: { a: checkedAt(T0), b: checkedAt(T0) }, slow: { c: checkedAt(T0) } };
    expect(names(dueTargets(config(), health, T0 + 1, { all: true }))).toEqual(['fast/a', 'fast/b', 'slow/c']);
    expect(names(dueTargets(config(), {}, T0, { busy: new Set([targetKey('fast', 'a')]) }))).toEqual(['fast/b', 'slow/c']);
  });

  it('the longest unchecked go first (never checked before all), so a round cut short by its subrequests leaves the newest checked', () => {
    const health: HealthMap = { fast: { a: checkedAt(T0 + 3000), b: checkedAt(T0 + 1000) }, slow: { c: checkedAt(T0 + 2000) } };
    expect(names(dueTargets(config(), health, T0 + 120_000))).toEqual(['fast/b', 'slow/c', 'fast/a']);
    expect(names(dueTargets(config(), { fast: { a: checkedAt(T0) } }, T0 + 1, { all: true }))).toEqual(['fast/b', 'slow/c', 'fast/a']);
  });

  it('an unchecked outcome (no subrequests left) changes nothing: no result, no transition, the failure count kept', () => {
    const stored: HealthMap = { fast: { a: checkedAt(T0, { healthy: true, consecutive_down: 2, consecutive_up: 0 }) } };
    const targets = dueTargets(config(), stored, T0 + 120_000).filter((t) => t.pool.id === 'fast');
    const unchecked: ProbeResult = { ok: false, rtt_ms: 0, reason: 'not checked: no subrequests left in this invocation', unchecked: true };
    const { health, changes, applied } = applyOutcomes(config(), stored, targets, targets.map(() => unchecked), T0 + 120_000);
    expect(health.fast).toEqual(stored.fast);
    expect(changes).toEqual([]);
    expect(applied).toEqual([]);
  });

  it('skips disabled pools, disabled origins and pools without a monitor; nothing without a configuration', () => {
    expect(names(dueTargets(config({ fastEnabled: false }), {}, T0))).toEqual(['slow/c']);
    expect(names(dueTargets(config({ bEnabled: false }), {}, T0))).toEqual(['fast/a', 'slow/c']);
    expect(names(dueTargets(config({ slowMonitor: undefined }), {}, T0))).toEqual(['fast/a', 'fast/b']);
    expect(dueTargets(undefined, {}, T0, { all: true })).toEqual([]);
  });

  it('each target carries its pool, origin, monitor and key', () => {
    const [target] = dueTargets(config(), {}, T0);
    expect(target.pool.id).toBe('fast');
    expect(target.origin.name).toBe('a');
    expect(target.monitor.id).toBe('fast');
    expect(target.key).toBe(targetKey('fast', 'a'));
  });
});

describe('nextDue and nextAlarm', () => {
  it('nextDue: now when never checked (or the time is unreadable), else the last check plus the interval', () => {
    const monitor = config().monitors[0];
    expect(nextDue(undefined, monitor, T0)).toBe(T0);
    expect(nextDue({ healthy: true, last_check_at: 'garbage' }, monitor, T0)).toBe(T0);
    expect(nextDue(checkedAt(T0 - 5_000), monitor, T0)).toBe(T0 + 10_000);
  });

  it('the earliest due probe across monitors and intervals', () => {
    const health: HealthMap = { fast: { a: checkedAt(T0 - 2_000), b: checkedAt(T0 - 10_000) }, slow: { c: checkedAt(T0 - 58_000) } };
    // a at +13 s, b at +5 s, c at +2 s.
    expect(nextAlarm(config(), health, T0)).toBe(T0 + 2_000);
    health.slow.c = checkedAt(T0);
    expect(nextAlarm(config(), health, T0)).toBe(T0 + 5_000);
    health.fast.b = checkedAt(T0 - 1_000);
    expect(nextAlarm(config(), health, T0)).toBe(T0 + 13_000);
  });

  it('never sooner than DUE_SLACK_MS from now: a probe never checked or overdue', () => {
    expect(nextAlarm(config(), {}, T0)).toBe(T0 + DUE_SLACK_MS);
    const overdue: HealthMap = { fast: { a: checkedAt(T0 - 600_000), b: checkedAt(T0) }, slow: { c: checkedAt(T0) } };
    expect(nextAlarm(config(), overdue, T0)).toBe(T0 + DUE_SLACK_MS);
  });

  it('disabled pools and origins do not count; undefined when nothing is monitored', () => {
    const health: HealthMap = { fast: { a: checkedAt(T0), b: checkedAt(T0 - 14_000) }, slow: { c: checkedAt(T0) } };
    expect(nextAlarm(config(), health, T0)).toBe(T0 + DUE_SLACK_MS);
    expect(nextAlarm(config({ bEnabled: false }), health, T0)).toBe(T0 + 15_000);
    expect(nextAlarm(config({ fastEnabled: false }), health, T0)).toBe(T0 + 60_000);
    expect(nextAlarm(config({ fastEnabled: false, slowMonitor: undefined }), health, T0)).toBeUndefined();
    expect(nextAlarm(undefined, health, T0)).toBeUndefined();
  });
});

describe('applyOutcomes', () => {
  /** Runs rounds of outcomes for fast/a, one second apart, from `health`. */
  function rounds(results: ProbeResult[], health: HealthMap = {}) {
    const cfg = config();
    const [target] = dueTargets(cfg, {}, T0, { all: true });
    const seen: string[] = [];
    results.forEach((result, i) => {
      const applied = applyOutcomes(cfg, health, [target], [result], T0 + i * 1000);
      health = applied.health;
      for (const change of applied.changes) seen.push(`${change.transition.from}->${change.transition.to} at ${i + 1}`);
    });
    return { health, seen };
  }

  it('falls after consecutive_down failures, reporting the transition with pool, origin, time and RTT', () => {
    const cfg = config();
    const [target] = dueTargets(cfg, {}, T0, { all: true });
    let health: HealthMap = {};
    for (let i = 0; i < 2; i++) {
      const applied = applyOutcomes(cfg, health, [target], [fail()], T0 + i);
      expect(applied.changes).toEqual([]);
      health = applied.health;
    }
    expect(health.fast.a).toMatchObject({ healthy: true, consecutive_down: 2 });
    const third = applyOutcomes(cfg, health, [target], [fail()], T0 + 2);
    expect(third.health.fast.a).toMatchObject({ healthy: false, consecutive_down: 3, reason: 'status 503 not in 2xx', last_check_at: iso(T0 + 2) });
    expect(third.changes).toEqual([
      { pool: 'fast', origin: 'a', transition: { from: 'healthy', to: 'unhealthy', reason: 'status 503 not in 2xx (3 consecutive failed checks)' }, at: T0 + 2, rtt_ms: undefined },
    ]);
  });

  it('rises after consecutive_up successes; a failure in between starts the count again', () => {
    const down = rounds([fail(), fail(), fail()]);
    expect(down.seen).toEqual(['healthy->unhealthy at 3']);
    const up = rounds([ok(20), fail(), ok(20), ok(30)], down.health);
    expect(up.seen).toEqual(['unhealthy->healthy at 4']);
    expect(up.health.fast.a).toMatchObject({ healthy: true, consecutive_up: 2, consecutive_down: 0 });
  });

  it("applies each outcome to its own target and uses the pool's monitor as the configuration has it now", () => {
    const cfg = config();
    const targets = dueTargets(cfg, {}, T0, { all: true });
    const { health, changes } = applyOutcomes(cfg, {}, targets, [ok(12), fail(), ok(40)], T0);
    expect(health.fast.a).toMatchObject({ healthy: true, rtt_ms: 12 });
    expect(health.fast.b).toMatchObject({ healthy: true, consecutive_down: 1 });
    expect(health.slow.c).toMatchObject({ healthy: true, rtt_ms: 40 });
    expect(changes).toEqual([]);
  });

  it('leaves out an outcome whose pool changed monitor or whose origin was removed or moved while it was probed', () => {
    const before = config();
    const targets = dueTargets(before, {}, T0, { all: true });
    const after = validConfig({
      monitors: [{ id: 'fast', interval: 15 }, { id: 'other' }],
      pools: [pool('fast', [origin('a', { address: 'http://a.moved:8080' })], { monitor: 'fast' }), pool('slow', ['c'], { monitor: 'other' })],
      load_balancers: [loadBalancer({ default_pools: ['fast', 'slow'] })],
    });
    const { health, changes } = applyOutcomes(after, {}, targets, [fail(), fail(), fail()], T0);
    expect(health).toEqual({});
    expect(changes).toEqual([]);
  });

  it('drops the results of removed pools, removed origins and pools no longer monitored, and keeps the rest as they were', () => {
    const stored: HealthMap = {
      fast: { a: checkedAt(T0), gone: checkedAt(T0) },
      slow: { c: checkedAt(T0) },
      removed: { x: checkedAt(T0) },
    };
    const { health } = applyOutcomes(config({ slowMonitor: undefined }), stored, [], [], T0 + 5);
    expect(health).toEqual({ fast: { a: checkedAt(T0) } });
    expect(pruneHealth(stored, config(), T0)).toEqual({ fast: { a: checkedAt(T0) }, slow: { c: checkedAt(T0) } });
    expect(stored.removed).toBeDefined();
  });
});

describe('healthPublishDue', () => {
  it('at once on a transition; otherwise HEALTH_PUBLISH_MS after the last publish', () => {
    expect(healthPublishDue(1, T0, T0)).toBe(true);
    expect(healthPublishDue(0, T0 + HEALTH_PUBLISH_MS - 1, T0)).toBe(false);
    expect(healthPublishDue(0, T0 + HEALTH_PUBLISH_MS, T0)).toBe(true);
    expect(healthPublishDue(0, T0, 0)).toBe(true);
  });
});
