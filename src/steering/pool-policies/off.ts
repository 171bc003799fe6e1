import type { PoolPolicy } from './pool-policy';

const failoverOrder = () => 'failover order';

/** off: default_pools, in order. */
export const off: PoolPolicy = {
  order: (_plan, lb) => ({ ids: lb.config.default_pools, reason: failoverOrder }),
};
