import type { ClientFacts } from './facts';
import type { CompiledLoadBalancer, Plan } from './plan';
import { POOL_POLICIES, type PoolOrder } from './pool-policies';

export type { PoolOrder } from './pool-policies';

/** The steering policies of SPEC §2.7, as an ordered list of pool ids. */
export function orderPools(
  plan: Plan,
  lb: CompiledLoadBalancer,
  facts: ClientFacts,
  random: () => number,
  poolInflight: (pool: string) => number,
): PoolOrder {
  return POOL_POLICIES[lb.policy].order(plan, lb, facts, random, poolInflight);
}
