import type { PoolPolicy } from './pool-policy';
import { weightedFirst } from './weighted-first';

/** random: weighted random over pools (pool_weights, default_weight). */
export const random: PoolPolicy = {
  order(_plan, lb, _facts, draw) {
    const { default_weight, pool_weights } = lb.config.random_steering;
    return weightedFirst(lb.config.default_pools, (id) => pool_weights[id] ?? default_weight, draw, 'random by pool weight');
  },
};
