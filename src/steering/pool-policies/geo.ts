import type { PoolPolicy } from './pool-policy';

/** geo: pop_pools[colo], else country_pools[country], else region_pools[region], else default_pools. */
export const geo: PoolPolicy = {
  order(_plan, lb, facts) {
    const config = lb.config;
    const defaults = config.default_pools;
    const byPop = facts.colo === undefined ? undefined : config.pop_pools[facts.colo];
    if (byPop !== undefined) return { ids: thenDefaults(byPop, defaults), reason: () => `pop_pools[${facts.colo}]` };
    const byCountry = facts.country === undefined ? undefined : config.country_pools[facts.country];
    if (byCountry !== undefined) return { ids: thenDefaults(byCountry, defaults), reason: () => `country_pools[${facts.country}]` };
    const byRegion = facts.region === undefined ? undefined : config.region_pools[facts.region];
    if (byRegion !== undefined) return { ids: thenDefaults(byRegion, defaults), reason: () => `region_pools[${facts.region}]` };
    return { ids: defaults, reason: () => 'no geo match: default_pools' };
  },
};

/** A geo list is tried first; the default pools follow, so a region never runs out of pools. */
function thenDefaults(first: readonly string[], defaults: readonly string[]): string[] {
  return [...first, ...defaults.filter((id) => !first.includes(id))];
}
