import type { PoolSteeringPolicy } from '../../config/schema';
import type { ClientFacts } from '../facts';
import type { CompiledLoadBalancer, Plan } from '../plan';

/** steering_policy with "" resolved: off, or geo when the load balancer maps any pools by place. */
export type ResolvedSteeringPolicy = Exclude<PoolSteeringPolicy, ''>;

export interface PoolOrder {
  /** Pool ids in the order they are to be tried, before health is considered. */
  ids: string[];
  /** Why this order, for explain and the trace: built only when asked for, since formatting would cost more than the decision. */
  reason: () => string;
}

/** A pool steering policy: the order in which a load balancer's pools are tried for one client. */
export interface PoolPolicy {
  order(plan: Plan, lb: CompiledLoadBalancer, facts: ClientFacts, random: () => number, poolInflight: (pool: string) => number): PoolOrder;
}
