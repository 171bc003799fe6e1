import { homePop, nearestPop, popByColo } from '../geo/anycast';
import type { Pop } from '../geo/pops';
import { regionOfCountry, type Region } from '../geo/regions';

/** What steering knows about a client: where it is and which PoP it reached. */
export interface ClientFacts {
  ip: string;
  country: string | undefined;
  lat: number | undefined;
  lon: number | undefined;
  colo: string | undefined;
  region: Region | undefined;
  source: 'cf' | 'simulation';
}

export const SIM_HEADERS = ['x-lb-sim-ip', 'x-lb-sim-country', 'x-lb-sim-lat', 'x-lb-sim-lon', 'x-lb-sim-colo'] as const;

interface CfLocation {
  country?: unknown;
  latitude?: unknown;
  longitude?: unknown;
  colo?: unknown;
}

/**
 * Client facts from `request.cf` and `cf-connecting-ip`, or, when simulating, from the
 * x-lb-sim-* headers. A simulated client that names no PoP lands on the nearest PoP
 * that is not withdrawn, as BGP anycast would deliver it.
 */
export function clientFacts(headers: Headers, cf: CfLocation | undefined, simulation: boolean, withdrawn: ReadonlySet<string>): ClientFacts {
  const ip = (simulation ? headers.get('x-lb-sim-ip') : null) ?? headers.get('cf-connecting-ip') ?? '';
  if (simulation) {
    const country = headers.get('x-lb-sim-country');
    const lat = coordinate(headers.get('x-lb-sim-lat'), 90);
    const lon = coordinate(headers.get('x-lb-sim-lon'), 180);
    const colo = headers.get('x-lb-sim-colo');
    if (country !== null || colo !== null || (lat !== undefined && lon !== undefined)) {
      return simulatedFacts(ip, country?.toUpperCase(), lat, lon, colo?.toUpperCase(), withdrawn);
    }
  }
  const country = typeof cf?.country === 'string' ? cf.country.toUpperCase() : undefined;
  const colo = typeof cf?.colo === 'string' ? cf.colo.toUpperCase() : undefined;
  return {
    ip,
    country,
    lat: coordinate(cf?.latitude, 90),
    lon: coordinate(cf?.longitude, 180),
    colo,
    region: (colo === undefined ? undefined : popByColo(colo)?.region) ?? (country === undefined ? undefined : regionOfCountry(country)),
    source: 'cf',
  };
}

function simulatedFacts(
  ip: string,
  country: string | undefined,
  lat: number | undefined,
  lon: number | undefined,
  colo: string | undefined,
  withdrawn: ReadonlySet<string>,
): ClientFacts {
  // Where the client's packets enter the network: a named PoP, its coordinates, or its
  // country's first PoP. A withdrawn PoP hands its clients to the next nearest.
  const named = colo === undefined ? undefined : popByColo(colo);
  const home = named === undefined && (lat === undefined || lon === undefined) && country !== undefined ? homePop(country) : undefined;
  const entry: { lat: number; lon: number } | undefined = named ?? home ?? (lat !== undefined && lon !== undefined ? { lat, lon } : undefined);
  let pop: Pop | undefined = named ?? home;
  if (entry !== undefined && (pop === undefined || withdrawn.has(pop.colo))) pop = nearestPop(entry.lat, entry.lon, withdrawn);
  return {
    ip,
    country,
    lat,
    lon,
    colo: pop?.colo ?? colo,
    region: pop?.region ?? (country === undefined ? undefined : regionOfCountry(country)),
    source: 'simulation',
  };
}

function coordinate(value: unknown, limit: number): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) && Math.abs(n) <= limit ? n : undefined;
}
