import { distanceKm } from './distance';
import { POPS, type Pop } from './pops';
import { regionOfCountry } from './regions';

const BY_COLO: ReadonlyMap<string, Pop> = new Map(POPS.map((pop) => [pop.colo, pop]));

export function popByColo(colo: string): Pop | undefined {
  return BY_COLO.get(colo.toUpperCase());
}

/**
 * The PoP that BGP anycast would deliver a client at (lat, lon) to: the nearest one
 * whose route is not withdrawn. Undefined only when every PoP is withdrawn.
 */
export function nearestPop(lat: number, lon: number, withdrawn: ReadonlySet<string>): Pop | undefined {
  let best: Pop | undefined;
  let bestKm = Infinity;
  for (const pop of POPS) {
    if (withdrawn.has(pop.colo)) continue;
    const km = distanceKm(lat, lon, pop.lat, pop.lon);
    if (km < bestKm) {
      best = pop;
      bestKm = km;
    }
  }
  return best;
}

/**
 * Where a client known only by its country enters the network: the first PoP of that
 * country in its country's own region (GRU rather than FOR for Brazil), else any PoP
 * of that country.
 */
export function homePop(country: string): Pop | undefined {
  const code = country.toUpperCase();
  const region = regionOfCountry(code);
  return POPS.find((pop) => pop.country === code && pop.region === region) ?? POPS.find((pop) => pop.country === code);
}
