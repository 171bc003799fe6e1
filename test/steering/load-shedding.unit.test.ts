import { describe, expect, it } from 'vitest';

import type { ConfigInput } from '../../src/config/schema';
import { PassiveHealth } from '../../src/health/passive';
import type { HealthMap } from '../../src/health/state';
import { decide, poolFor, type Decision, type SteeringRequest } from '../../src/steering/decide';
import { compileShedding, shedPoint } from '../../src/steering/load-shedding';
import { hash32 } from '../../src/steering/origin-pick';
import { MONITOR, facts, loadBalancer, planFor, pool, request } from '../support/configs';
import { clientIps, mulberry32 } from '../support/random';

type Shedding = NonNullable<NonNullable<ConfigInput['pools']>[number]['load_shedding']>;
type LbExtra = Partial<NonNullable<ConfigInput['load_balancers']>[number]>;

/** Pools "a", "b" and "c" in failover order, two origins each; `a` sheds as given. */
function threePools(shedA: Shedding, lbExtra: LbExtra = {}, shedB?: Shedding): ConfigInput {
  return {
    monitors: [MONITOR],
    pools: [
      pool('a', ['a1', 'a2'], { load_shedding: shedA, monitor: MONITOR.id }),
      pool('b', ['b1', 'b2'], { load_shedding: shedB, monitor: MONITOR.id }),
      pool('c', ['c1', 'c2'], { monitor: MONITOR.id }),
    ],
    load_balancers: [loadBalancer({ default_pools: ['a', 'b', 'c'], ...lbExtra })],
  };
}

/** One decision per client IP (or per request, with `ips` repeated), sharing one plan, passive health and seeded randomness. */
function decideFor(input: ConfigInput, ips: readonly string[], extra: Partial<SteeringRequest> = {}, health: HealthMap = {}, seed = 7): Decision[] {
  const { plan, lb } = planFor(input, health);
  const passive = new PassiveHealth();
  const random = mulberry32(seed);
  return ips.map((ip) => decide(plan, lb, request({ facts: facts({ ip }), passive, random, ...extra })));
}

const poolOf = (d: Decision) => d.candidates[0]?.pool;
const share = (decisions: readonly Decision[], poolId: string) => decisions.filter((d) => poolOf(d) === poolId).length / decisions.length;
const IPS = clientIps(10_000);

describe('load shedding of new requests (default_percent)', () => {
  it('0%: nothing is shed, whatever the policy', () => {
    for (const policy of ['random', 'hash'] as const) {
      const decisions = decideFor(threePools({ default_percent: 0, default_policy: policy }), IPS.slice(0, 500));
      expect(decisions.every((d) => poolOf(d) === 'a')).toBe(true);
      expect(decisions.every((d) => d.pools.every((p) => p.verdict === 'eligible'))).toBe(true);
    }
  });

  it('100%: every new request goes to the next pool, and the trace and verdict say why', () => {
    for (const policy of ['random', 'hash'] as const) {
      const trace: string[] = [];
      const [d] = decideFor(threePools({ default_percent: 100, default_policy: policy }), ['192.0.2.1'], { trace });
      expect(poolOf(d)).toBe('b');
      expect(d.pools).toEqual([
        { id: 'a', verdict: 'shed' },
        { id: 'b', verdict: 'eligible' },
        { id: 'c', verdict: 'eligible' },
      ]);
      expect(trace).toContain(`pool a shed 100% (${policy})`);
      const all = decideFor(threePools({ default_percent: 100, default_policy: policy }), IPS.slice(0, 500));
      expect(all.every((d) => poolOf(d) === 'b')).toBe(true);
    }
  });

  it('a shed pool gives no retry alternates either: they come from the pools after it', () => {
    const [d] = decideFor(threePools({ default_percent: 100 }, { retries: 3 }), ['192.0.2.1']);
    expect(d.candidates.map((o) => o.pool)).toEqual(['b', 'b', 'c', 'c']);
  });

  it('30% random: about 30% of 10,000 requests from one client go to the next pool, each a fresh draw', () => {
    const decisions = decideFor(threePools({ default_percent: 30, default_policy: 'random' }), Array(10_000).fill('192.0.2.1'));
    // 10,000 draws: the standard deviation is 0.46 points; 2 points is over 4 sigma.
    expect(Math.abs(share(decisions, 'b') - 0.3)).toBeLessThan(0.02);
    expect(share(decisions, 'a') + share(decisions, 'b')).toBe(1);
  });

  it('30% hash: about 30% of 10,000 clients go to the next pool, the same clients on every call', () => {
    const input = threePools({ default_percent: 30, default_policy: 'hash' });
    const first = decideFor(input, IPS, {}, {}, 1);
    expect(Math.abs(share(first, 'b') - 0.3)).toBeLessThan(0.02);
    // Another seed, another plan: the same clients are shed.
    const again = decideFor(input, IPS, {}, {}, 99);
    expect(again.map(poolOf)).toEqual(first.map(poolOf));
  });

  it('hash: raising the share only adds clients: those shed at 10% are shed at 30% too', () => {
    const at10 = decideFor(threePools({ default_percent: 10, default_policy: 'hash' }), IPS).map(poolOf);
    const at30 = decideFor(threePools({ default_percent: 30, default_policy: 'hash' }), IPS).map(poolOf);
    at10.forEach((p, i) => {
      if (p === 'b') expect(at30[i], IPS[i]).toBe('b');
    });
  });

  it('hash: each pool sheds its own clients, so the next pool takes its share of what the first shed', () => {
    const input = threePools({ default_percent: 50, default_policy: 'hash' }, {}, { default_percent: 50, default_policy: 'hash' });
    const decisions = decideFor(input, IPS);
    // a sheds half; b sheds half of those: about a quarter reach c, not a half.
    expect(Math.abs(share(decisions, 'a') - 0.5)).toBeLessThan(0.03);
    expect(Math.abs(share(decisions, 'b') - 0.25)).toBeLessThan(0.03);
    expect(Math.abs(share(decisions, 'c') - 0.25)).toBeLessThan(0.03);
  });

  it('the client point is stable, in [0, 1), and differs from pool to pool', () => {
    const a = compileShedding('a', { default_percent: 30, default_policy: 'hash', session_percent: 0, session_policy: 'hash' })!;
    const b = compileShedding('b', { default_percent: 30, default_policy: 'hash', session_percent: 0, session_policy: 'hash' })!;
    const points = IPS.slice(0, 1000).map((ip) => [shedPoint(a, hash32(ip)), shedPoint(b, hash32(ip))]);
    expect(points.every(([x, y]) => x >= 0 && x < 1 && y >= 0 && y < 1)).toBe(true);
    expect(points.filter(([x, y]) => x < 0.3 === y < 0.3).length).toBeLessThan(700);
    expect(shedPoint(a, hash32('10.0.0.7'))).toBe(shedPoint(a, hash32('10.0.0.7')));
  });
});

describe('load shedding: what always takes the request', () => {
  it('the fallback pool is never shed', () => {
    const input: ConfigInput = {
      monitors: [MONITOR],
      pools: [pool('a', ['a1'], { monitor: MONITOR.id }), pool('f', ['f1', 'f2'], { load_shedding: { default_percent: 100 } })],
      load_balancers: [loadBalancer({ default_pools: ['a'], fallback_pool: 'f' })],
    };
    const trace: string[] = [];
    const [d] = decideFor(input, ['192.0.2.1'], { trace }, { a: { a1: { healthy: false } } });
    expect(d.fallbackUsed).toBe(true);
    expect(poolOf(d)).toBe('f');
    expect(trace.some((line) => line.includes('shed'))).toBe(false);
  });

  it('when every eligible pool sheds the request, the last of them takes it', () => {
    const all = { default_percent: 100 } as const;
    const input: ConfigInput = {
      monitors: [MONITOR],
      pools: [pool('a', ['a1'], { load_shedding: all }), pool('b', ['b1'], { load_shedding: all }), pool('c', ['c1'], { monitor: MONITOR.id })],
      load_balancers: [loadBalancer({ default_pools: ['a', 'b', 'c'], fallback_pool: 'c' })],
    };
    const trace: string[] = [];
    // c is down: a and b are the eligible pools, and both shed everything.
    const [d] = decideFor(input, ['192.0.2.1'], { trace }, { c: { c1: { healthy: false } } });
    expect(poolOf(d)).toBe('b');
    expect(d.fallbackUsed).toBe(false);
    expect(d.pools).toEqual([
      { id: 'a', verdict: 'shed' },
      { id: 'b', verdict: 'eligible' },
      { id: 'c', verdict: 'unhealthy' },
    ]);
    expect(trace).toContain('every eligible pool shed this request: the last, b, takes it');
  });

  it('a single pool that sheds everything still serves', () => {
    const input: ConfigInput = { pools: [pool('a', ['a1', 'a2'], { load_shedding: { default_percent: 100, default_policy: 'hash' } })], load_balancers: [loadBalancer({ default_pools: ['a'] })] };
    const decisions = decideFor(input, IPS.slice(0, 100));
    expect(decisions.every((d) => poolOf(d) === 'a' && d.candidates.length === 2)).toBe(true);
  });

  it('the PoP map shows the pool steering prefers, without shedding', () => {
    const { plan, lb } = planFor(threePools({ default_percent: 100 }));
    expect(poolFor(plan, lb, facts(), new PassiveHealth(), 1_000_000)).toBe('a');
  });
});

describe('load shedding of pinned sessions (session_percent)', () => {
  const cookie = (failover: 'sticky' | 'temporary' | 'none'): LbExtra => ({
    session_affinity: 'cookie',
    session_affinity_attributes: { zero_downtime_failover: failover },
  });
  const pinned = { pin: { pool: 'a', origin: 'a1' } };

  it('sticky: about that share of the clients pinned to the pool is moved and re-pinned, the same clients every time', () => {
    const input = threePools({ session_percent: 30 }, cookie('sticky'));
    const decisions = decideFor(input, IPS, pinned);
    const moved = decisions.filter((d) => d.affinity === 'moved');
    expect(Math.abs(moved.length / IPS.length - 0.3)).toBeLessThan(0.02);
    for (const d of moved) {
      expect(poolOf(d)).toBe('b');
      expect(d.pinServed).toBe(true);
      expect(d.pools[0]).toEqual({ id: 'a', verdict: 'shed' });
    }
    for (const d of decisions.filter((d) => d.affinity !== 'moved')) {
      expect(d.affinity).toBe('pinned');
      expect(d.candidates[0].name).toBe('a1');
    }
    expect(decideFor(input, IPS, pinned, {}, 1234).map((d) => d.affinity)).toEqual(decisions.map((d) => d.affinity));
  });

  it('the trace says the pool shed the session', () => {
    const input = threePools({ session_percent: 100 }, cookie('sticky'));
    const trace: string[] = [];
    const [d] = decideFor(input, ['192.0.2.1'], { ...pinned, trace });
    expect(d.affinity).toBe('moved');
    expect(trace).toContain('affinity: pool a shed 100% of sessions (hash); steering as new, re-pinning');
    expect(trace).toContain('pool a shed 100% of sessions (hash)');
  });

  it('temporary: the shed session is steered elsewhere and keeps its pin for later', () => {
    const [d] = decideFor(threePools({ session_percent: 100 }, cookie('temporary')), ['192.0.2.1'], pinned);
    expect(d.affinity).toBe('kept');
    expect(d.pinServed).toBe(false);
    expect(poolOf(d)).toBe('b');
  });

  it('none: sessions are never shed', () => {
    const decisions = decideFor(threePools({ session_percent: 100 }, cookie('none')), IPS.slice(0, 200), pinned);
    expect(decisions.every((d) => d.affinity === 'pinned' && d.candidates[0].name === 'a1')).toBe(true);
  });

  it('default_percent sheds new requests only: a pinned request stays where it is pinned', () => {
    const decisions = decideFor(threePools({ default_percent: 100 }, cookie('sticky')), IPS.slice(0, 200), pinned);
    expect(decisions.every((d) => d.affinity === 'pinned' && d.candidates[0].name === 'a1')).toBe(true);
    expect(decideFor(threePools({ default_percent: 100 }, cookie('sticky')), ['192.0.2.1']).map(poolOf)).toEqual(['b']);
  });

  it('a shed session re-steered as new meets default shedding too: with both at 100% the last pool takes it', () => {
    const input: ConfigInput = {
      pools: [pool('a', ['a1'], { load_shedding: { default_percent: 100, session_percent: 100 } }), pool('b', ['b1'], { load_shedding: { default_percent: 100 } })],
      load_balancers: [loadBalancer({ default_pools: ['a', 'b'], ...cookie('sticky') })],
    };
    const [d] = decideFor(input, ['192.0.2.1'], pinned);
    expect(d.affinity).toBe('moved');
    expect(poolOf(d)).toBe('b');
  });

  it('a session of the only eligible pool is re-steered inside it rather than failed', () => {
    const input: ConfigInput = {
      pools: [pool('a', ['a1', 'a2'], { load_shedding: { session_percent: 100 } })],
      load_balancers: [loadBalancer({ default_pools: ['a'], ...cookie('sticky') })],
    };
    const [d] = decideFor(input, ['192.0.2.1'], pinned);
    expect(d.affinity).toBe('moved');
    expect(poolOf(d)).toBe('a');
  });
});
