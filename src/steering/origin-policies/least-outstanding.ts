import type { CompiledOrigin } from '../compiled-origin';
import { nextInListOrder, type OriginPicker, type OriginSet, type PickContext } from './origin-picker';

/**
 * least_outstanding_requests: the power of two choices, weighted: two weighted draws,
 * the one with less in flight per unit of weight wins. As good as a full scan in
 * practice, and O(log n).
 */
export class LeastOutstandingPicker implements OriginPicker {
  constructor(private readonly set: OriginSet) {}

  pick(ctx: PickContext): number {
    const weighted = this.set.weightedRandom();
    const a = weighted.pick(ctx.random());
    const b = weighted.pick(ctx.random());
    return this.load(ctx, b) < this.load(ctx, a) ? b : a;
  }

  alternates(first: number, count: number): CompiledOrigin[] {
    return nextInListOrder(this.set.origins, first, count);
  }

  private load(ctx: PickContext, index: number): number {
    return (ctx.inflight(this.set.origins[index]) + 1) / this.set.weights[index]!;
  }
}
