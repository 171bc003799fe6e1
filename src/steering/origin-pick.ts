// Origin selection structures. Each is built once per set of usable origins (when a
// snapshot is loaded or an origin's health changes), so that a pick costs O(1) or
// O(log n) instead of a scan over every origin of the pool.

/**
 * nginx's smooth weighted round robin, exactly: every step each origin gains its
 * weight, the largest current value wins (first in order on ties) and loses the
 * total. Weights 5,1,1 give a a b a c a a.
 *
 * Origins of equal weight always stay within one pick of each other and are served
 * in list order, so the state is kept per distinct weight: a pick costs O(number of
 * distinct weights), not O(origins).
 */
export class SmoothWeightedRoundRobin {
  private readonly groups: { weight: number; members: number[]; picks: number }[];
  private readonly total: number;
  private step = 0;

  constructor(weights: readonly number[]) {
    const scaled = integerWeights(weights);
    const byWeight = new Map<number, number[]>();
    scaled.forEach((weight, index) => {
      if (weight <= 0) return;
      let members = byWeight.get(weight);
      if (members === undefined) byWeight.set(weight, (members = []));
      members.push(index);
    });
    this.groups = [...byWeight].map(([weight, members]) => ({ weight, members, picks: 0 }));
    this.total = scaled.reduce((sum, w) => sum + Math.max(0, w), 0);
  }

  /** Index of the next origin; -1 when no origin has weight. */
  next(): number {
    if (this.groups.length === 0) return -1;
    // The sequence repeats every `total` steps, with all state back at zero.
    if (this.step === this.total) {
      this.step = 0;
      for (const group of this.groups) group.picks = 0;
    }
    const t = ++this.step;
    let best = this.groups[0];
    let bestValue = -Infinity;
    let bestIndex = Infinity;
    for (const group of this.groups) {
      const size = group.members.length;
      // current = t*w - total*picks(member); the member with the fewest picks leads its group.
      const value = t * group.weight - this.total * Math.floor(group.picks / size);
      const index = group.members[group.picks % size];
      if (value > bestValue || (value === bestValue && index < bestIndex)) {
        best = group;
        bestValue = value;
        bestIndex = index;
      }
    }
    best.picks++;
    return bestIndex;
  }
}

/** Weights as integers, so that the round-robin sequence is exact and periodic. */
function integerWeights(weights: readonly number[]): number[] {
  if (weights.every(Number.isInteger)) return [...weights];
  // Scale until no positive weight rounds to zero.
  let factor = 1000;
  while (factor < 1e9 && weights.some((w) => w > 0 && Math.round(w * factor) === 0)) factor *= 10;
  return weights.map((w) => (w > 0 ? Math.max(1, Math.round(w * factor)) : 0));
}

/** Weighted random choice by binary search over cumulative weights. */
export class WeightedRandom {
  private readonly cumulative: Float64Array;
  readonly total: number;

  constructor(weights: readonly number[]) {
    this.cumulative = new Float64Array(weights.length);
    let sum = 0;
    weights.forEach((weight, index) => {
      sum += Math.max(0, weight);
      this.cumulative[index] = sum;
    });
    this.total = sum;
  }

  /** `r` in [0, 1); -1 when no origin has weight. */
  pick(r: number): number {
    if (this.total <= 0) return -1;
    const target = r * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulative[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

export interface RingScale {
  /** Virtual nodes of an origin of the largest weight. */
  pointsPerOrigin: number;
  maxWeight: number;
}

/** Enough virtual nodes for an even spread on small pools, bounded on huge ones. */
export function ringScale(configuredWeights: readonly number[]): RingScale {
  return {
    pointsPerOrigin: Math.max(4, Math.min(160, Math.floor(64_000 / Math.max(1, configuredWeights.length)))),
    // A loop, not Math.max(...spread): pools of 100,000 origins exceed the argument limit.
    maxWeight: configuredWeights.reduce((max, w) => (w > max ? w : max), Number.MIN_VALUE),
  };
}

/**
 * Consistent hashing on a ring of virtual nodes: removing one of n origins moves
 * only the keys that origin owned (about 1/n of them) and no other key.
 */
export class HashRing {
  private readonly points: Uint32Array;
  private readonly owners: Uint32Array;
  private readonly size: number;

  /**
   * `scale` comes from the pool's whole configuration, not from the origins usable
   * now: an origin leaving the ring must not move any other origin's points.
   */
  constructor(names: readonly string[], weights: readonly number[], scale: RingScale) {
    const count = names.length;
    const entries: [number, number][] = [];
    names.forEach((name, index) => {
      const weight = weights[index];
      if (!(weight > 0)) return;
      const vnodes = Math.max(1, Math.round((scale.pointsPerOrigin * weight) / scale.maxWeight));
      for (let v = 0; v < vnodes; v++) entries.push([hash32(`${name}#${v}`), index]);
    });
    entries.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    this.points = Uint32Array.from(entries, (e) => e[0]);
    this.owners = Uint32Array.from(entries, (e) => e[1]);
    this.size = count;
  }

  /** Index of the origin owning `key`; -1 on an empty ring. */
  lookup(key: number): number {
    const n = this.points.length;
    if (n === 0) return -1;
    return this.owners[this.firstAtOrAfter(key) % n];
  }

  /** Up to `count` distinct origins clockwise from `key`, the owner first. */
  walk(key: number, count: number): number[] {
    const n = this.points.length;
    const out: number[] = [];
    if (n === 0) return out;
    const want = Math.min(count, this.size);
    for (let i = this.firstAtOrAfter(key), steps = 0; steps < n && out.length < want; i++, steps++) {
      const owner = this.owners[i % n];
      if (!out.includes(owner)) out.push(owner);
    }
    return out;
  }

  private firstAtOrAfter(key: number): number {
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export const FNV_OFFSET = 0x811c9dc5;

/** FNV-1a with a murmur3 finaliser: cheap, and well spread even for similar keys such as IPs. */
export function hash32(text: string): number {
  return mix32(fnv1a(text, 0, text.length, FNV_OFFSET));
}

/** FNV-1a over text[start, end), continuing from `h`: a key made of parts, or part of a string, is hashed without building it. */
export function fnv1a(text: string, start: number, end: number, h: number): number {
  for (let i = start; i < end; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

/** murmur3's finaliser: every input bit moves every output bit. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
