import type { LoadBalancer } from '../config/schema';
import { steeringPools } from '../config/pool-lists';

export { steeringPools, type PoolLists } from '../config/pool-lists';

/**
 * Every pool a load balancer's configuration reaches: those its steering can send a
 * request to and those it gives a random-steering weight.
 */
export function reachablePools(lb: LoadBalancer): Set<string> {
  const ids = new Set(steeringPools(lb));
  for (const id of Object.keys(lb.random_steering.pool_weights)) ids.add(id);
  return ids;
}

const reached = new WeakMap<LoadBalancer, ReadonlySet<string>>();

/**
 * reachablePools, kept per load balancer object (the configured one, or one a rule's
 * overrides made): steering asks it for every pinned request.
 */
export function poolsReachedBy(lb: LoadBalancer): ReadonlySet<string> {
  let pools = reached.get(lb);
  if (pools === undefined) reached.set(lb, (pools = reachablePools(lb)));
  return pools;
}
