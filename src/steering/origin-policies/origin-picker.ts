import type { CompiledOrigin } from '../compiled-origin';
import type { HashRing, WeightedRandom } from '../origin-pick';

export interface PickContext {
  /** The hash the pool's ring is read at: its hash_key (the client IP by default), or the session key for header affinity. */
  readonly hashKey: number;
  readonly random: () => number;
  readonly inflight: (origin: CompiledOrigin) => number;
}

/**
 * What a picker chooses from: the usable origins of a pool, their effective weights,
 * and the selection structures that policies share, each built on first use.
 */
export interface OriginSet {
  readonly origins: readonly CompiledOrigin[];
  /** Effective weights: configured, scaled down while an origin's slow_start ramp runs. */
  readonly weights: readonly number[];
  hashRing(): HashRing;
  weightedRandom(): WeightedRandom;
}

/**
 * An origin steering policy over one set of usable origins. A picker is only asked
 * about sets of two or more origins; it builds what it needs on first use, so a
 * set that only serves pinned requests costs nothing beyond the picker itself.
 */
export interface OriginPicker {
  /** Index of the origin for a new request; may advance the picker's state (a round-robin turn). */
  pick(ctx: PickContext): number;
  /** Up to `count` other origins after `first`, for retries; takes no turn. */
  alternates(first: number, count: number, hashKey: number): CompiledOrigin[];
}

export type OriginPickerFactory = (set: OriginSet) => OriginPicker;

/** Retries go on through the list after `first`, wrapping round. */
export function nextInListOrder(origins: readonly CompiledOrigin[], first: number, count: number): CompiledOrigin[] {
  const out: CompiledOrigin[] = [];
  for (let step = 1; step < origins.length && out.length < count; step++) {
    out.push(origins[(first + step) % origins.length]);
  }
  return out;
}
