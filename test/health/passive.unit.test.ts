import { describe, expect, it } from 'vitest';

import { hardestPolicy, PassiveHealth, type PassivePolicy } from '../../src/health/passive';

const POLICY: PassivePolicy = { max_fails: 3, fail_timeout: 10, max_ejection_percent: 50 };
const T0 = 1_000_000;

function fail(passive: PassiveHealth, origin: string, times: readonly number[], poolSize = 4, policy = POLICY): boolean[] {
  return times.map((t) => passive.recordFailure('p', origin, poolSize, policy, t));
}

describe('PassiveHealth', () => {
  it('ejects after max_fails failures within fail_timeout', () => {
    const passive = new PassiveHealth();
    expect(fail(passive, 'a', [T0, T0 + 4000, T0 + 9000])).toEqual([false, false, true]);
    expect(passive.isEjected('p', 'a', T0 + 9000)).toBe(true);
    expect(passive.isEjected('p', 'b', T0 + 9000)).toBe(false);
    expect(passive.isEjected('q', 'a', T0 + 9000)).toBe(false);
    expect(passive.ejectedCount('p', T0 + 9000)).toBe(1);
  });

  it('does not eject when the failures are spread wider than fail_timeout', () => {
    const passive = new PassiveHealth();
    expect(fail(passive, 'a', [T0, T0 + 6000, T0 + 12_000, T0 + 18_000, T0 + 24_000])).toEqual([false, false, false, false, false]);
    expect(passive.isEjected('p', 'a', T0 + 24_000)).toBe(false);
  });

  it('ends the ejection after fail_timeout', () => {
    const passive = new PassiveHealth();
    fail(passive, 'a', [T0, T0 + 1, T0 + 2]);
    expect(passive.isEjected('p', 'a', T0 + 2 + 9_999)).toBe(true);
    expect(passive.isEjected('p', 'a', T0 + 2 + 10_000)).toBe(false);
    expect(passive.ejectedCount('p', T0 + 2 + 10_000)).toBe(0);
  });

  it('needs max_fails fresh failures after an ejection ends', () => {
    const passive = new PassiveHealth();
    fail(passive, 'a', [T0, T0 + 1, T0 + 2]);
    const back = T0 + 20_000;
    expect(fail(passive, 'a', [back, back + 1])).toEqual([false, false]);
    expect(passive.isEjected('p', 'a', back + 1)).toBe(false);
    expect(fail(passive, 'a', [back + 2])).toEqual([true]);
  });

  it('never ejects more than max_ejection_percent (50% of 4 origins = 2)', () => {
    const passive = new PassiveHealth();
    const results = ['a', 'b', 'c', 'd'].map((origin, i) => fail(passive, origin, [T0 + i * 10, T0 + i * 10 + 1, T0 + i * 10 + 2]).at(-1));
    expect(results).toEqual([true, true, false, false]);
    const now = T0 + 100;
    expect(['a', 'b', 'c', 'd'].filter((o) => passive.isEjected('p', o, now))).toEqual(['a', 'b']);
    expect(passive.ejectedCount('p', now)).toBe(2);
    // More failures on c and d still do not go over the cap.
    fail(passive, 'c', [now, now + 1, now + 2]);
    fail(passive, 'd', [now, now + 1, now + 2]);
    expect(passive.ejectedCount('p', now + 2)).toBe(2);
    // Once a and b are back, room is made for others.
    const later = T0 + 20_000;
    expect(passive.ejectedCount('p', later)).toBe(0);
    expect(fail(passive, 'c', [later, later + 1, later + 2]).at(-1)).toBe(true);
  });

  it('never ejects the only origin of a pool at 50%', () => {
    const passive = new PassiveHealth();
    expect(fail(passive, 'a', [T0, T0 + 1, T0 + 2, T0 + 3], 1)).toEqual([false, false, false, false]);
    expect(passive.isEjected('p', 'a', T0 + 3)).toBe(false);
  });

  it('resets the failure count on a success', () => {
    const passive = new PassiveHealth();
    fail(passive, 'a', [T0, T0 + 1]);
    passive.recordSuccess('p', 'a');
    expect(fail(passive, 'a', [T0 + 2, T0 + 3])).toEqual([false, false]);
    expect(passive.isEjected('p', 'a', T0 + 3)).toBe(false);
    expect(fail(passive, 'a', [T0 + 4])).toEqual([true]);
  });

  it('a success on one origin does not reset another', () => {
    const passive = new PassiveHealth();
    fail(passive, 'a', [T0, T0 + 1]);
    passive.recordSuccess('p', 'b');
    expect(fail(passive, 'a', [T0 + 2])).toEqual([true]);
  });

  it('is off with max_fails 0', () => {
    const passive = new PassiveHealth();
    const off = { ...POLICY, max_fails: 0 };
    expect(fail(passive, 'a', Array.from({ length: 20 }, (_, i) => T0 + i), 4, off).some(Boolean)).toBe(false);
  });

  it('changes generation() on ejection and on expiry, and not otherwise', () => {
    const passive = new PassiveHealth();
    const g0 = passive.generation('p', T0);
    fail(passive, 'a', [T0, T0 + 1]);
    expect(passive.generation('p', T0 + 1)).toBe(g0);
    fail(passive, 'a', [T0 + 2]);
    const g1 = passive.generation('p', T0 + 2);
    expect(g1).not.toBe(g0);
    expect(passive.generation('p', T0 + 5000)).toBe(g1);
    expect(passive.generation('q', T0 + 5000)).toBe(0);
    const g2 = passive.generation('p', T0 + 2 + 10_000);
    expect(g2).not.toBe(g1);
    expect(passive.generation('p', T0 + 2 + 10_001)).toBe(g2);
  });

  it('readmit ends an ejection early and changes the generation', () => {
    const passive = new PassiveHealth();
    fail(passive, 'a', [T0, T0 + 1, T0 + 2]);
    const g = passive.generation('p', T0 + 3);
    passive.readmit('p', 'a');
    expect(passive.isEjected('p', 'a', T0 + 3)).toBe(false);
    expect(passive.generation('p', T0 + 3)).not.toBe(g);
  });
});

describe('active checks end passive ejections', () => {
  it('readmits an origin an active check found up after it was ejected, and only then', () => {
    const passive = new PassiveHealth();
    fail(passive, 'a', [T0, T0 + 1, T0 + 2]);
    expect(passive.isEjected('p', 'a', T0 + 3)).toBe(true);
    // A check from before the ejection says nothing about now.
    expect(passive.readmitChecked(() => T0 - 5)).toBe(0);
    expect(passive.isEjected('p', 'a', T0 + 3)).toBe(true);
    const generation = passive.generation('p', T0 + 3);
    expect(passive.readmitChecked((pool, origin) => (pool === 'p' && origin === 'a' ? T0 + 3 : undefined))).toBe(1);
    expect(passive.isEjected('p', 'a', T0 + 4)).toBe(false);
    expect(passive.generation('p', T0 + 4)).not.toBe(generation);
  });

  it('keeps only the newest max_fails failures of an origin the cap holds in, however many come', () => {
    const passive = new PassiveHealth();
    fail(passive, 'a', [T0, T0 + 1, T0 + 2], 1);
    const times = Array.from({ length: 10_000 }, (_, i) => T0 + 3 + i / 10);
    expect(fail(passive, 'a', times, 1).some(Boolean)).toBe(false);
    const kept = (passive as unknown as { failures: Map<string, number[]> }).failures.get('p\u0000a');
    expect(kept?.length).toBeLessThanOrEqual(POLICY.max_fails);
    // Still ejected once the cap allows it: the count is not lost.
    expect(fail(passive, 'a', [T0 + 1005], 2)).toEqual([true]);
  });
});

describe('hardestPolicy', () => {
  it('takes each field at its hardest to eject by, over the load balancers with passive health on', () => {
    const canary: PassivePolicy = { max_fails: 1, fail_timeout: 60, max_ejection_percent: 100 };
    const production: PassivePolicy = { max_fails: 5, fail_timeout: 10, max_ejection_percent: 30 };
    const off: PassivePolicy = { max_fails: 0, fail_timeout: 1, max_ejection_percent: 0 };
    expect(hardestPolicy([canary, production, off])).toEqual({ max_fails: 5, fail_timeout: 10, max_ejection_percent: 30 });
    expect(hardestPolicy([canary])).toEqual(canary);
    expect(hardestPolicy([off])).toBeUndefined();
    expect(hardestPolicy([])).toBeUndefined();
  });
});
