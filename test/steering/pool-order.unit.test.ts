import { describe, expect, it } from 'vitest';

import type { ConfigInput } from '../../src/config/schema';
import { nearestPop } from '../../src/geo/anycast';
import { decide } from '../../src/steering/decide';
import type { ClientFacts } from '../../src/steering/facts';
import type { HealthMap } from '../../src/health/state';
import { orderPools } from '../../src/steering/pool-order';
import { MONITOR, facts, loadBalancer, origin, planFor, pool, request } from '../support/configs';
import { mulberry32 } from '../support/random';

type LbExtra = Partial<NonNullable<ConfigInput['load_balancers']>[number]>;

const noInflight = () => 0;

/** Pools eu (Frankfurt), us (New York), sa (São Paulo), and dflt without coordinates. */
function world(lb: LbExtra & { default_pools: string[] }): ConfigInput {
  return {
    pools: [
      pool('dflt', ['d1']),
      pool('eu', ['e1'], { latitude: 50.11, longitude: 8.68 }),
      pool('us', ['u1'], { latitude: 40.71, longitude: -74.01 }),
      pool('sa', ['s1'], { latitude: -23.55, longitude: -46.63 }),
    ],
    load_balancers: [loadBalancer(lb)],
  };
}

function order(input: ConfigInput, client: Partial<ClientFacts>, random = mulberry32(5), poolInflight: (pool: string) => number = noInflight) {
  const { plan, lb } = planFor(input);
  return orderPools(plan, lb, facts(client), random, poolInflight);
}

describe('pool order: off', () => {
  it('is the default_pools (failover) order, also when steering_policy is "" without geo maps', () => {
    for (const steering_policy of ['off', ''] as const) {
      const input = world({ default_pools: ['us', 'eu', 'sa'], steering_policy });
      expect(order(input, { lat: 50, lon: 8, colo: 'FRA', country: 'DE', region: 'WEU' }).ids).toEqual(['us', 'eu', 'sa']);
    }
  });
});

describe('pool order: geo', () => {
  const geo = world({
    default_pools: ['dflt', 'eu', 'us', 'sa'],
    steering_policy: 'geo',
    pop_pools: { GRU: ['sa'] },
    country_pools: { DE: ['eu'] },
    region_pools: { ENAM: ['us'] },
  });

  it.each<[string, Partial<ClientFacts>, string[]]>([
    ['a mapped PoP wins over country and region', { colo: 'GRU', country: 'DE', region: 'ENAM' }, ['sa', 'dflt', 'eu', 'us']],
    ['an unmapped PoP falls back to the country', { colo: 'FRA', country: 'DE', region: 'ENAM' }, ['eu', 'dflt', 'us', 'sa']],
    ['no PoP or country match falls back to the region', { colo: 'YYZ', country: 'CA', region: 'ENAM' }, ['us', 'dflt', 'eu', 'sa']],
    ['no match at all gives default_pools', { colo: 'NRT', country: 'JP', region: 'NEAS' }, ['dflt', 'eu', 'us', 'sa']],
    ['unknown facts give default_pools', {}, ['dflt', 'eu', 'us', 'sa']],
  ])('%s', (_, client, expected) => {
    expect(order(geo, client).ids).toEqual(expected);
  });

  it('is what steering_policy "" means when a geo map is set', () => {
    const implicit = world({ default_pools: ['dflt', 'eu'], country_pools: { DE: ['eu'] } });
    const { lb } = planFor(implicit);
    expect(lb.policy).toBe('geo');
    expect(order(implicit, { country: 'DE' }).ids).toEqual(['eu', 'dflt']);
  });
});

describe('pool order: proximity', () => {
  const proximity = world({ default_pools: ['dflt', 'sa', 'us', 'eu'], steering_policy: 'proximity' });

  it.each<[string, number, number, string[]]>([
    ['Frankfurt', 50.1, 8.7, ['eu', 'us', 'sa', 'dflt']],
    ['São Paulo', -23.5, -46.6, ['sa', 'us', 'eu', 'dflt']],
    ['New York', 40.7, -74.0, ['us', 'eu', 'sa', 'dflt']],
  ])('a client in %s gets the pools by great-circle distance, pools without coordinates last', (_, lat, lon, expected) => {
    expect(order(proximity, { lat, lon }).ids).toEqual(expected);
  });

  it("uses the PoP's location when the client's is unknown", () => {
    expect(order(proximity, { colo: 'GRU' }).ids[0]).toBe('sa');
    expect(order(proximity, { colo: 'EWR' }).ids[0]).toBe('us');
  });

  it('keeps failover order when no location is known', () => {
    expect(order(proximity, {}).ids).toEqual(['dflt', 'sa', 'us', 'eu']);
  });
});

describe('pool order: random', () => {
  it('puts the pool of weight 3 first in about 75% of 4,000 runs against weight 1', () => {
    const input = world({ default_pools: ['sa', 'eu'], steering_policy: 'random', random_steering: { pool_weights: { eu: 3, sa: 1 } } });
    const { plan, lb } = planFor(input);
    const random = mulberry32(2024);
    let euFirst = 0;
    for (let i = 0; i < 4000; i++) {
      const ids = orderPools(plan, lb, facts(), random, noInflight).ids;
      expect(new Set(ids)).toEqual(new Set(['sa', 'eu']));
      if (ids[0] === 'eu') euFirst++;
    }
    expect(Math.abs(euFirst / 4000 - 0.75)).toBeLessThanOrEqual(0.03);
  });

  it('uses default_weight for unlisted pools and keeps the rest in failover order', () => {
    const input = world({
      default_pools: ['dflt', 'eu', 'us', 'sa'],
      steering_policy: 'random',
      random_steering: { default_weight: 0, pool_weights: { us: 1 } },
    });
    const random = mulberry32(9);
    for (let i = 0; i < 50; i++) expect(order(input, {}, random).ids).toEqual(['us', 'dflt', 'eu', 'sa']);
  });
});

describe('pool order: least_outstanding_requests', () => {
  const lor = world({ default_pools: ['eu', 'us'], steering_policy: 'least_outstanding_requests' });

  function firstShare(inflight: Record<string, number>, pool: string): number {
    const { plan, lb } = planFor(lor);
    const random = mulberry32(77);
    let first = 0;
    for (let i = 0; i < 2000; i++) if (orderPools(plan, lb, facts(), random, (id) => inflight[id] ?? 0).ids[0] === pool) first++;
    return first / 2000;
  }

  it('prefers the pool with fewer requests in flight', () => {
    // Weights 1/(1+9) against 1/(1+0): the idle pool comes first 10 times in 11.
    expect(firstShare({ eu: 9, us: 0 }, 'us')).toBeGreaterThan(0.85);
    expect(firstShare({ eu: 0, us: 9 }, 'eu')).toBeGreaterThan(0.85);
    const even = firstShare({}, 'eu');
    expect(even).toBeGreaterThan(0.45);
    expect(even).toBeLessThan(0.55);
  });
});

describe('pool order: dynamic_latency', () => {
  it('orders pools by mean probe RTT, unknown RTT last', () => {
    const input: ConfigInput = {
      monitors: [MONITOR],
      pools: ['p1', 'p2', 'p3'].map((id) => pool(id, ['a', 'b'], { monitor: MONITOR.id })),
      load_balancers: [loadBalancer({ default_pools: ['p1', 'p2', 'p3'], steering_policy: 'dynamic_latency' })],
    };
    const health: HealthMap = {
      p2: { a: { healthy: true, rtt_ms: 10 }, b: { healthy: true, rtt_ms: 30 } },
      p3: { a: { healthy: true, rtt_ms: 5 } },
    };
    const { plan, lb } = planFor(input, health);
    expect(orderPools(plan, lb, facts(), mulberry32(1), noInflight).ids).toEqual(['p3', 'p2', 'p1']);
  });
});

describe('pool health in decide', () => {
  const input: ConfigInput = {
    monitors: [MONITOR],
    pools: [
      pool('dis', ['a'], { enabled: false }),
      pool('sick', ['a', 'b'], { monitor: MONITOR.id }),
      pool('empty', [origin('a', { weight: 0 })]),
      pool('ok', ['a', 'b']),
    ],
    load_balancers: [loadBalancer({ default_pools: ['dis', 'sick', 'empty', 'ok'] })],
  };
  const sick: HealthMap = { sick: { a: { healthy: false }, b: { healthy: false } } };

  it('skips disabled, unhealthy and origin-less pools, with a verdict for each', () => {
    const { plan, lb } = planFor(input, sick);
    const d = decide(plan, lb, request());
    expect(d.pools).toEqual([
      { id: 'dis', verdict: 'disabled' },
      { id: 'sick', verdict: 'unhealthy' },
      { id: 'empty', verdict: 'no_usable_origin' },
      { id: 'ok', verdict: 'eligible' },
    ]);
    expect(d.candidates.map((o) => o.pool)).toEqual(['ok', 'ok']);
    expect(d.fallbackUsed).toBe(false);
  });

  it('counts a pool healthy while healthy origins >= minimum_origins', () => {
    const atLeastTwo: ConfigInput = {
      monitors: [MONITOR],
      pools: [pool('p', ['a', 'b', 'c'], { monitor: MONITOR.id, minimum_origins: 2 }), pool('q', ['x'])],
      load_balancers: [loadBalancer({ default_pools: ['p', 'q'] })],
    };
    const oneDown = planFor(atLeastTwo, { p: { a: { healthy: false } } });
    expect(decide(oneDown.plan, oneDown.lb, request()).pools[0]).toEqual({ id: 'p', verdict: 'eligible' });
    const twoDown = planFor(atLeastTwo, { p: { a: { healthy: false }, b: { healthy: false } } });
    const d = decide(twoDown.plan, twoDown.lb, request());
    expect(d.pools[0]).toEqual({ id: 'p', verdict: 'unhealthy' });
    expect(d.candidates.map((o) => `${o.pool}/${o.name}`)).toEqual(['q/x']);
  });

  it('uses the fallback pool, whatever its health, when no pool is healthy', () => {
    const withFallback: ConfigInput = {
      monitors: [MONITOR],
      pools: [pool('dis', ['a'], { enabled: false }), pool('sick', ['a', 'b'], { monitor: MONITOR.id }), pool('fb', ['f1', 'f2'], { monitor: MONITOR.id })],
      load_balancers: [loadBalancer({ default_pools: ['dis', 'sick'], fallback_pool: 'fb' })],
    };
    const health: HealthMap = { ...sick, fb: { f1: { healthy: false }, f2: { healthy: false } } };
    const { plan, lb } = planFor(withFallback, health);
    const d = decide(plan, lb, request());
    expect(d.fallbackUsed).toBe(true);
    expect(d.pools.map((p) => p.verdict)).toEqual(['disabled', 'unhealthy']);
    expect(d.candidates.map((o) => `${o.pool}/${o.name}`).sort()).toEqual(['fb/f1', 'fb/f2']);
  });

  it('gives no candidates without a fallback pool', () => {
    const noFallback: ConfigInput = { ...input, load_balancers: [loadBalancer({ default_pools: ['dis', 'sick', 'empty'] })] };
    const { plan, lb } = planFor(noFallback, sick);
    const d = decide(plan, lb, request());
    expect(d.candidates).toEqual([]);
    expect(d.fallbackUsed).toBe(false);
  });

  it('does not use the fallback pool while some pool is healthy', () => {
    const healthyFirst: ConfigInput = { ...input, load_balancers: [loadBalancer({ default_pools: ['sick', 'ok'], fallback_pool: 'empty' })] };
    const { plan, lb } = planFor(healthyFirst, sick);
    const d = decide(plan, lb, request());
    expect(d.fallbackUsed).toBe(false);
    expect(d.candidates.every((o) => o.pool === 'ok')).toBe(true);
  });
});

describe('proximity with anycast', () => {
  it('a client without coordinates is placed by the PoP it reached', () => {
    const proximity = world({ default_pools: ['eu', 'us', 'sa'], steering_policy: 'proximity' });
    const pop = nearestPop(-22.9, -43.2, new Set())!;
    expect(pop.country).toBe('BR');
    expect(order(proximity, { colo: pop.colo }).ids[0]).toBe('sa');
  });
});
