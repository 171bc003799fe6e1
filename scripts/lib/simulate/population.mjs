// The simulated clients: drawn from real cities (src/geo/cities.ts) in proportion to
// their population, each a few kilometres from its city's centre with its own IP.
// Everything drawn comes from one seeded PRNG, so a run is repeatable.
import { CITIES } from '../../../src/geo/cities.ts';

/** @typedef {import('../../../src/geo/cities.ts').City} City */

/**
 * @typedef {object} Client
 * @property {number} id
 * @property {string} city
 * @property {string} country
 * @property {string} continent
 * @property {number} lat
 * @property {number} lon
 * @property {string} ip
 */

/** @typedef {() => number} Random a PRNG giving values in [0, 1) */

const RAD = Math.PI / 180;

/**
 * mulberry32: a tiny seeded PRNG giving values in [0, 1).
 * @param {number} seed
 * @returns {Random}
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A 32-bit seed from a number ("42") as it is, or from any other string by FNV-1a.
 * @param {number | string} value
 */
export function seedOf(value) {
  const text = String(value);
  if (/^\d+$/.test(text)) return Number(BigInt(text) & 0xffffffffn);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// Continents: ISO 3166-1 alpha-2 country → continent (Russia counts as Europe,
// Turkey and the Caucasus as Asia, Central America and the Caribbean as North America).
// The Worker steers by Cloudflare's regions, not by continents: this grouping is the
// simulator's own, for its tables.

export const CONTINENTS = /** @type {const} */ (['Africa', 'Asia', 'Europe', 'North America', 'Oceania', 'South America']);

/** @type {Record<(typeof CONTINENTS)[number], string>} */
const COUNTRIES_BY_CONTINENT = {
  Africa:
    'AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW KE KM LR LS LY MA MG ML MR MU MW MZ NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TG TN TZ UG YT ZA ZM ZW',
  Asia:
    'AE AF AM AZ BD BH BN BT CN CY GE HK ID IL IN IO IQ IR JO JP KG KH KP KR KW KZ LA LB LK MM MN MO MV MY NP OM PH PK PS QA SA SG SY TH TJ TL TM TR TW UZ VN YE',
  Europe:
    'AD AL AT AX BA BE BG BY CH CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT JE LI LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA XK',
  'North America':
    'AG AI AW BB BL BM BQ BS BZ CA CR CU CW DM DO GD GL GP GT HN HT JM KN KY LC MF MQ MS MX NI PA PM PR SV SX TC TT US VC VG VI',
  Oceania: 'AS AU CK FJ FM GU KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TO TV UM VU WF WS',
  'South America': 'AR BO BR CL CO EC FK GF GY PE PY SR UY VE',
};

/** @type {Map<string, string>} */
const CONTINENT_OF = new Map(
  Object.entries(COUNTRIES_BY_CONTINENT).flatMap(([continent, codes]) => codes.split(' ').map((code) => /** @type {const} */ ([code, continent]))),
);

/**
 * The continent of a country code, or 'Unknown'.
 * @param {string | null | undefined} country
 */
export function continentOf(country) {
  return CONTINENT_OF.get(String(country ?? '').toUpperCase()) ?? 'Unknown';
}

/**
 * Draws cities with probability proportional to their population (cumulative weights, binary search).
 * @template {Pick<City, 'name' | 'population'>} C
 * @param {readonly C[]} cities
 * @returns {(rand: Random) => C}
 */
export function cityPicker(cities) {
  /** @type {number[]} */
  const cumulative = [];
  let total = 0;
  for (const city of cities) {
    if (!(city.population > 0)) throw new Error(`city ${city.name} has no population weight`);
    total += city.population;
    cumulative.push(total);
  }
  return (rand) => {
    const target = rand() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    return cities[lo];
  };
}

/**
 * A point uniformly spread over a disc of `radiusKm` around (lat, lon).
 * @param {number} lat
 * @param {number} lon
 * @param {number} radiusKm
 * @param {Random} rand
 */
export function jitter(lat, lon, radiusKm, rand) {
  const km = radiusKm * Math.sqrt(rand());
  const bearing = 2 * Math.PI * rand();
  const dLat = (km * Math.cos(bearing)) / 111.32;
  const dLon = (km * Math.sin(bearing)) / (111.32 * Math.max(0.01, Math.cos(lat * RAD)));
  const wrapped = ((lon + dLon + 540) % 360) - 180;
  return { lat: Math.max(-89.99, Math.min(89.99, lat + dLat)), lon: wrapped };
}

/**
 * A public-looking IPv4 address (first octet 11–223, never 127).
 * @param {Random} rand
 */
export function randomIp(rand) {
  let first = 11 + Math.floor(rand() * 213);
  if (first === 127) first = 128;
  const octet = () => Math.floor(rand() * 256);
  return `${first}.${octet()}.${octet()}.${1 + Math.floor(rand() * 254)}`;
}

/**
 * `count` clients drawn from the cities by population, each at a point within
 * `jitterKm` of its city and with its own IP.
 * @param {number} count
 * @param {Random} rand
 * @param {{ cities?: readonly City[], jitterKm?: number }} [options]
 * @returns {Client[]}
 */
export function drawClients(count, rand, { cities = CITIES, jitterKm = 20 } = {}) {
  const pick = cityPicker(cities);
  const clients = [];
  for (let id = 0; id < count; id++) {
    const city = pick(rand);
    const point = jitter(city.lat, city.lon, jitterKm, rand);
    clients.push({
      id,
      city: city.name,
      country: city.country,
      continent: continentOf(city.country),
      lat: Math.round(point.lat * 1e4) / 1e4,
      lon: Math.round(point.lon * 1e4) / 1e4,
      ip: randomIp(rand),
    });
  }
  return clients;
}
