import { describe, expect, it, vi } from 'vitest';

import { ORIGIN_POLICIES } from '../../src/config/schema';
import { PassiveHealth } from '../../src/health/passive';
import { HashRing, ringScale, WeightedRandom } from '../../src/steering/origin-pick';
import { ORIGIN_PICKERS, type OriginSet, type PickContext } from '../../src/steering/origin-policies';
import type { CompiledOrigin } from '../../src/steering/plan';
import { compile, loadBalancer, origin, pool, validConfig } from '../support/configs';
import { mulberry32 } from '../support/random';

/** The usable origins of one pool named by `names`, with their weights. */
function originSet(names: readonly string[], weights: readonly number[]): OriginSet & { built: string[] } {
  const plan = compile(
    validConfig({
      pools: [pool('p', names.map((name, i) => origin(name, { weight: weights[i] })))],
      load_balancers: [loadBalancer({ default_pools: ['p'] })],
    }),
  );
  const origins = plan.pools.get('p')!.origins;
  const built: string[] = [];
  let ring: HashRing | undefined;
  let weighted: WeightedRandom | undefined;
  return {
    origins,
    weights,
    built,
    hashRing: () => (ring ??= (built.push('ring'), new HashRing(names, weights, ringScale(weights)))),
    weightedRandom: () => (weighted ??= (built.push('weighted'), new WeightedRandom(weights))),
  };
}

const context = (extra: Partial<PickContext> = {}): PickContext => ({ hashKey: 0, random: mulberry32(3), inflight: () => 0, ...extra });
const names = (origins: readonly CompiledOrigin[]) => origins.map((o) => o.name);

describe('ORIGIN_PICKERS', () => {
  it('has a picker for every origin steering policy of the configuration', () => {
    expect(Object.keys(ORIGIN_PICKERS).sort()).toEqual([...ORIGIN_POLICIES].sort());
  });

  it('round_robin: a a b a c a a for weights 5,1,1, building neither ring nor weighted draw', () => {
    const set = originSet(['a', 'b', 'c'], [5, 1, 1]);
    const picker = ORIGIN_PICKERS.round_robin(set);
    expect(Array.from({ length: 14 }, () => set.origins[picker.pick(context())]!.name).join('')).toBe('aabacaa'.repeat(2));
    expect(names(picker.alternates(2, 5, 0))).toEqual(['a', 'b']);
    expect(set.built).toEqual([]);
  });

  it('random: one weighted draw per pick; retries in list order after the first', () => {
    const set = originSet(['a', 'b', 'c'], [1, 0, 3]);
    const picker = ORIGIN_PICKERS.random(set);
    const draws = [0, 0.2499, 0.25, 0.9999];
    const random = () => draws.shift()!;
    expect(Array.from({ length: 4 }, () => picker.pick(context({ random })))).toEqual([0, 0, 2, 2]);
    expect(names(picker.alternates(1, 1, 0))).toEqual(['c']);
    expect(set.built).toEqual(['weighted']);
  });

  it('hash: the ring owner of the key; retries walk the ring clockwise without the first', () => {
    const set = originSet(['a', 'b', 'c', 'd'], [1, 1, 1, 1]);
    const picker = ORIGIN_PICKERS.hash(set);
    const ring = set.hashRing();
    for (const key of [0, 1, 2 ** 31, 2 ** 32 - 1, 12_345_678]) {
      const first = picker.pick(context({ hashKey: key }));
      expect(first).toBe(ring.lookup(key));
      const walk = ring.walk(key, 4);
      expect(names(picker.alternates(first, 3, key))).toEqual(walk.filter((i) => i !== first).map((i) => set.origins[i]!.name));
    }
  });

  it('least_outstanding_requests: of two weighted draws, the one with less in flight per weight', () => {
    const set = originSet(['a', 'b'], [1, 1]);
    const picker = ORIGIN_PICKERS.least_outstanding_requests(set);
    const busy = (o: CompiledOrigin) => (o.name === 'a' ? 9 : 0);
    // Draws land on a then b, and on b then a: b, less loaded, wins both times.
    const draws = [0.1, 0.9, 0.9, 0.1];
    const random = () => draws.shift()!;
    expect([picker.pick(context({ random, inflight: busy })), picker.pick(context({ random, inflight: busy }))]).toEqual([1, 1]);
    // Equal load: the first draw wins.
    expect(picker.pick(context({ random: () => 0.1 }))).toBe(0);
    expect(names(picker.alternates(1, 4, 0))).toEqual(['a']);
  });
});

describe('Selection', () => {
  const selectionOf = (policy: (typeof ORIGIN_POLICIES)[number]) =>
    compile(
      validConfig({
        pools: [pool('p', ['a', 'b', 'c'], { origin_steering: { policy } })],
        load_balancers: [loadBalancer({ default_pools: ['p'] })],
      }),
    )
      .pools.get('p')!
      .selection(new PassiveHealth(), 0);

  it('builds no hash ring for a round-robin pool until a consistent choice is asked for', () => {
    const selection = selectionOf('round_robin');
    const ring = vi.spyOn(selection, 'hashRing');
    for (let i = 0; i < 5; i++) selection.alternates(selection.pick(context()), 2, 7);
    expect(ring).not.toHaveBeenCalled();
    selection.pickByHash(7);
    expect(ring).toHaveBeenCalled();
  });

  it('a hash pool shares one ring between pick and pickByHash', () => {
    const selection = selectionOf('hash');
    for (let key = 0; key < 2 ** 32; key += 85_899_345) {
      expect(selection.pick(context({ hashKey: key }))).toBe(selection.pickByHash(key));
    }
    expect(selection.hashRing()).toBe(selection.hashRing());
  });

  it('answers the one origin, or -1 without any, and no alternates, without asking the policy', () => {
    const usable = (enabled: boolean) =>
      compile(
        validConfig({
          pools: [pool('p', [origin('a', { enabled }), origin('b', { enabled: false })], { origin_steering: { policy: 'hash' } })],
          load_balancers: [loadBalancer({ default_pools: ['p'] })],
        }),
      )
        .pools.get('p')!
        .selection(new PassiveHealth(), 0, true);
    for (const [selection, index] of [[usable(true), 0], [usable(false), -1]] as const) {
      const ring = vi.spyOn(selection, 'hashRing');
      expect(selection.pick(context())).toBe(index);
      expect(selection.pickByHash(1)).toBe(index);
      expect(selection.alternates(0, 3, 1)).toEqual([]);
      expect(ring).not.toHaveBeenCalled();
    }
  });
});
