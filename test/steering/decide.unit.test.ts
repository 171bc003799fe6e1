import { describe, expect, it } from 'vitest';

import type { ConfigInput } from '../../src/config/schema';
import { PassiveHealth } from '../../src/health/passive';
import { decide, type Decision, type SteeringRequest } from '../../src/steering/decide';
import type { HealthMap } from '../../src/health/state';
import { MONITOR, facts, loadBalancer, origin, planFor, pool, request } from '../support/configs';
import { clientIps, mulberry32 } from '../support/random';

type LbExtra = Partial<NonNullable<ConfigInput['load_balancers']>[number]>;

/** One load balancer over one pool "p" with the given origins. */
function single(origins: Parameters<typeof pool>[1], poolExtra: Parameters<typeof pool>[2] = {}, lbExtra: LbExtra = {}): ConfigInput {
  return {
    monitors: [MONITOR],
    pools: [pool('p', origins, poolExtra)],
    load_balancers: [loadBalancer({ default_pools: ['p'], ...lbExtra })],
  };
}

/** Decides `n` requests in a row against one plan, sharing passive health and randomness. */
function decideMany(input: ConfigInput, n: number, health: HealthMap = {}, extra: Partial<SteeringRequest> = {}): Decision[] {
  const { plan, lb } = planFor(input, health);
  const passive = new PassiveHealth();
  const random = mulberry32(11);
  return Array.from({ length: n }, () => decide(plan, lb, request({ passive, random, ...extra })));
}

const firstNames = (decisions: readonly Decision[]) => decisions.map((d) => d.candidates[0]?.name);
const names = (decision: Decision) => decision.candidates.map((o) => `${o.pool}/${o.name}`);

describe('decide: origin policies', () => {
  it('round_robin over two origins alternates a, b, a, b', () => {
    const decisions = decideMany(single(['a', 'b']), 6);
    expect(firstNames(decisions)).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    // The alternate for a retry is the other origin.
    expect(names(decisions[0])).toEqual(['p/a', 'p/b']);
    expect(names(decisions[1])).toEqual(['p/b', 'p/a']);
  });

  it('round_robin follows the weights smoothly (5,1,1 gives a a b a c a a)', () => {
    const decisions = decideMany(single([origin('a', { weight: 5 }), 'b', 'c']), 14);
    expect(firstNames(decisions).join('')).toBe('aabacaa'.repeat(2));
  });

  it("'random' splits 3,000 requests 2:1 by weight within 3%", () => {
    const decisions = decideMany(single([origin('a', { weight: 2 }), origin('b', { weight: 1 })], { origin_steering: { policy: 'random' } }), 3000);
    const a = firstNames(decisions).filter((n) => n === 'a').length;
    const b = firstNames(decisions).filter((n) => n === 'b').length;
    expect(a + b).toBe(3000);
    // With two outcomes both counts are off by the same amount: at most 3% of 2,000 (about 2.3 sigma).
    expect(Math.abs(a - 2000)).toBeLessThanOrEqual(2000 * 0.03);
    expect(Math.abs(b - 1000)).toBe(Math.abs(a - 2000));
  });

  it("'least_outstanding_requests' prefers the origin with fewer requests in flight", () => {
    const busy = new Set(['a']);
    const decisions = decideMany(single(['a', 'b'], { origin_steering: { policy: 'least_outstanding_requests' } }), 1000, {}, {
      inflight: (o) => (busy.has(o.name) ? 20 : 0),
    });
    const a = firstNames(decisions).filter((n) => n === 'a').length;
    // Two random choices, the less loaded wins: a only when both choices are a (~25%).
    expect(a).toBeLessThan(330);
    expect(a).toBeGreaterThan(170);
  });

  describe("'hash' on the client IP", () => {
    const origins = Array.from({ length: 10 }, (_, i) => `o${i}`);
    const ips = clientIps(10_000);
    const hashPool = { origin_steering: { policy: 'hash' as const } };

    function assign(input: ConfigInput, health: HealthMap = {}): string[] {
      const { plan, lb } = planFor(input, health);
      const passive = new PassiveHealth();
      return ips.map((ip) => decide(plan, lb, request({ facts: facts({ ip }), passive })).candidates[0].name);
    }

    const before = assign(single(origins, hashPool));

    it('spreads 10,000 clients evenly over 10 origins (each 5%..15%) and is stable per client', () => {
      for (const name of origins) {
        const share = before.filter((n) => n === name).length / ips.length;
        expect(share, name).toBeGreaterThanOrEqual(0.05);
        expect(share, name).toBeLessThanOrEqual(0.15);
      }
      expect(assign(single(origins, hashPool))).toEqual(before);
    });

    function expectOnlyRemovedMoves(after: readonly string[], removed: string) {
      let moved = 0;
      after.forEach((name, i) => {
        expect(name).not.toBe(removed);
        if (before[i] !== removed) expect(name, ips[i]).toBe(before[i]);
        else moved++;
      });
      expect(moved).toBeGreaterThan(0);
      expect(moved).toBeLessThanOrEqual(ips.length * 0.15);
    }

    it('disabling one origin remaps only its own clients (at most 15%)', () => {
      const after = assign(single(origins.map((name) => origin(name, { enabled: name !== 'o3' })), hashPool));
      expectOnlyRemovedMoves(after, 'o3');
    });

    it('an unhealthy origin (monitored pool) remaps only its own clients', () => {
      const after = assign(single(origins, { ...hashPool, monitor: MONITOR.id }), { p: { o7: { healthy: false } } });
      expectOnlyRemovedMoves(after, 'o7');
    });

    it('with unequal weights, removing the heaviest origin remaps only its own clients', () => {
      const weighted = (enabled: boolean) =>
        single(
          origins.map((name) => origin(name, name === 'o0' ? { weight: 2, enabled } : {})),
          hashPool,
        );
      const withAll = assign(weighted(true));
      const without = assign(weighted(false));
      withAll.forEach((name, i) => {
        if (name !== 'o0') expect(without[i], ips[i]).toBe(name);
      });
    });

    it('retry alternates follow the ring and exclude the first choice', () => {
      const { plan, lb } = planFor(single(origins, hashPool));
      for (const ip of ips.slice(0, 100)) {
        const d = decide(plan, lb, request({ facts: facts({ ip }) }));
        expect(d.candidates).toHaveLength(3);
        expect(new Set(names(d)).size).toBe(3);
        expect(decide(plan, lb, request({ facts: facts({ ip }) })).candidates).toEqual(d.candidates);
      }
    });
  });
});

describe('decide: usable origins', () => {
  it('chooses among origins with tiny fractional weights', () => {
    const picks = decideMany(single([origin('a', { weight: 0.0004 }), origin('b', { weight: 0.0004 })]), 4).map((d) => names(d)[0]);
    expect(picks).toEqual(['p/a', 'p/b', 'p/a', 'p/b']);
  });

  it('never chooses a weight-0 origin, not even as a retry alternate', () => {
    for (const d of decideMany(single([origin('a', { weight: 0 }), 'b', 'c']), 30)) {
      expect(names(d)).not.toContain('p/a');
      expect(d.candidates).toHaveLength(2);
    }
  });

  it('never chooses a disabled origin', () => {
    for (const d of decideMany(single(['a', origin('b', { enabled: false }), 'c']), 30)) {
      expect(names(d)).not.toContain('p/b');
    }
  });

  it('never chooses an origin that passive health ejected, until the ejection ends', () => {
    const { plan, lb, config } = planFor(single(['a', 'b']));
    const passive = new PassiveHealth();
    const policy = config.load_balancers[0].passive_health;
    const t0 = 1_000_000;
    for (let i = 0; i < policy.max_fails; i++) passive.recordFailure('p', 'a', 2, policy, t0 + i);
    for (let i = 0; i < 4; i++) {
      expect(names(decide(plan, lb, request({ passive, now: t0 + 10 + i })))).toEqual(['p/b']);
    }
    const later = t0 + policy.fail_timeout * 1000 + 10;
    const seen = new Set([0, 1].map(() => decide(plan, lb, request({ passive, now: later })).candidates[0].name));
    expect(seen).toEqual(new Set(['a', 'b']));
  });

  describe('backup origins', () => {
    const origins = ['a', 'b', origin('bk', { backup: true })];

    it('never take a new request first while a primary is usable, but take the retry after the primaries (nginx backup)', () => {
      for (const d of decideMany(single(origins), 10)) {
        expect(d.candidates[0]!.name).not.toBe('bk');
        expect(names(d).slice(1)).toEqual([d.candidates[0]!.name === 'a' ? 'p/b' : 'p/a', 'p/bk']);
      }
      // With no retries there is no room for the backup.
      for (const d of decideMany(single(origins, {}, { retries: 0 }), 4)) expect(names(d)).not.toContain('p/bk');
    });

    it('are used when every primary is disabled', () => {
      const disabled = single(['a', 'b'].map((n) => origin(n, { enabled: false })).concat(origin('bk', { backup: true })));
      for (const d of decideMany(disabled, 3)) expect(names(d)).toEqual(['p/bk']);
    });

    it('are used when every primary is unhealthy by active checks', () => {
      const health: HealthMap = { p: { a: { healthy: false }, b: { healthy: false } } };
      for (const d of decideMany(single(origins, { monitor: MONITOR.id }), 3, health)) expect(names(d)).toEqual(['p/bk']);
    });

    it('stay behind the remaining primary when only one primary is unhealthy', () => {
      const health: HealthMap = { p: { a: { healthy: false } } };
      for (const d of decideMany(single(origins, { monitor: MONITOR.id }), 5, health)) expect(names(d)).toEqual(['p/b', 'p/bk']);
    });

    it('ignore the health map when the pool has no monitor', () => {
      const health: HealthMap = { p: { a: { healthy: false }, b: { healthy: false } } };
      const seen = new Set(decideMany(single(origins), 4, health).map((d) => d.candidates[0].name));
      expect(seen).toEqual(new Set(['a', 'b']));
    });
  });
});

describe('decide: session affinity', () => {
  const cookie: LbExtra = { session_affinity: 'cookie' };
  const withFailover = (mode: 'none' | 'temporary' | 'sticky'): LbExtra => ({
    session_affinity: 'cookie',
    session_affinity_attributes: { zero_downtime_failover: mode },
  });

  it('is off without affinity, and new (to be pinned) for a cookie request without a token', () => {
    const [off] = decideMany(single(['a', 'b']), 1);
    expect(off.affinity).toBe('off');
    expect(off.pinServed).toBe(false);
    const [fresh] = decideMany(single(['a', 'b'], {}, cookie), 1);
    expect(fresh.affinity).toBe('new');
    expect(fresh.pinServed).toBe(true);
  });

  it('honours a pin whatever the round robin would pick', () => {
    for (const d of decideMany(single(['a', 'b', 'c'], {}, cookie), 6, {}, { pin: { pool: 'p', origin: 'c' } })) {
      expect(d.affinity).toBe('pinned');
      expect(d.candidates[0].name).toBe('c');
      expect(d.pinServed).toBe(false);
    }
  });

  it('pinned requests take no turn from the round robin that new sessions follow', () => {
    const { plan, lb } = planFor(single(['a', 'b', 'c'], {}, cookie));
    const passive = new PassiveHealth();
    const next = (pin?: { pool: string; origin: string }) => decide(plan, lb, request({ passive, pin })).candidates;
    const fresh: string[] = [];
    for (let i = 0; i < 6; i++) {
      fresh.push(next()[0]!.name);
      // Two pinned requests between new ones; their retry alternates start after their origin.
      expect(next({ pool: 'p', origin: 'c' }).map((o) => o.name)).toEqual(['c', 'a', 'b']);
      next({ pool: 'p', origin: 'b' });
    }
    expect(fresh).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  describe('a draining origin', () => {
    const draining = single([origin('a', { drain: true }), 'b', 'c'], {}, cookie);

    it('gets no new sessions', () => {
      for (const d of decideMany(draining, 20)) {
        expect(names(d)).not.toContain('p/a');
        expect(d.affinity).toBe('new');
      }
    });

    it('still serves requests pinned to it', () => {
      const [d] = decideMany(draining, 1, {}, { pin: { pool: 'p', origin: 'a' } });
      expect(d.candidates[0].name).toBe('a');
      expect(d.affinity).toBe('pinned');
      // The alternates for retries are the origins that take new sessions.
      expect(names(d).slice(1).every((n) => n !== 'p/a')).toBe(true);
    });
  });

  it('a weight-0 origin still serves requests pinned to it', () => {
    const [d] = decideMany(single([origin('a', { weight: 0 }), 'b'], {}, cookie), 1, {}, { pin: { pool: 'p', origin: 'a' } });
    expect(d.affinity).toBe('pinned');
    expect(d.candidates[0].name).toBe('a');
  });

  describe('when the pinned origin is disabled', () => {
    const disabledA = (lb: LbExtra) => single([origin('a', { enabled: false }), 'b', 'c'], {}, lb);
    const pin = { pool: 'p', origin: 'a' };

    it("sticky: moves the session and re-pins it ('moved')", () => {
      for (const d of decideMany(disabledA(withFailover('sticky')), 4, {}, { pin })) {
        expect(d.affinity).toBe('moved');
        expect(d.pinServed).toBe(true);
        expect(names(d)).not.toContain('p/a');
        expect(d.candidates.length).toBeGreaterThan(0);
      }
    });

    it("temporary: steers elsewhere but keeps the pin ('kept')", () => {
      for (const d of decideMany(disabledA(withFailover('temporary')), 4, {}, { pin })) {
        expect(d.affinity).toBe('kept');
        expect(d.pinServed).toBe(false);
        expect(names(d)).not.toContain('p/a');
      }
    });

    it("none: maintenance still moves the session away ('moved')", () => {
      const [d] = decideMany(disabledA(withFailover('none')), 1, {}, { pin });
      expect(d.affinity).toBe('moved');
      expect(names(d)).not.toContain('p/a');
    });
  });

  it("none: an unhealthy (not disabled) pinned origin is returned alone ('failed')", () => {
    const input = single(['a', 'b', 'c'], { monitor: MONITOR.id }, withFailover('none'));
    const [d] = decideMany(input, 1, { p: { a: { healthy: false } } }, { pin: { pool: 'p', origin: 'a' } });
    expect(d.affinity).toBe('failed');
    expect(names(d)).toEqual(['p/a']);
    expect(d.pinServed).toBe(false);
  });

  it('sticky: an unhealthy pinned origin moves the session', () => {
    const input = single(['a', 'b', 'c'], { monitor: MONITOR.id }, withFailover('sticky'));
    const [d] = decideMany(input, 1, { p: { a: { healthy: false } } }, { pin: { pool: 'p', origin: 'a' } });
    expect(d.affinity).toBe('moved');
    expect(names(d)).not.toContain('p/a');
  });

  it('a pin to an origin or pool that no longer exists is steered as new and re-pinned', () => {
    for (const pin of [{ pool: 'p', origin: 'gone' }, { pool: 'gone', origin: 'a' }]) {
      const [d] = decideMany(single(['a', 'b'], {}, cookie), 1, {}, { pin });
      expect(d.affinity).toBe('moved');
      expect(d.candidates.length).toBeGreaterThan(0);
    }
  });

  it('ip_cookie: a client without a token is placed by hash of its IP, whatever the pool policy', () => {
    const { plan, lb } = planFor(single(['a', 'b', 'c', 'd'], {}, { session_affinity: 'ip_cookie' }));
    const passive = new PassiveHealth();
    for (const ip of clientIps(50)) {
      const first = decide(plan, lb, request({ facts: facts({ ip }), passive })).candidates[0].name;
      for (let i = 0; i < 3; i++) expect(decide(plan, lb, request({ facts: facts({ ip }), passive })).candidates[0].name).toBe(first);
    }
  });

  it('header: without the session headers affinity is off; with them the session key picks the origin', () => {
    const input = single(['a', 'b', 'c', 'd'], {}, { session_affinity: 'header', session_affinity_attributes: { headers: ['x-session-id'] } });
    const { plan, lb } = planFor(input);
    const passive = new PassiveHealth();
    expect(decide(plan, lb, request({ passive })).affinity).toBe('off');
    const seen = new Set<string>();
    for (const ip of clientIps(20)) {
      const d = decide(plan, lb, request({ facts: facts({ ip }), sessionKey: 'session-42', passive }));
      expect(d.affinity).toBe('new');
      seen.add(d.candidates[0].name);
    }
    expect(seen.size).toBe(1);
  });
});

describe('decide: candidates for retries', () => {
  const twoPools = (retries: number, first: string[] = ['a', 'b'], second: string[] = ['c', 'd']): ConfigInput => ({
    pools: [pool('p1', first), pool('p2', second)],
    load_balancers: [loadBalancer({ default_pools: ['p1', 'p2'], retries })],
  });

  it('retries: 2 gives at most 3 distinct candidates: the pool first, then the next pool in failover order', () => {
    for (const d of decideMany(twoPools(2), 8)) {
      expect(d.candidates).toHaveLength(3);
      expect(new Set(d.candidates).size).toBe(3);
      expect(d.candidates.map((o) => o.pool)).toEqual(['p1', 'p1', 'p2']);
    }
  });

  it('stays in the first pool when it has enough usable origins', () => {
    for (const d of decideMany(twoPools(2, ['a', 'b', 'c'], ['x', 'y']), 6)) {
      expect(d.candidates.map((o) => o.pool)).toEqual(['p1', 'p1', 'p1']);
      expect(new Set(d.candidates).size).toBe(3);
    }
  });

  it('retries: 0 gives one candidate; a large retry budget lists every usable origin once', () => {
    for (const d of decideMany(twoPools(0), 4)) expect(d.candidates).toHaveLength(1);
    for (const d of decideMany(twoPools(10), 4)) {
      expect(d.candidates.map((o) => o.pool)).toEqual(['p1', 'p1', 'p2', 'p2']);
      expect(new Set(names(d))).toEqual(new Set(['p1/a', 'p1/b', 'p2/c', 'p2/d']));
    }
  });

  it('a pinned origin comes first and counts toward the limit', () => {
    const input = twoPools(2);
    input.load_balancers![0].session_affinity = 'cookie';
    for (const d of decideMany(input, 4, {}, { pin: { pool: 'p2', origin: 'd' } })) {
      expect(d.affinity).toBe('pinned');
      expect(names(d)[0]).toBe('p2/d');
      expect(d.candidates).toHaveLength(3);
      expect(new Set(d.candidates).size).toBe(3);
    }
  });

  it('writes a readable trace when asked', () => {
    const trace: string[] = [];
    const [d] = decideMany(twoPools(2), 1, {}, { trace });
    expect(trace[0]).toContain('steering off');
    expect(trace.at(-1)).toBe(`candidates: ${names(d).join(', ')}`);
  });
});
