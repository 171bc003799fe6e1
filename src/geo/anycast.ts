import { distanceKm } from './distance';
import { POPS, type Pop } from './pops';

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
