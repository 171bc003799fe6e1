import { describe, expect, it } from 'vitest';

import { POOL_STEERING_POLICIES } from '../../src/config/schema';
import { orderPools } from '../../src/steering/pool-order';
import { POOL_POLICIES } from '../../src/steering/pool-policies';
import { facts, loadBalancer, planFor, pool } from '../support/configs';
import { mulberry32 } from '../support/random';

describe('POOL_POLICIES', () => {
  it('has a pool policy for every steering policy of the configuration, "" resolved', () => {
    expect(Object.keys(POOL_POLICIES).sort()).toEqual(POOL_STEERING_POLICIES.filter((p) => p !== '').sort());
  });

  const reasons = {
    off: 'failover order',
    geo: 'country_pools[US]',
    random: 'random by pool weight',
    least_outstanding_requests: 'random by pool weight / (1 + in-flight)',
    proximity: 'by distance from 41.00,-73.00: b 140 km, a 6078 km',
    dynamic_latency: 'by mean probe RTT: c unknown, b unknown, a unknown',
  } satisfies Record<keyof typeof POOL_POLICIES, string>;

  it.each(Object.entries(reasons))('orderPools steers %s by its own entry', (steering_policy, reason) => {
    const { plan, lb } = planFor({
      pools: [pool('a', ['a1'], { latitude: 50, longitude: 8 }), pool('b', ['b1'], { latitude: 40, longitude: -74 }), pool('c', ['c1'])],
      load_balancers: [loadBalancer({ default_pools: ['c', 'b', 'a'], steering_policy: steering_policy as keyof typeof reasons, country_pools: { US: ['b'] } })],
    });
    expect(lb.policy).toBe(steering_policy);
    const client = facts({ country: 'US', lat: 41, lon: -73 });
    expect(orderPools(plan, lb, client, mulberry32(9), () => 0).reason()).toBe(reason);
  });
});
