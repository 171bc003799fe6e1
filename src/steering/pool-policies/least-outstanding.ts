import type { PoolPolicy } from './pool-policy';
import { weightedFirst } from './weighted-first';

/** least_outstanding_requests: pool weights scaled by 1/(1 + in-flight). */
export const leastOutstanding: PoolPolicy = {
  order(_plan, lb, _facts, random, poolInflight) {
    const { default_weight, pool_weights } = lb.config.random_steering;
    return weightedFirst(
      lb.config.default_pools,
      (id) => (pool_weights[id] ?? default_weight) / (1 + poolInflight(id)),
      random,
      'random by pool weight / (1 + in-flight)',
    );
  },
};
