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
  /** Cloudflare's continent code, from request.cf only (a simulated client's comes from its country). */
  continent?: string;
}

export const SIM_HEADERS = ['x-lb-sim-ip', 'x-lb-sim-country', 'x-lb-sim-lat', 'x-lb-sim-lon', 'x-lb-sim-colo'] as const;

interface CfLocation {
  country?: unknown;
  continent?: unknown;
  latitude?: unknown;
  longitude?: unknown;
  colo?: unknown;
}

/**
 * Client facts from `request.cf` and `cf-connecting-ip`, or, when simulating, from the
 * x-lb-sim-* headers. A simulated client that names no PoP lands on the nearest PoP
 * that is not withdrawn, as BGP anycast would deliver it. A malformed simulation header
 * is ignored on its own (SPEC §8): a hostile x-lb-sim-ip never reaches Forwarded, an
 * unknown colo never becomes a PoP in stats. `from` is `request.cf`, or the request
 * itself, whose `cf` is then read only when no simulation header answers.
 */
export function clientFacts(headers: Headers, from: CfLocation | Request | undefined, simulation: boolean, withdrawn: ReadonlySet<string>): ClientFacts {
  const ip = (simulation ? ipAddress(headers.get('x-lb-sim-ip')) : undefined) ?? headers.get('cf-connecting-ip') ?? '';
  if (simulation) {
    const country = countryCode(headers.get('x-lb-sim-country'));
    const lat = coordinate(headers.get('x-lb-sim-lat'), 90);
    const lon = coordinate(headers.get('x-lb-sim-lon'), 180);
    const colo = knownColo(headers.get('x-lb-sim-colo'));
    if (country !== undefined || colo !== undefined || (lat !== undefined && lon !== undefined)) {
      return simulatedFacts(ip, country, lat, lon, colo, withdrawn);
    }
  }
  // A request's cf is read only here, when no simulation header answered: reading it costs CPU.
  const cf = from instanceof Request ? (from.cf as CfLocation | undefined) : from;
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
    continent: typeof cf?.continent === 'string' ? cf.continent : undefined,
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

/** A decimal number within ±limit; a string such as "0x10", "1e2" or " " is not one. */
function coordinate(value: unknown, limit: number): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && DECIMAL.test(value)) n = Number(value);
  else return undefined;
  return Number.isFinite(n) && Math.abs(n) <= limit ? n : undefined;
}

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

/** A country code the region table knows, upper-cased. */
function countryCode(value: string | null): string | undefined {
  if (value === null || !/^[A-Za-z]{2}$/.test(value)) return undefined;
  const code = value.toUpperCase();
  return regionOfCountry(code) === undefined ? undefined : code;
}

/** A colo of the PoP table, upper-cased: any other value would become a new PoP in stats. */
function knownColo(value: string | null): string | undefined {
  return value === null || !/^[A-Za-z]{3}$/.test(value) ? undefined : popByColo(value)?.colo;
}

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

/**
 * Exactly one IPv4 (dotted decimal, no leading zeros) or IPv6 address, else undefined:
 * the value is copied into X-Forwarded-For and Forwarded, so a list, a port, a zone or
 * a parameter (`1.2.3.4;proto=https, 6.6.6.6`) must not pass. IPv6 is checked by the
 * WHATWG URL parser once the characters are limited to hex digits, colons and dots.
 */
export function ipAddress(value: string | null): string | undefined {
  if (value === null) return undefined;
  if (IPV4.test(value)) return value;
  return /^[0-9A-Fa-f:.]+$/.test(value) && value.includes(':') && URL.canParse(`http://[${value}]/`) ? value : undefined;
}
