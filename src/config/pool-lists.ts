import type { LoadBalancer } from './schema';

/** The fields of a load balancer that name the pools it steers to; a geo map left out names none. */
export type PoolLists = Pick<LoadBalancer, 'default_pools' | 'fallback_pool'> &
  Partial<Pick<LoadBalancer, 'region_pools' | 'country_pools' | 'pop_pools'>>;

/**
 * The pools a load balancer's steering can send a request to: its default pools, the
 * pools of its region, country and PoP maps, then its fallback pool; each once, in that order.
 */
export function steeringPools(lb: PoolLists): string[] {
  const ids = new Set(lb.default_pools);
  for (const map of [lb.region_pools, lb.country_pools, lb.pop_pools]) {
    for (const list of Object.values(map ?? {})) for (const id of list ?? []) ids.add(id);
  }
  if (lb.fallback_pool !== undefined) ids.add(lb.fallback_pool);
  return [...ids];
}

