import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema';
import { applyOutcomes, dueTargets, nextAlarm, pruneHealth } from '../../src/control/health-schedule';
import { applyRegionalReport, assignedConfig, assignmentFor, regionsInUse, type RegionalResult } from '../../src/control/regional-checks';
import type { ProbeResult } from '../../src/health/rise-fall';
import type { HealthMap, OriginHealth } from '../../src/health/state';
import { loadBalancer, origin, pool, validConfig } from '../support/configs';

// SPEC §4: which prober checks what, and what its reports do to the ControlPlane's
// health map, without a Durable Object.

const T0 = Date.parse('2026-11-22T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const ok = (rtt_ms = 10): ProbeResult => ({ ok: true, rtt_ms, reason: '' });
const fail = (reason = 'connection refused'): ProbeResult => ({ ok: false, rtt_ms: 5, reason });

/** `world` (WEU, ENAM, SEAS) with a and b; `all` (ALL_REGIONS) with c; `local` (no check regions) with d; `quiet` (WEU, no monitor). */
function config(worldRegions: string[] = ['WEU', 'ENAM', 'SEAS']): Config {
  return validConfig({
    monitors: [{ id: 'm', interval: 30, consecutive_down: 1, consecutive_up: 1 }, { id: 'unused' }],
    pools: [
      pool('world', ['a', 'b'], { monitor: 'm', check_regions: worldRegions as never }),
      pool('all', ['c'], { monitor: 'm', check_regions: ['ALL_REGIONS'] }),
      pool('local', ['d'], { monitor: 'm' }),
      pool('quiet', ['e'], { check_regions: ['WEU'] }),
    ],
    load_balancers: [loadBalancer({ default_pools: ['world', 'all', 'local', 'quiet'] })],
  });
}

const names = (targets: readonly { pool: { id: string }; origin: { name: string } }[]) => targets.map((t) => `${t.pool.id}/${t.origin.name}`);

describe('who checks what', () => {
  it('the ControlPlane probes the pools without check_regions; each region the pools that list it, ALL_REGIONS in every region', () => {
    const cfg = config();
    expect(names(dueTargets(cfg, {}, T0))).toEqual(['local/d']);
    expect(names(dueTargets(cfg, {}, T0, { from: 'WEU' }))).toEqual(['world/a', 'world/b', 'all/c']);
    expect(names(dueTargets(cfg, {}, T0, { from: 'NEAS' }))).toEqual(['all/c']);
    expect(nextAlarm(cfg, {}, T0, 'SEAS')).toBe(T0 + 1000);
    expect(regionsInUse(cfg)).toEqual(['WNAM', 'ENAM', 'WEU', 'EEU', 'NSAM', 'SSAM', 'OC', 'ME', 'NAF', 'SAF', 'SAS', 'SEAS', 'NEAS']);
    expect(regionsInUse(validConfig({ pools: [pool('p', ['a'], { check_regions: ['WEU'] })] }))).toEqual([]);
  });

  it("hands a region's prober the pools that list it and their monitors, in the stored form, which validates back", () => {
    const cfg = config();
    const assignment = assignmentFor(cfg, 'SEAS', 7);
    expect(assignment).toMatchObject({ region: 'SEAS', version: 7 });
    const part = assignedConfig(assignment)!;
    expect(part.pools.map((p) => p.id)).toEqual(['world', 'all']);
    expect(part.monitors.map((m) => m.id)).toEqual(['m']);
    expect(part.pools[0]).toEqual(cfg.pools[0]);
    expect(part.load_balancers).toEqual([]);
    expect(assignedConfig(assignmentFor(config(['WEU']), 'ENAM', 8))!.pools.map((p) => p.id)).toEqual(['all']);
    // A region no pool lists any more gets an empty part: nothing to probe, no alarm.
    const none = assignedConfig(assignmentFor(validConfig({ pools: [pool('p', ['a'])] }), 'OC', 9))!;
    expect(none).toEqual({ monitors: [], pools: [], load_balancers: [] });
    expect(nextAlarm(none, {}, T0, 'OC')).toBeUndefined();
    expect(nextAlarm(assignedConfig(assignmentFor(undefined, 'OC', 1)), {}, T0, 'OC')).toBeUndefined();
    expect(assignedConfig({ region: 'OC', version: 1, config: '{"pools":[{"id":"x"}]}' })).toBeUndefined();
  });
});

describe("a prober's own rise/fall", () => {
  it('keeps its region’s results in a map of its own and marks each transition with the region', () => {
    const part = assignedConfig(assignmentFor(config(), 'SEAS', 1))!;
    const targets = dueTargets(part, {}, T0, { from: 'SEAS' });
    const { health, changes, applied } = applyOutcomes(part, {}, targets, [fail(), ok(), ok()], T0, 'SEAS');
    expect(names(applied)).toEqual(['world/a', 'world/b', 'all/c']);
    expect(health.world!.a).toMatchObject({ healthy: false, consecutive_down: 1 });
    expect(changes).toEqual([expect.objectContaining({ pool: 'world', origin: 'a', region: 'SEAS', transition: expect.objectContaining({ to: 'unhealthy' }) })]);
    // A pool that no longer lists the region drops out of its map.
    const narrowed = assignedConfig(assignmentFor(config(['WEU']), 'SEAS', 2))!;
    expect(Object.keys(pruneHealth(health, narrowed, T0, 'SEAS'))).toEqual(['all']);
  });
});

describe("the ControlPlane's record of the regions", () => {
  const regionResult = (poolId: string, name: string, health: OriginHealth, extra: Partial<RegionalResult> = {}): RegionalResult => ({
    pool: poolId,
    origin: name,
    address: `http://${name}.internal:8080`,
    monitor: 'm',
    health,
    ...extra,
  });
  const up = (at = T0): OriginHealth => ({ healthy: true, consecutive_up: 1, consecutive_down: 0, last_check_at: iso(at), reason: '', rtt_ms: 20 });
  const down = (reason: string, at = T0): OriginHealth => ({ healthy: false, consecutive_up: 0, consecutive_down: 1, last_check_at: iso(at), reason, rtt_ms: 20 });

  it("stores each region's result under the origin, takes the verdict again, and records the region's and the verdict's transitions", () => {
    const cfg = config();
    let health: HealthMap = {};
    for (const region of ['WEU', 'ENAM'] as const) health = applyRegionalReport(cfg, health, { region, results: [regionResult('world', 'a', up())] }, T0).health;
    const seas = applyRegionalReport(
      cfg,
      health,
      { region: 'SEAS', results: [regionResult('world', 'a', down('refused'), { transition: { from: 'healthy', to: 'unhealthy', reason: 'refused (1 consecutive failed check)' } })] },
      T0 + 1,
    );
    expect(seas.health.world!.a).toMatchObject({ healthy: true, regions: { WEU: { healthy: true }, ENAM: { healthy: true }, SEAS: { healthy: false } } });
    expect(seas.changes).toEqual([{ pool: 'world', origin: 'a', region: 'SEAS', transition: { from: 'healthy', to: 'unhealthy', reason: 'refused (1 consecutive failed check)' }, at: T0 + 1, rtt_ms: 20 }]);

    const enam = applyRegionalReport(cfg, seas.health, { region: 'ENAM', results: [regionResult('world', 'a', down('timeout'))] }, T0 + 2);
    expect(enam.health.world!.a!.healthy).toBe(false);
    expect(enam.changes.map((c) => `${c.region ?? 'verdict'} ${c.transition.from}->${c.transition.to}: ${c.transition.reason}`)).toEqual([
      // No transition came with the report (one was lost): the ControlPlane says what it saw.
      'ENAM healthy->unhealthy: timeout',
      'verdict healthy->unhealthy: unhealthy from 2 of 3 check regions (ENAM: timeout; SEAS: refused)',
    ]);
  });

  it('leaves out a result for a pool that no longer lists the region, a changed monitor, or an origin removed or moved', () => {
    const cfg = config(['WEU']);
    const results = [
      regionResult('world', 'a', down('x')),
      regionResult('world', 'b', down('x'), { monitor: 'unused' }),
      regionResult('local', 'd', down('x')),
      regionResult('world', 'zz', down('x')),
      regionResult('all', 'c', down('x'), { address: 'http://c.moved:8080' }),
    ];
    expect(applyRegionalReport(cfg, {}, { region: 'SEAS', results }, T0)).toEqual({ health: {}, changes: [] });
  });

  it('keeps the control plane’s results and the regions’ apart: a pool that gains or loses check_regions starts afresh; a region dropped loses its vote', () => {
    const cfg = config();
    let health: HealthMap = {};
    for (const region of ['WEU', 'ENAM', 'SEAS'] as const) {
      const result = region === 'WEU' ? up() : down('refused');
      health = applyRegionalReport(cfg, health, { region, results: [regionResult('world', 'a', result)] }, T0).health;
    }
    health.local = { d: up() };
    expect(health.world!.a!.healthy).toBe(false);
    // SEAS and ENAM no longer check it: WEU alone decides.
    const narrowed = pruneHealth(health, config(['WEU']), T0 + 10);
    expect(narrowed.world!.a).toMatchObject({ healthy: true, since: T0 + 10 });
    expect(Object.keys(narrowed.world!.a!.regions!)).toEqual(['WEU']);
    expect(narrowed.local).toEqual({ d: up() });
    // Regions added that have not checked yet count as healthy: WEU's failure alone is now outvoted.
    const lonely = applyRegionalReport(config(['WEU']), {}, { region: 'WEU', results: [regionResult('world', 'a', down('refused'))] }, T0).health;
    expect(lonely.world!.a!.healthy).toBe(false);
    expect(pruneHealth(lonely, config(['WEU', 'ENAM', 'SEAS']), T0 + 20).world!.a).toMatchObject({ healthy: true, since: T0 + 20 });
    // No check regions any more: the control plane starts with nothing known, as with a new origin.
    expect(pruneHealth(health, config([]), T0).world).toBeUndefined();
    // The other way: a control plane result is not a region's.
    const gained = validConfig({ monitors: [{ id: 'm' }], pools: [pool('local', ['d'], { monitor: 'm', check_regions: ['WEU'] })] });
    expect(pruneHealth({ local: { d: up() } }, gained, T0)).toEqual({});
    expect(pruneHealth({ local: { d: up() } }, validConfig({ monitors: [{ id: 'm' }], pools: [pool('local', [origin('d')], { monitor: 'm' })] }), T0)).toEqual({ local: { d: up() } });
  });
});
