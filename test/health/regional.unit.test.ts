import { describe, expect, it } from 'vitest';
import type { Region } from '../../src/geo/regions';
import { asSeenFrom, combineRegions, lastFoundUp, regionalVerdict } from '../../src/health/regional';
import type { OriginHealth, RegionalResults } from '../../src/health/state';

// SPEC §4: the verdict over an origin's check regions, pure.

const T0 = Date.parse('2026-11-22T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const up = (extra: Partial<OriginHealth> = {}): OriginHealth => ({ healthy: true, consecutive_up: 1, consecutive_down: 0, last_check_at: iso(T0), reason: '', check_failures: 0, ...extra });
const down = (reason: string, extra: Partial<OriginHealth> = {}): OriginHealth => ({ healthy: false, consecutive_up: 0, consecutive_down: 3, last_check_at: iso(T0), reason, check_failures: 3, ...extra });
const THREE: Region[] = ['WEU', 'ENAM', 'SEAS'];

describe('regionalVerdict', () => {
  it('healthy while a majority says so; a tie is healthy; a region not heard from yet counts as healthy', () => {
    expect(regionalVerdict(THREE, { WEU: up(), ENAM: up(), SEAS: down('x') })).toEqual({ healthy: true, down: ['SEAS'], of: 3 });
    expect(regionalVerdict(THREE, { WEU: up(), ENAM: down('x'), SEAS: down('y') })).toEqual({ healthy: false, down: ['ENAM', 'SEAS'], of: 3 });
    expect(regionalVerdict(['WEU', 'SEAS'], { WEU: up(), SEAS: down('x') }).healthy).toBe(true);
    expect(regionalVerdict(THREE, { SEAS: down('x') }).healthy).toBe(true);
    expect(regionalVerdict(THREE, undefined)).toEqual({ healthy: true, down: [], of: 3 });
    // A result from a region the pool no longer lists has no vote.
    expect(regionalVerdict(['WEU'], { WEU: up(), ENAM: down('x'), SEAS: down('y') }).healthy).toBe(true);
  });
});

describe('combineRegions', () => {
  it('keeps each region under regions and the verdict over them: newest check, mean RTT, failures summed, the dissenting regions in the reason', () => {
    const results: RegionalResults = { WEU: up({ rtt_ms: 10 }), ENAM: up({ rtt_ms: 30, last_check_at: iso(T0 + 500) }), SEAS: down('connection refused', { rtt_ms: 200 }) };
    const { health, transition } = combineRegions(undefined, THREE, results, T0 + 1000);
    expect(transition).toBeUndefined();
    expect(health).toEqual({
      healthy: true,
      reason: 'unhealthy from 1 of 3 check regions (SEAS: connection refused); healthy by majority',
      check_failures: 3,
      last_check_at: iso(T0 + 500),
      rtt_ms: 80,
      regions: results,
    });
  });

  it('says when the verdict changes, from what, why, and starts `since` then', () => {
    const before = combineRegions(undefined, THREE, { WEU: up(), ENAM: up(), SEAS: down('refused') }, T0).health;
    const after = combineRegions(before, THREE, { WEU: up(), ENAM: down('timeout after 2000 ms'), SEAS: down('refused') }, T0 + 5000);
    expect(after.transition).toEqual({ from: 'healthy', to: 'unhealthy', reason: 'unhealthy from 2 of 3 check regions (ENAM: timeout after 2000 ms; SEAS: refused)' });
    expect(after.health).toMatchObject({ healthy: false, since: T0 + 5000 });
    const back = combineRegions(after.health, THREE, { WEU: up(), ENAM: up(), SEAS: up() }, T0 + 9000);
    expect(back.transition).toEqual({ from: 'unhealthy', to: 'healthy', reason: 'healthy from all 3 check regions' });
    expect(back.health).toMatchObject({ healthy: true, reason: '', since: T0 + 9000 });
    // An origin never judged before that most regions find down: from unknown.
    expect(combineRegions(undefined, ['WEU'], { WEU: down('refused') }, T0).transition?.from).toBe('unknown');
  });

  it('leaves out the results of regions the pool does not list', () => {
    const { health } = combineRegions(undefined, ['WEU'], { WEU: up(), SEAS: down('refused') }, T0);
    expect(Object.keys(health.regions!)).toEqual(['WEU']);
    expect(health.healthy).toBe(true);
  });
});

describe('asSeenFrom', () => {
  const entry = (results: RegionalResults) => combineRegions(undefined, THREE, results, T0).health;

  it("is the region's own result, so its clients skip an origin only their region cannot reach", () => {
    const cut = entry({ WEU: up({ rtt_ms: 12 }), ENAM: up(), SEAS: down('refused') });
    expect(asSeenFrom(cut, 'WEU')).toMatchObject({ healthy: true, rtt_ms: 12 });
    expect(asSeenFrom(cut, 'SEAS')).toMatchObject({ healthy: false, reason: 'refused' });
  });

  it('is unhealthy from every region, those that reach it included, once most regions cannot', () => {
    const most = entry({ WEU: up({ rtt_ms: 12 }), ENAM: down('a'), SEAS: down('b') });
    expect(asSeenFrom(most, 'WEU')).toMatchObject({ healthy: false, rtt_ms: 12, reason: most.reason });
    expect(asSeenFrom(most, 'ENAM')).toMatchObject({ healthy: false, reason: 'a' });
  });

  it('nothing known: undefined (healthy); a region not heard from follows the verdict', () => {
    expect(asSeenFrom(undefined, 'WEU')).toBeUndefined();
    expect(asSeenFrom(entry({ ENAM: up() }), 'WEU')).toBeUndefined();
    const unhealthy = combineRegions(undefined, ['ENAM', 'SEAS'], { ENAM: down('a'), SEAS: down('b') }, T0).health;
    expect(asSeenFrom(unhealthy, 'WEU')).toEqual({ healthy: false, reason: unhealthy.reason });
  });
});

describe('lastFoundUp', () => {
  it("an origin's own last check when it found it up; for check regions the newest region that did", () => {
    expect(lastFoundUp(up())).toBe(T0);
    expect(lastFoundUp(down('x'))).toBeUndefined();
    expect(lastFoundUp(undefined)).toBeUndefined();
    const regional = combineRegions(undefined, THREE, { WEU: up(), ENAM: up({ last_check_at: iso(T0 + 700) }), SEAS: down('x', { last_check_at: iso(T0 + 900) }) }, T0).health;
    expect(lastFoundUp(regional)).toBe(T0 + 700);
  });
});
