import { POPS, type Pop } from './pops';
import { regionOfCountry } from './regions';

const BY_COLO: ReadonlyMap<string, Pop> = new Map(POPS.map((pop) => [pop.colo, pop]));

export function popByColo(colo: string): Pop | undefined {
  return BY_COLO.get(colo.toUpperCase());
}

/** Unit vectors of the PoPs: the nearest PoP is the one with the largest dot product. */
const VECTORS: Float64Array = (() => {
  const v = new Float64Array(POPS.length * 3);
  POPS.forEach((pop, i) => v.set(unitVector(pop.lat, pop.lon), i * 3));
  return v;
})();

function unitVector(lat: number, lon: number): [number, number, number] {
  const phi = (lat * Math.PI) / 180;
  const lambda = (lon * Math.PI) / 180;
  return [Math.cos(phi) * Math.cos(lambda), Math.cos(phi) * Math.sin(lambda), Math.sin(phi)];
}

/**
 * The PoP that BGP anycast would deliver a client at (lat, lon) to: the nearest one
 * whose route is not withdrawn. Undefined only when every PoP is withdrawn. Great-
 * circle distance falls as the dot product of unit vectors rises, so the scan is
 * three multiplications per PoP rather than a haversine.
 */
export function nearestPop(lat: number, lon: number, withdrawn: ReadonlySet<string>): Pop | undefined {
  const [x, y, z] = unitVector(lat, lon);
  let best = -1;
  let bestDot = -Infinity;
  for (let i = 0; i < POPS.length; i++) {
    const dot = x * VECTORS[i * 3]! + y * VECTORS[i * 3 + 1]! + z * VECTORS[i * 3 + 2]!;
    if (dot > bestDot && (withdrawn.size === 0 || !withdrawn.has(POPS[i]!.colo))) {
      best = i;
      bestDot = dot;
    }
  }
  return best < 0 ? undefined : POPS[best];
}

/** Home PoPs by country code, found once (at most 676 two-letter codes). */
const HOME_POPS = new Map<string, Pop | undefined>();

/**
 * Where a client known only by its country enters the network: the first PoP of that
 * country in its country's own region (GRU rather than FOR for Brazil), else any PoP
 * of that country.
 */
export function homePop(country: string): Pop | undefined {
  const code = country.toUpperCase();
  if (HOME_POPS.has(code)) return HOME_POPS.get(code);
  const region = regionOfCountry(code);
  const pop = POPS.find((p) => p.country === code && p.region === region) ?? POPS.find((p) => p.country === code);
  if (/^[A-Z]{2}$/.test(code)) HOME_POPS.set(code, pop);
  return pop;
}
