import type { CompiledOrigin } from '../compiled-origin';
import { nextInListOrder, type OriginPicker, type OriginSet, type PickContext } from './origin-picker';

/** random: one weighted draw. */
export class RandomPicker implements OriginPicker {
  constructor(private readonly set: OriginSet) {}

  pick(ctx: PickContext): number {
    return this.set.weightedRandom().pick(ctx.random());
  }

  alternates(first: number, count: number): CompiledOrigin[] {
    return nextInListOrder(this.set.origins, first, count);
  }
}
