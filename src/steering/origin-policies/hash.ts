import type { CompiledOrigin } from '../compiled-origin';
import type { OriginPicker, OriginSet, PickContext } from './origin-picker';

/** hash: consistent on the request's hash key (the pool's hash_key); retries follow the ring clockwise. */
export class HashPicker implements OriginPicker {
  constructor(private readonly set: OriginSet) {}

  pick(ctx: PickContext): number {
    return this.set.hashRing().lookup(ctx.hashKey);
  }

  alternates(first: number, count: number, hashKey: number): CompiledOrigin[] {
    return this.set
      .hashRing()
      .walk(hashKey, count + 1)
      .filter((i) => i !== first)
      .slice(0, count)
      .map((i) => this.set.origins[i]);
  }
}
