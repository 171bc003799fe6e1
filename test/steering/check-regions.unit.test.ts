import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema';
import type { Region } from '../../src/geo/regions';
import { combineRegions } from '../../src/health/regional';
import type { HealthMap, OriginHealth, RegionalResults } from '../../src/health/state';
import { decide, poolFor } from '../../src/steering/decide';
import { orderPools } from '../../src/steering/pool-order';
import { MONITOR, facts, loadBalancer, planFor, pool, request } from '../support/configs';
import { mulberry32 } from '../support/random';

// SPEC §4 on the request path: a pool probed from the client's region is taken as that
// region sees it; any other pool, and any client of a region without a prober, as before.

const T0 = 1_000_000;
const REGIONS3: Region[] = ['WEU', 'ENAM', 'SEAS'];
const up = (rtt_ms = 20): OriginHealth => ({ healthy: true, consecutive_up: 1, consecutive_down: 0, last_check_at: new Date(T0).toISOString(), reason: '', rtt_ms });
const down = (reason = 'connection refused'): OriginHealth => ({ healthy: false, consecutive_up: 0, consecutive_down: 1, last_check_at: new Date(T0).toISOString(), reason });
const entry = (results: RegionalResults, regions: Region[] = REGIONS3) => combineRegions(undefined, regions, results, T0).health;

const input: ConfigInput = {
  monitors: [MONITOR],
  pools: [pool('world', ['a', 'b'], { monitor: MONITOR.id, check_regions: REGIONS3 }), pool('plain', ['p'], { monitor: MONITOR.id })],
  load_balancers: [loadBalancer({ default_pools: ['world', 'plain'] })],
};

function servedTo(health: HealthMap, region: Region | undefined, n = 4): Set<string> {
  const { plan, lb } = planFor(input, health);
  const seen = new Set<string>();
  const req = request({ facts: facts({ region }) });
  for (let i = 0; i < n; i++) for (const origin of decide(plan, lb, req).candidates.slice(0, 1)) seen.add(`${origin.pool}/${origin.name}`);
  return seen;
}

describe('origin health by check region', () => {
  const oneRegionCut: HealthMap = { world: { a: entry({ WEU: up(), ENAM: up(), SEAS: down() }), b: entry({ WEU: up(), ENAM: up(), SEAS: up() }) } };
  const twoRegionsCut: HealthMap = { world: { a: entry({ WEU: up(), ENAM: down(), SEAS: down() }), b: entry({ WEU: up(), ENAM: up(), SEAS: up() }) } };

  it('an origin one region cannot reach is skipped for that region’s clients only', () => {
    expect(servedTo(oneRegionCut, 'SEAS')).toEqual(new Set(['world/b']));
    expect(servedTo(oneRegionCut, 'WEU')).toEqual(new Set(['world/a', 'world/b']));
    expect(servedTo(oneRegionCut, 'SSAM')).toEqual(new Set(['world/a', 'world/b']));
    expect(servedTo(oneRegionCut, undefined)).toEqual(new Set(['world/a', 'world/b']));
  });

  it('an origin most regions cannot reach is skipped for every client', () => {
    for (const region of [...REGIONS3, 'SSAM', undefined] as const) expect(servedTo(twoRegionsCut, region)).toEqual(new Set(['world/b']));
  });

  it('a pool is as healthy as its origins in the client’s region: skipped there alone when it has too few', () => {
    const cut: HealthMap = { world: { a: entry({ WEU: up(), ENAM: up(), SEAS: down() }), b: entry({ WEU: up(), ENAM: up(), SEAS: down() }) } };
    const { plan, lb } = planFor(input, cut);
    const seas = request({ facts: facts({ region: 'SEAS' }), trace: [] });
    const decision = decide(plan, lb, seas);
    expect(decision.pools).toEqual([
      { id: 'world', verdict: 'unhealthy' },
      { id: 'plain', verdict: 'eligible' },
    ]);
    expect(seas.trace).toContain('pool world skipped: unhealthy (as probed from SEAS)');
    expect(decide(plan, lb, request({ facts: facts({ region: 'WEU' }) })).candidates[0]!.pool).toBe('world');
    expect(poolFor(plan, lb, facts({ region: 'SEAS' }), seas.passive, T0)).toBe('plain');
    expect(poolFor(plan, lb, facts({ region: 'ENAM' }), seas.passive, T0)).toBe('world');
  });

  it('a pinned session to an origin its region cannot reach moves (sticky), elsewhere it stays', () => {
    const affinity: ConfigInput = { ...input, load_balancers: [loadBalancer({ default_pools: ['world', 'plain'], session_affinity: 'cookie' })] };
    const { plan, lb } = planFor(affinity, oneRegionCut);
    const pin = { pool: 'world', origin: 'a' };
    expect(decide(plan, lb, request({ facts: facts({ region: 'WEU' }), pin })).affinity).toBe('pinned');
    const moved = decide(plan, lb, request({ facts: facts({ region: 'SEAS' }), pin }));
    expect(moved.affinity).toBe('moved');
    expect(moved.candidates[0]!.name).toBe('b');
  });

  it('compiles a region’s view once, on first use, and only for pools with check_regions', () => {
    const { plan } = planFor(input, oneRegionCut);
    const world = plan.pools.get('world')!;
    const plainPool = plan.pools.get('plain')!;
    expect(plan.pool('plain', 'SEAS')).toBe(plainPool);
    expect(plan.pool('world', 'SSAM')).toBe(world);
    expect(plan.pool('world', undefined)).toBe(world);
    const seas = plan.pool('world', 'SEAS')!;
    expect(seas).not.toBe(world);
    expect(seas.region).toBe('SEAS');
    expect(plan.pool('world', 'SEAS')).toBe(seas);
    expect(seas.origins.map((o) => o.healthy)).toEqual([false, true]);
    expect(world.origins.map((o) => o.healthy)).toEqual([true, true]);
  });
});

describe('dynamic_latency by check region', () => {
  it("orders pools by the round trips measured from the client's region, and by the mean of the regions elsewhere", () => {
    const latency: ConfigInput = {
      monitors: [MONITOR],
      pools: [
        pool('pool-us', ['u'], { monitor: MONITOR.id, check_regions: ['WEU', 'ENAM'] }),
        pool('pool-eu', ['e'], { monitor: MONITOR.id, check_regions: ['WEU', 'ENAM'] }),
        pool('pool-plain', ['p'], { monitor: MONITOR.id }),
      ],
      load_balancers: [loadBalancer({ default_pools: ['pool-plain', 'pool-us', 'pool-eu'], steering_policy: 'dynamic_latency' })],
    };
    const regions: Region[] = ['WEU', 'ENAM'];
    const health: HealthMap = {
      'pool-us': { u: entry({ WEU: up(160), ENAM: up(10) }, regions) },
      'pool-eu': { e: entry({ WEU: up(12), ENAM: up(150) }, regions) },
      'pool-plain': { p: up(90) },
    };
    const { plan, lb } = planFor(latency, health);
    const ids = (region: Region | undefined) => orderPools(plan, lb, facts({ region }), mulberry32(1), () => 0).ids;
    expect(ids('WEU')).toEqual(['pool-eu', 'pool-plain', 'pool-us']);
    expect(ids('ENAM')).toEqual(['pool-us', 'pool-plain', 'pool-eu']);
    // Elsewhere: the mean of the regions' round trips (85 and 81).
    expect(ids('SEAS')).toEqual(['pool-eu', 'pool-us', 'pool-plain']);
    expect(orderPools(plan, lb, facts({ region: 'WEU' }), mulberry32(1), () => 0).reason()).toBe(
      'by mean probe RTT (from WEU where probed there): pool-eu 12.0 ms, pool-plain 90.0 ms, pool-us 160.0 ms',
    );
  });
});
