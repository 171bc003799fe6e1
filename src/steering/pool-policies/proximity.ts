import { popByColo } from '../../geo/anycast';
import { distanceKm } from '../../geo/distance';
import type { ClientFacts } from '../facts';
import type { PoolPolicy } from './pool-policy';

/** proximity: pools with coordinates by great-circle distance from the client, then the rest in default order. */
export const proximity: PoolPolicy = {
  order(plan, lb, facts) {
    const defaults = lb.config.default_pools;
    const from = clientLocation(facts);
    if (from === undefined) return { ids: defaults, reason: () => 'client location unknown: failover order' };
    const located: { id: string; km: number }[] = [];
    const rest: string[] = [];
    for (const id of defaults) {
      const pool = plan.pools.get(id)?.config;
      if (pool?.latitude !== undefined && pool.longitude !== undefined) {
        located.push({ id, km: distanceKm(from.lat, from.lon, pool.latitude, pool.longitude) });
      } else rest.push(id);
    }
    located.sort((a, b) => a.km - b.km);
    return {
      ids: [...located.map((p) => p.id), ...rest],
      reason: () => `by distance from ${from.lat.toFixed(2)},${from.lon.toFixed(2)}: ${located.map((p) => `${p.id} ${Math.round(p.km)} km`).join(', ')}`,
    };
  },
};

/** The client's own location, else its PoP's. */
function clientLocation(facts: ClientFacts): { lat: number; lon: number } | undefined {
  if (facts.lat !== undefined && facts.lon !== undefined) return { lat: facts.lat, lon: facts.lon };
  return facts.colo === undefined ? undefined : popByColo(facts.colo);
}
