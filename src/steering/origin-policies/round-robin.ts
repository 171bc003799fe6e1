import type { CompiledOrigin } from '../compiled-origin';
import { SmoothWeightedRoundRobin } from '../origin-pick';
import { nextInListOrder, type OriginPicker, type OriginSet } from './origin-picker';

/** round_robin: nginx's smooth weighted round robin; the sequence is built on the first pick. */
export class RoundRobinPicker implements OriginPicker {
  private sequence?: SmoothWeightedRoundRobin;

  constructor(private readonly set: OriginSet) {}

  pick(): number {
    return (this.sequence ??= new SmoothWeightedRoundRobin(this.set.weights)).next();
  }

  alternates(first: number, count: number): CompiledOrigin[] {
    return nextInListOrder(this.set.origins, first, count);
  }
}
