import type { OriginPolicy } from '../config/schema';
import type { CompiledOrigin } from './compiled-origin';
import { HashRing, WeightedRandom, type RingScale } from './origin-pick';
import { ORIGIN_PICKERS, type OriginPicker, type OriginSet, type PickContext } from './origin-policies';

/**
 * The origins of a pool that may take new sessions now, with the pool's policy over
 * them. Built once per set of usable origins; the hash ring and the weighted draw are
 * built on first use, so a round-robin pool never builds a ring unless something
 * asks for a consistent choice (pickByHash).
 */
export class Selection implements OriginSet {
  private readonly picker: OriginPicker;
  /** Pickers of other policies, for a rule's origin_steering override; built on first use. */
  private others?: Map<OriginPolicy, OriginPicker>;
  private ring?: HashRing;
  private weighted?: WeightedRandom;

  constructor(
    readonly policy: OriginPolicy,
    readonly origins: readonly CompiledOrigin[],
    readonly usingBackups: boolean,
    readonly generation: number,
    private readonly scale: RingScale,
    /** Effective weights: configured, scaled down while an origin's slow_start ramp runs. */
    readonly weights: readonly number[] = origins.map((o) => o.config.weight),
    /** Usable backups while primaries serve: tried after the primaries when an attempt fails. */
    readonly backups: readonly CompiledOrigin[] = [],
    readonly rampBucket = -1,
  ) {
    this.picker = ORIGIN_PICKERS[policy](this);
  }

  get size(): number {
    return this.origins.length;
  }

  /** The first origin for a new request, by the pool's policy (or the one given); -1 when there is none. */
  pick(ctx: PickContext, policy: OriginPolicy = this.policy): number {
    if (this.origins.length <= 1) return this.origins.length - 1;
    return this.pickerFor(policy).pick(ctx);
  }

  /** Consistent choice on a key, whatever the pool's policy (ip_cookie and header affinity). */
  pickByHash(hashKey: number): number {
    return this.origins.length <= 1 ? this.origins.length - 1 : this.hashRing().lookup(hashKey);
  }

  /** Up to `count` other origins after `first`, for retries. */
  alternates(first: number, count: number, hashKey: number, policy: OriginPolicy = this.policy): CompiledOrigin[] {
    if (count <= 0 || this.origins.length <= 1) return [];
    return this.pickerFor(policy).alternates(first, count, hashKey);
  }

  private pickerFor(policy: OriginPolicy): OriginPicker {
    if (policy === this.policy) return this.picker;
    this.others ??= new Map();
    let picker = this.others.get(policy);
    if (picker === undefined) this.others.set(policy, (picker = ORIGIN_PICKERS[policy](this)));
    return picker;
  }

  hashRing(): HashRing {
    return (this.ring ??= new HashRing(
      this.origins.map((o) => o.name),
      this.weights,
      this.scale,
    ));
  }

  weightedRandom(): WeightedRandom {
    return (this.weighted ??= new WeightedRandom(this.weights));
  }
}
