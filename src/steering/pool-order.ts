import { popByColo } from '../geo/anycast';
import { distanceKm } from '../geo/distance';
import type { ClientFacts } from './facts';
import type { CompiledLoadBalancer, Plan } from './plan';

export interface PoolOrder {
  /** Pool ids in the order they are to be tried, before health is considered. */
  ids: string[];
  /** Why this order, for explain and the trace: built only when asked for, since formatting would cost more than the decision. */
  reason: () => string;
}

/** The steering policies of SPEC §2.7, as an ordered list of pool ids. */
export function orderPools(
  plan: Plan,
  lb: CompiledLoadBalancer,
  facts: ClientFacts,
  random: () => number,
  poolInflight: (pool: string) => number,
): PoolOrder {
  const config = lb.config;
  const defaults = config.default_pools;
  switch (lb.policy) {
    case 'off':
      return { ids: defaults, reason: () => 'failover order' };
    case 'geo': {
      const byPop = facts.colo === undefined ? undefined : config.pop_pools[facts.colo];
      if (byPop !== undefined) return { ids: thenDefaults(byPop, defaults), reason: () => `pop_pools[${facts.colo}]` };
      const byCountry = facts.country === undefined ? undefined : config.country_pools[facts.country];
      if (byCountry !== undefined) return { ids: thenDefaults(byCountry, defaults), reason: () => `country_pools[${facts.country}]` };
      const byRegion = facts.region === undefined ? undefined : config.region_pools[facts.region];
      if (byRegion !== undefined) return { ids: thenDefaults(byRegion, defaults), reason: () => `region_pools[${facts.region}]` };
      return { ids: defaults, reason: () => 'no geo match: default_pools' };
    }
    case 'random': {
      const { default_weight, pool_weights } = config.random_steering;
      return weightedFirst(defaults, (id) => pool_weights[id] ?? default_weight, random, 'random by pool weight');
    }
    case 'least_outstanding_requests': {
      const { default_weight, pool_weights } = config.random_steering;
      return weightedFirst(
        defaults,
        (id) => (pool_weights[id] ?? default_weight) / (1 + poolInflight(id)),
        random,
        'random by pool weight / (1 + in-flight)',
      );
    }
    case 'proximity': {
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
    }
    case 'dynamic_latency': {
      const rtt = (id: string) => plan.pools.get(id)?.meanRttMs ?? Infinity;
      const ids = [...defaults].sort((a, b) => rtt(a) - rtt(b));
      return { ids, reason: () => `by mean probe RTT: ${ids.map((id) => `${id} ${fmtMs(rtt(id))}`).join(', ')}` };
    }
  }
}

/** A geo list is tried first; the default pools follow, so a region never runs out of pools. */
function thenDefaults(first: readonly string[], defaults: readonly string[]): string[] {
  return [...first, ...defaults.filter((id) => !first.includes(id))];
}

function weightedFirst(ids: readonly string[], weight: (id: string) => number, random: () => number, reason: string): PoolOrder {
  const weights = ids.map((id) => Math.max(0, weight(id)));
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) return { ids: [...ids], reason: () => `${reason}: all weights 0, failover order` };
  let target = random() * total;
  let chosen = ids.length - 1;
  for (let i = 0; i < ids.length; i++) {
    target -= weights[i];
    if (target < 0) {
      chosen = i;
      break;
    }
  }
  return { ids: [ids[chosen], ...ids.filter((_, i) => i !== chosen)], reason: () => reason };
}

function clientLocation(facts: ClientFacts): { lat: number; lon: number } | undefined {
  if (facts.lat !== undefined && facts.lon !== undefined) return { lat: facts.lat, lon: facts.lon };
  return facts.colo === undefined ? undefined : popByColo(facts.colo);
}

function fmtMs(ms: number): string {
  return Number.isFinite(ms) ? `${ms.toFixed(1)} ms` : 'unknown';
}
