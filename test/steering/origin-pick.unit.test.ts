import { describe, expect, it } from 'vitest';

import { HashRing, ringScale, SmoothWeightedRoundRobin, WeightedRandom, hash32 } from '../../src/steering/origin-pick';
import { clientIps, mulberry32 } from '../support/random';

const LETTERS = 'abcdefghij';

function picks(rr: SmoothWeightedRoundRobin, n: number): number[] {
  return Array.from({ length: n }, () => rr.next());
}

function counts(indexes: readonly number[], size: number): number[] {
  const out = new Array<number>(size).fill(0);
  for (const i of indexes) out[i]++;
  return out;
}

/** nginx's smooth weighted round robin, written out naively (O(n) per pick), as a reference. */
function nginxReference(weights: readonly number[], n: number): number[] {
  const current = weights.map(() => 0);
  const total = weights.reduce((a, b) => a + b, 0);
  const out: number[] = [];
  for (let step = 0; step < n; step++) {
    let best = -1;
    weights.forEach((w, i) => {
      if (w <= 0) return;
      current[i] += w;
      if (best === -1 || current[i] > current[best]) best = i;
    });
    current[best] -= total;
    out.push(best);
  }
  return out;
}

const CLIENT_IPS = clientIps(10_000);

describe('SmoothWeightedRoundRobin', () => {
  it('gives a a b a c a a for weights 5,1,1, repeating with period 7', () => {
    const rr = new SmoothWeightedRoundRobin([5, 1, 1]);
    const sequence = picks(rr, 35).map((i) => LETTERS[i]).join('');
    expect(sequence.slice(0, 7)).toBe('aabacaa');
    expect(sequence).toBe('aabacaa'.repeat(5));
  });

  it('serves weights 2:1 exactly 2,000 / 1,000 times over 3,000 picks', () => {
    const rr = new SmoothWeightedRoundRobin([2, 1]);
    expect(counts(picks(rr, 3000), 2)).toEqual([2000, 1000]);
  });

  it('treats fractional weights 0.5 and 0.25 as 2:1, interleaved', () => {
    const fractional = picks(new SmoothWeightedRoundRobin([0.5, 0.25]), 3000);
    // Smooth: the lighter origin is never picked twice in a row, nor the heavier three times.
    expect(fractional.slice(0, 9).map((i) => LETTERS[i]).join('')).toBe('abaabaaba');
    expect(fractional).toEqual(picks(new SmoothWeightedRoundRobin([2, 1]), 3000));
    expect(counts(fractional, 2)).toEqual([2000, 1000]);
  });

  it('cycles origins of equal weight in list order', () => {
    expect(picks(new SmoothWeightedRoundRobin([1, 1, 1]), 7)).toEqual([0, 1, 2, 0, 1, 2, 0]);
  });

  it('never picks a weight-0 origin, and returns -1 when no origin has weight', () => {
    const seq = picks(new SmoothWeightedRoundRobin([0, 3, 0, 1]), 40);
    expect(new Set(seq)).toEqual(new Set([1, 3]));
    expect(counts(seq, 4)).toEqual([0, 30, 0, 10]);
    expect(new SmoothWeightedRoundRobin([0, 0]).next()).toBe(-1);
    expect(new SmoothWeightedRoundRobin([]).next()).toBe(-1);
  });

  it('matches a naive nginx implementation on random weight vectors (including repeated weights)', () => {
    const random = mulberry32(42);
    for (let trial = 0; trial < 200; trial++) {
      const size = 1 + Math.floor(random() * 8);
      const weights = Array.from({ length: size }, () => Math.floor(random() * 6));
      if (!weights.some((w) => w > 0)) weights[0] = 1;
      const total = weights.reduce((a, b) => a + b, 0);
      const n = total * 3 + 5;
      expect(picks(new SmoothWeightedRoundRobin(weights), n), `weights ${weights.join(',')}`).toEqual(nginxReference(weights, n));
    }
  });
});

describe('WeightedRandom', () => {
  it('splits 3,000 seeded picks with weights 2:1 within 3% of 2,000 / 1,000', () => {
    const weighted = new WeightedRandom([2, 1]);
    const random = mulberry32(7);
    const [a, b] = counts(
      Array.from({ length: 3000 }, () => weighted.pick(random())),
      2,
    );
    expect(a + b).toBe(3000);
    // With two outcomes both counts are off by the same amount: at most 3% of 2,000 (about 2.3 sigma).
    expect(Math.abs(a - 2000)).toBeLessThanOrEqual(2000 * 0.03);
    expect(Math.abs(b - 1000)).toBe(Math.abs(a - 2000));
  });

  it('maps r in [0, 1) onto the cumulative weights, skipping weight 0', () => {
    const weighted = new WeightedRandom([1, 0, 3]);
    expect(weighted.total).toBe(4);
    expect(weighted.pick(0)).toBe(0);
    expect(weighted.pick(0.2499)).toBe(0);
    expect(weighted.pick(0.25)).toBe(2);
    expect(weighted.pick(0.9999)).toBe(2);
    const random = mulberry32(3);
    for (let i = 0; i < 1000; i++) expect(weighted.pick(random())).not.toBe(1);
  });

  it('returns -1 when no origin has weight', () => {
    expect(new WeightedRandom([0, 0]).pick(0.5)).toBe(-1);
    expect(new WeightedRandom([]).pick(0.5)).toBe(-1);
  });
});

describe('HashRing', () => {
  const names = Array.from({ length: 10 }, (_, i) => `o${i}`);
  const ones = names.map(() => 1);

  it('spreads 10,000 clients over 10 origins evenly (each 5%..15%)', () => {
    const ring = new HashRing(names, ones, ringScale(ones));
    const owners = CLIENT_IPS.map((ip) => ring.lookup(hash32(ip)));
    for (const share of counts(owners, 10)) {
      expect(share).toBeGreaterThanOrEqual(500);
      expect(share).toBeLessThanOrEqual(1500);
    }
  });

  it('is deterministic: the same key always maps to the same origin', () => {
    const a = new HashRing(names, ones, ringScale(ones));
    const b = new HashRing([...names], [...ones], ringScale([...ones]));
    for (const ip of CLIENT_IPS.slice(0, 500)) expect(a.lookup(hash32(ip))).toBe(b.lookup(hash32(ip)));
  });

  it.each(names.map((_, i) => i))('removing origin o%i moves only its own clients (at most 15%)', (removed) => {
    const before = new HashRing(names, ones, ringScale(ones));
    const remaining = names.filter((_, i) => i !== removed);
    const after = new HashRing(remaining, remaining.map(() => 1), ringScale(ones));
    let moved = 0;
    for (const ip of CLIENT_IPS) {
      const key = hash32(ip);
      const was = names[before.lookup(key)];
      const now = remaining[after.lookup(key)];
      if (was !== now) {
        moved++;
        expect(was).toBe(names[removed]);
      }
    }
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThanOrEqual(CLIENT_IPS.length * 0.15);
  });

  it('with unequal weights, removing an origin moves only its own clients', () => {
    const weights = names.map((_, i) => (i === 0 ? 2 : 1));
    const scale = ringScale(weights);
    const before = new HashRing(names, weights, scale);
    const after = new HashRing(names.slice(1), weights.slice(1), scale);
    let moved = 0;
    for (const ip of CLIENT_IPS) {
      const key = hash32(ip);
      const was = names[before.lookup(key)];
      if (was !== names.slice(1)[after.lookup(key)]) {
        moved++;
        expect(was).toBe('o0');
      }
    }
    expect(moved).toBeGreaterThan(CLIENT_IPS.length * 0.1);
  });

  it('scales for a pool of 200,000 origins without running out of stack', () => {
    const weights = Array.from({ length: 200_000 }, (_, i) => (i === 123_456 ? 7 : 1));
    expect(ringScale(weights)).toEqual({ pointsPerOrigin: 4, maxWeight: 7 });
  });

  it('never maps a key to a weight-0 origin and is empty when every weight is 0', () => {
    const ring = new HashRing(['a', 'b', 'c'], [1, 0, 1], ringScale([1, 0, 1]));
    for (const ip of CLIENT_IPS.slice(0, 2000)) expect(ring.lookup(hash32(ip))).not.toBe(1);
    expect(new HashRing(['a'], [0], ringScale([0])).lookup(123)).toBe(-1);
    expect(new HashRing([], [], ringScale([])).walk(123, 3)).toEqual([]);
  });

  it('walks distinct origins clockwise, the owner first, bounded by the origin count', () => {
    const ring = new HashRing(names, ones, ringScale(ones));
    for (const ip of CLIENT_IPS.slice(0, 200)) {
      const key = hash32(ip);
      const walk = ring.walk(key, 3);
      expect(walk).toHaveLength(3);
      expect(walk[0]).toBe(ring.lookup(key));
      expect(new Set(walk).size).toBe(3);
    }
    expect(new Set(ring.walk(hash32('x'), 50))).toEqual(new Set(names.map((_, i) => i)));
  });
});

describe('hash32', () => {
  it('is a stable unsigned 32-bit hash that separates similar keys', () => {
    const h = hash32('10.0.0.1');
    expect(h).toBe(hash32('10.0.0.1'));
    expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
    expect(hash32('10.0.0.2')).not.toBe(h);
    expect(new Set(CLIENT_IPS.map(hash32)).size).toBeGreaterThan(9990);
  });
});
