// The world traffic simulator's core: draws a population of clients from real cities,
// sends each through a running Switchyard with the x-lb-sim-* headers (so its own
// anycast simulation picks the PoP and its real steering picks pool and origin),
// reads x-lb-pop / x-lb-pool / x-lb-origin back and compares the estimated round
// trip with an oracle's. Scenarios change state through the admin API and put it
// back afterwards.
//
// Plain ESM with no Node-only import: the CLI (scripts/simulate.mjs) runs it in Node
// with node:http, the integration test runs it inside workerd with the Worker's own
// fetch. Everything that talks to the outside comes in as `send` and `admin`.
import { CITIES } from '../../../src/geo/cities.ts';

/** Mean Earth radius, the same as the Worker's (src/geo/distance.ts), so both agree on "nearest". */
export const EARTH_RADIUS_KM = 6371.0088;
/** Light in fibre covers about 200 km per millisecond (two thirds of c). */
export const FIBRE_KM_PER_MS = 200;
export const SCENARIO_NAMES = /** @type {const} */ (['baseline', 'pop-withdrawn', 'pool-down', 'weights', 'sticky']);
export const AFFINITY_COOKIE = '__lb_affinity';

// ---------------------------------------------------------------------------------
// Geometry and statistics

const RAD = Math.PI / 180;

/** Great-circle distance in kilometres (haversine). */
export function haversineKm(lat1, lon1, lat2, lon2) {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Round trip over `km` of fibre one way: 2 × km / (200 km/ms). */
export function rttMs(km) {
  return (2 * km) / FIBRE_KM_PER_MS;
}

/** Nearest-rank percentile (p in 0..100) of a list of numbers; null when it is empty. */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function mean(values) {
  if (values.length === 0) return null;
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

const round2 = (n) => (n === null || n === undefined ? null : Math.round(n * 100) / 100);

// ---------------------------------------------------------------------------------
// Randomness: everything drawn comes from one seeded PRNG, so a run is repeatable.

/** mulberry32: a tiny seeded PRNG giving values in [0, 1). */
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

/** A 32-bit seed from a number ("42") as it is, or from any other string by FNV-1a. */
export function seedOf(value) {
  const text = String(value);
  if (/^\d+$/.test(text)) return Number(BigInt(text) & 0xffffffffn);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// ---------------------------------------------------------------------------------
// Continents: ISO 3166-1 alpha-2 country → continent (Russia counts as Europe,
// Turkey and the Caucasus as Asia, Central America and the Caribbean as North America).

export const CONTINENTS = /** @type {const} */ (['Africa', 'Asia', 'Europe', 'North America', 'Oceania', 'South America']);

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

const CONTINENT_OF = new Map(
  Object.entries(COUNTRIES_BY_CONTINENT).flatMap(([continent, codes]) => codes.split(' ').map((code) => [code, continent])),
);

/** The continent of a country code, or 'Unknown'. */
export function continentOf(country) {
  return CONTINENT_OF.get(String(country ?? '').toUpperCase()) ?? 'Unknown';
}

// ---------------------------------------------------------------------------------
// The population

/** Draws cities with probability proportional to their population (cumulative weights, binary search). */
export function cityPicker(cities = CITIES) {
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

/** A point uniformly spread over a disc of `radiusKm` around (lat, lon). */
export function jitter(lat, lon, radiusKm, rand) {
  const km = radiusKm * Math.sqrt(rand());
  const bearing = 2 * Math.PI * rand();
  const dLat = (km * Math.cos(bearing)) / 111.32;
  const dLon = (km * Math.sin(bearing)) / (111.32 * Math.max(0.01, Math.cos(lat * RAD)));
  const wrapped = ((lon + dLon + 540) % 360) - 180;
  return { lat: Math.max(-89.99, Math.min(89.99, lat + dLat)), lon: wrapped };
}

/** A public-looking IPv4 address (first octet 11–223, never 127). */
export function randomIp(rand) {
  let first = 11 + Math.floor(rand() * 213);
  if (first === 127) first = 128;
  const octet = () => Math.floor(rand() * 256);
  return `${first}.${octet()}.${octet()}.${1 + Math.floor(rand() * 254)}`;
}

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

/**
 * `count` clients drawn from the cities by population, each at a point within
 * `jitterKm` of its city and with its own IP.
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

// ---------------------------------------------------------------------------------
// What the Worker knows: configuration, PoPs, health

/** Why a simulation cannot start at all (as opposed to a scenario that fails). */
export class SimulationError extends Error {
  /** @param {'usage' | 'not_configured' | 'no_load_balancer' | 'simulation_off' | 'no_headers'} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.name = 'SimulationError';
    this.code = code;
  }
}

/** The load balancer a Host reaches (SPEC §2.3): exact, then the longest `*.` suffix, then `*`. */
export function matchLoadBalancer(loadBalancers, host) {
  const name = String(host).toLowerCase().replace(/:\d+$/, '');
  const lbs = loadBalancers ?? [];
  const exact = lbs.find((lb) => lb.hostname.toLowerCase() === name);
  if (exact) return exact;
  let best;
  for (const lb of lbs) {
    const pattern = lb.hostname.toLowerCase();
    if (pattern.startsWith('*.') && name.endsWith(pattern.slice(1)) && (!best || pattern.length > best.hostname.length)) best = lb;
  }
  return best ?? lbs.find((lb) => lb.hostname === '*');
}

/** Every pool a load balancer can steer to: default, geo-mapped and fallback pools. */
export function poolsOfLoadBalancer(lb) {
  const ids = [...(lb.default_pools ?? [])];
  for (const map of [lb.region_pools, lb.country_pools, lb.pop_pools]) for (const list of Object.values(map ?? {})) ids.push(...list);
  if (lb.fallback_pool) ids.push(lb.fallback_pool);
  return [...new Set(ids)];
}

/**
 * @typedef {object} World
 * @property {number} version
 * @property {any} config
 * @property {any} lb the load balancer the host reaches
 * @property {{ colo: string, city: string, country: string, lat: number, lon: number, withdrawn: boolean }[]} pops
 * @property {Map<string, { id: string, name: string, lat: number | null, lon: number | null, healthy: boolean, origins: any[], policy: string }>} pools
 */

/**
 * Reads GET /config, /pops and /health.
 * @returns {Promise<World>}
 */
export async function loadWorld(admin, host) {
  const [stored, popDoc, health] = await Promise.all([admin('GET', '/config'), admin('GET', '/pops'), admin('GET', '/health')]);
  const config = stored?.config;
  if (!config) throw new SimulationError('not_configured', 'Switchyard has no configuration yet (PUT /__lb/api/config, or the demo: npm start)');
  const lb = matchLoadBalancer(config.load_balancers, host);
  if (!lb) throw new SimulationError('no_load_balancer', `no load balancer serves host "${host}"`);
  const healthy = new Map((health?.pools ?? []).map((p) => [p.id, p.healthy === true]));
  const pools = new Map(
    (config.pools ?? []).map((p) => [
      p.id,
      {
        id: p.id,
        name: p.name ?? p.id,
        lat: typeof p.latitude === 'number' ? p.latitude : null,
        lon: typeof p.longitude === 'number' ? p.longitude : null,
        healthy: healthy.get(p.id) ?? p.enabled !== false,
        origins: p.origins ?? [],
        policy: p.origin_steering?.policy ?? 'round_robin',
      },
    ]),
  );
  const pops = (popDoc?.pops ?? []).map((p) => ({
    colo: p.colo,
    city: p.city,
    country: p.country,
    lat: p.latitude,
    lon: p.longitude,
    withdrawn: p.withdrawn === true,
  }));
  return { version: stored.version, config, lb, pops, pools };
}

/** The PoP anycast delivers a client to: the nearest one that is not withdrawn. */
export function nearestPop(pops, lat, lon) {
  let best;
  let bestKm = Infinity;
  for (const pop of pops) {
    if (pop.withdrawn) continue;
    const km = haversineKm(lat, lon, pop.lat, pop.lon);
    if (km < bestKm) {
      best = pop;
      bestKm = km;
    }
  }
  return best;
}

/**
 * The oracle: through the nearest PoP to the nearest healthy pool with coordinates
 * that the load balancer can use (nearest to that PoP, so the sum is the least).
 */
export function oracleRoute(world, client) {
  const pop = nearestPop(world.pops, client.lat, client.lon);
  if (!pop) return { pop: null, pool: null, rtt_ms: null };
  let best = null;
  let bestKm = Infinity;
  for (const id of poolsOfLoadBalancer(world.lb)) {
    const pool = world.pools.get(id);
    if (!pool || !pool.healthy || pool.lat === null || pool.lon === null) continue;
    const km = haversineKm(pop.lat, pop.lon, pool.lat, pool.lon);
    if (km < bestKm) {
      best = pool;
      bestKm = km;
    }
  }
  if (!best) return { pop: pop.colo, pool: null, rtt_ms: null };
  return { pop: pop.colo, pool: best.id, rtt_ms: rttMs(haversineKm(client.lat, client.lon, pop.lat, pop.lon) + bestKm) };
}

/** The estimated round trip of the route a client was given: client → its PoP → its pool. Null when unknown. */
export function servedRtt(world, client, reply) {
  const pop = world.pops.find((p) => p.colo === reply.pop);
  const pool = reply.pool === null ? undefined : world.pools.get(reply.pool);
  if (!pop || !pool || pool.lat === null || pool.lon === null) return null;
  return rttMs(haversineKm(client.lat, client.lon, pop.lat, pop.lon) + haversineKm(pop.lat, pop.lon, pool.lat, pool.lon));
}

// ---------------------------------------------------------------------------------
// Sending

/**
 * @typedef {object} SimRequest
 * @property {'GET'} method
 * @property {string} host
 * @property {string} path
 * @property {Record<string, string>} headers
 *
 * @typedef {(request: SimRequest) => Promise<{ status: number, headers: { get(name: string): string | null } }>} Send
 * @typedef {(method: string, path: string, body?: unknown) => Promise<any>} Admin
 *
 * @typedef {object} Reply
 * @property {number} status
 * @property {string | null} pop
 * @property {string | null} pool
 * @property {string | null} origin
 * @property {string | null} cookie the new __lb_affinity value, if the answer set one
 */

/** The request a simulated client sends: its coordinates and IP as x-lb-sim-* headers, and its cookie. */
export function clientRequest(host, client, cookie) {
  /** @type {Record<string, string>} */
  const headers = { 'x-lb-sim-lat': String(client.lat), 'x-lb-sim-lon': String(client.lon), 'x-lb-sim-ip': client.ip };
  if (cookie) headers.cookie = `${AFFINITY_COOKIE}=${cookie}`;
  return { method: 'GET', host, path: '/', headers };
}

/** Sends one request; what Switchyard says about it. */
export async function sendOne(send, request) {
  const res = await send(request);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const cookie = new RegExp(`(?:^|[,;]\\s*)${AFFINITY_COOKIE}=([^;,\\s]+)`).exec(setCookie)?.[1] ?? null;
  return {
    status: res.status,
    pop: res.headers.get('x-lb-pop'),
    pool: res.headers.get('x-lb-pool'),
    origin: res.headers.get('x-lb-origin'),
    cookie,
  };
}

/**
 * Sends requests with at most `concurrency` in flight; replies in request order.
 * @returns {Promise<Reply[]>}
 */
export async function sendAll(send, requests, { concurrency = 16, signal } = {}) {
  const replies = new Array(requests.length);
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      if (signal?.aborted) throw new Error('interrupted');
      const i = next++;
      replies[i] = await sendOne(send, requests[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, requests.length)) }, worker));
  return replies;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends `request` until its reply satisfies `done` (an admin change is seen by every
 * isolate within SNAPSHOT_TTL_MS). True when it did within `timeoutMs`.
 */
export async function settle(send, request, done, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (done(await sendOne(send, request))) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}

/**
 * Checks that the Worker takes the simulation headers: a client placed on a PoP's
 * coordinates must land on that PoP.
 */
export async function checkSimulation(send, host, world) {
  const pop = world.pops.find((p) => p.colo === 'SYD' && !p.withdrawn) ?? world.pops.find((p) => !p.withdrawn);
  if (!pop) throw new SimulationError('simulation_off', 'every PoP is withdrawn');
  const reply = await sendOne(send, clientRequest(host, { lat: pop.lat, lon: pop.lon, ip: '203.0.113.7' }));
  if (reply.pop === null) {
    throw new SimulationError('no_headers', `answers for host "${host}" carry no x-lb-pop header (HTTP ${reply.status}): is expose_headers off?`);
  }
  if (reply.pop !== pop.colo) {
    throw new SimulationError(
      'simulation_off',
      `a client placed at ${pop.colo} (${pop.city}) landed on ${reply.pop}: the x-lb-sim-* headers are ignored; run the Worker with LB_SIMULATION=on (the demo does)`,
    );
  }
}

// ---------------------------------------------------------------------------------
// Counting

function bump(counts, key, by = 1) {
  counts[key] = (counts[key] ?? 0) + by;
}

/** Counts sorted by value, largest first, then by key. */
export function sortedCounts(counts) {
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

function mostCommon(values) {
  const counts = {};
  for (const v of values) if (v !== null && v !== undefined) bump(counts, v);
  return Object.keys(sortedCounts(counts))[0];
}

/**
 * Per-client records and the counts of a run: per pool, per origin (`pool/origin`),
 * per PoP, per status and per continent, and the estimated round trips against the
 * oracle's, over the clients whose route can be estimated.
 */
export function tally(world, clients, replies) {
  const pools = {};
  const origins = {};
  const pops = {};
  const statuses = {};
  /** @type {Record<string, { clients: number, pools: Record<string, number> }>} */
  const continents = {};
  const steering = [];
  const oracle = [];
  const records = [];
  let answered = 0;
  clients.forEach((client, i) => {
    const reply = replies[i];
    const ok = reply.status >= 200 && reply.status < 500;
    if (ok) answered++;
    bump(statuses, String(reply.status));
    if (reply.pop) bump(pops, reply.pop);
    if (reply.pool) bump(pools, reply.pool);
    if (reply.pool && reply.origin) bump(origins, `${reply.pool}/${reply.origin}`);
    const c = (continents[client.continent] ??= { clients: 0, pools: {} });
    c.clients++;
    bump(c.pools, reply.pool ?? `HTTP ${reply.status}`);
    const served = ok ? servedRtt(world, client, reply) : null;
    const best = oracleRoute(world, client);
    if (served !== null && best.rtt_ms !== null) {
      steering.push(served);
      oracle.push(best.rtt_ms);
    }
    records.push({
      id: client.id,
      city: client.city,
      country: client.country,
      continent: client.continent,
      lat: client.lat,
      lon: client.lon,
      ip: client.ip,
      status: reply.status,
      pop: reply.pop,
      pool: reply.pool,
      origin: reply.origin,
      rtt_ms: round2(served),
      oracle: { pop: best.pop, pool: best.pool, rtt_ms: round2(best.rtt_ms) },
    });
  });
  const steeringMean = mean(steering);
  const oracleMean = mean(oracle);
  return {
    requests: clients.length,
    answered,
    statuses: sortedCounts(statuses),
    pools: sortedCounts(pools),
    origins: sortedCounts(origins),
    pops: sortedCounts(pops),
    continents: Object.fromEntries(
      Object.entries(continents)
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map(([name, c]) => [name, { clients: c.clients, pools: sortedCounts(c.pools) }]),
    ),
    rtt: {
      estimated: steering.length,
      steering: { mean_ms: round2(steeringMean), p95_ms: round2(percentile(steering, 95)) },
      oracle: { mean_ms: round2(oracleMean), p95_ms: round2(percentile(oracle, 95)) },
      ratio: steeringMean === null || !oracleMean ? null : Math.round((steeringMean / oracleMean) * 1000) / 1000,
    },
    clients: records,
  };
}

// ---------------------------------------------------------------------------------
// Scenarios

/**
 * @typedef {object} Context
 * @property {Send} send
 * @property {Admin} admin
 * @property {string} host
 * @property {Client[]} clients
 * @property {Client[]} weightsClients
 * @property {number} concurrency
 * @property {AbortSignal} [signal]
 * @property {(line: string) => void} log
 * @property {string} [weightsHost]
 * @property {string} [stickyHost]
 * @property {number} stickyClients
 * @property {number} stickyRounds
 * @property {number} settleMs
 */

const check = (result, name, ok, detail) => result.checks.push({ name, ok: Boolean(ok), detail });

/** Runs a step that puts state back; a failure is recorded, never thrown, so the next one still runs. */
async function restore(ctx, result, what, fn) {
  try {
    await fn();
    result.restored.push({ what, ok: true });
    ctx.log(`restored: ${what}`);
  } catch (error) {
    result.restored.push({ what, ok: false, detail: String(error?.message ?? error) });
    ctx.log(`could not restore ${what}: ${error?.message ?? error}`);
  }
}

function sendPopulation(ctx, host, clients) {
  return sendAll(
    ctx.send,
    clients.map((c) => clientRequest(host, c)),
    { concurrency: ctx.concurrency, signal: ctx.signal },
  );
}

function answeredCheck(result) {
  check(result, 'every request answered', result.answered === result.requests, `${result.answered}/${result.requests} answered without a 5xx`);
}

function proximityCheck(result, world) {
  const policy = world.lb.steering_policy;
  if (policy !== 'proximity' || result.rtt.ratio === null) return;
  check(
    result,
    'mean RTT within 10% of the oracle',
    result.rtt.ratio <= 1.1,
    `${result.rtt.steering.mean_ms} ms against ${result.rtt.oracle.mean_ms} ms (×${result.rtt.ratio})`,
  );
}

/** A host whose load balancer fits `fits`: `preferred` if it does, else the first exact hostname that does. */
function findHost(config, preferred, fits) {
  const lbs = (config.load_balancers ?? []).filter((lb) => lb.enabled !== false && !lb.hostname.includes('*'));
  const chosen = lbs.find((lb) => lb.hostname === preferred && fits(lb)) ?? lbs.find(fits);
  return chosen?.hostname;
}

function usableOrigins(pool) {
  return (pool?.origins ?? []).filter((o) => o.enabled !== false && (o.weight ?? 1) > 0 && o.drain !== true && o.backup !== true);
}

/** @type {Record<string, { title: string, geo: boolean, run(ctx: Context, result: any): Promise<void> }>} */
export const SCENARIOS = {
  baseline: {
    title: 'clients steered as configured',
    geo: true,
    async run(ctx, result) {
      const world = await loadWorld(ctx.admin, ctx.host);
      Object.assign(result, tally(world, ctx.clients, await sendPopulation(ctx, ctx.host, ctx.clients)));
      answeredCheck(result);
      proximityCheck(result, world);
    },
  },

  'pop-withdrawn': {
    title: 'the busiest PoP withdrawn: anycast moves its clients to the next nearest',
    geo: true,
    async run(ctx, result) {
      const before = await sendPopulation(ctx, ctx.host, ctx.clients);
      const colo = mostCommon(before.map((r) => r.pop));
      if (!colo) throw new Error('no answer named its PoP');
      const world0 = await loadWorld(ctx.admin, ctx.host);
      const pop = world0.pops.find((p) => p.colo === colo);
      if (!pop) throw new Error(`x-lb-pop ${colo} is not in GET /pops`);
      const probe = clientRequest(ctx.host, { lat: pop.lat, lon: pop.lon, ip: '203.0.113.8' });
      result.withdrawn_pops = [colo];
      ctx.log(`withdrawing ${colo} (${pop.city}), the PoP of ${before.filter((r) => r.pop === colo).length} clients`);
      try {
        await ctx.admin('PUT', `/pops/${encodeURIComponent(colo)}`, { withdrawn: true });
        if (!(await settle(ctx.send, probe, (r) => r.pop !== null && r.pop !== colo, ctx.settleMs))) {
          result.notes.push(`${colo} was still answering ${ctx.settleMs} ms after the withdrawal`);
        }
        const world = await loadWorld(ctx.admin, ctx.host);
        const after = await sendPopulation(ctx, ctx.host, ctx.clients);
        Object.assign(result, tally(world, ctx.clients, after));

        const toPops = {};
        const poolsBefore = {};
        const poolsAfter = {};
        let moved = 0;
        let atNearest = 0;
        let others = 0;
        let othersKept = 0;
        const wrong = [];
        ctx.clients.forEach((client, i) => {
          if (before[i].pop !== colo) {
            others++;
            if (after[i].pop === before[i].pop) othersKept++;
            return;
          }
          moved++;
          bump(toPops, after[i].pop ?? `HTTP ${after[i].status}`);
          bump(poolsBefore, before[i].pool ?? `HTTP ${before[i].status}`);
          bump(poolsAfter, after[i].pool ?? `HTTP ${after[i].status}`);
          const expected = nearestPop(world.pops, client.lat, client.lon)?.colo;
          if (after[i].pop === expected) atNearest++;
          else if (wrong.length < 5) wrong.push(`${client.city}: ${after[i].pop}, nearest ${expected}`);
        });
        result.clients.forEach((record, i) => {
          if (before[i].pop === colo) record.moved_from = colo;
        });
        const popCity = new Map(world.pops.map((p) => [p.colo, p.city]));
        result.moved = {
          pop: colo,
          city: pop.city,
          clients: moved,
          to_pops: Object.fromEntries(Object.entries(sortedCounts(toPops)).map(([c, n]) => [c, { clients: n, city: popCity.get(c) ?? null }])),
          pools_before: sortedCounts(poolsBefore),
          pools_after: sortedCounts(poolsAfter),
          at_nearest_remaining_pop: atNearest,
          others_unchanged: othersKept,
          others,
        };
        answeredCheck(result);
        check(result, `no client on ${colo}`, !(colo in result.pops), `${result.pops[colo] ?? 0} clients still on ${colo}`);
        check(result, 'moved clients on the nearest remaining PoP', atNearest === moved, `${atNearest}/${moved}${wrong.length ? `; ${wrong.join('; ')}` : ''}`);
        check(result, 'other clients kept their PoP', othersKept === others, `${othersKept}/${others}`);
      } finally {
        await restore(ctx, result, `PoP ${colo}`, async () => {
          await ctx.admin('PUT', `/pops/${encodeURIComponent(colo)}`, { withdrawn: false });
          if (!(await settle(ctx.send, probe, (r) => r.pop === colo, ctx.settleMs))) result.notes.push(`${colo} not seen answering again yet`);
        });
      }
    },
  },

  'pool-down': {
    title: 'every origin of the busiest pool disabled: its clients fail over',
    geo: true,
    async run(ctx, result) {
      const before = await sendPopulation(ctx, ctx.host, ctx.clients);
      const poolId = mostCommon(before.map((r) => r.pool));
      if (!poolId) throw new Error('no answer named its pool');
      const world0 = await loadWorld(ctx.admin, ctx.host);
      const pool = world0.pools.get(poolId);
      if (!pool) throw new Error(`x-lb-pool ${poolId} is not in GET /config`);
      const toDisable = pool.origins.filter((o) => o.enabled !== false).map((o) => o.name);
      const first = ctx.clients[before.findIndex((r) => r.pool === poolId)];
      const probe = clientRequest(ctx.host, first);
      result.down_pools = [poolId];
      ctx.log(`disabling ${toDisable.length} origin(s) of pool ${poolId}, the pool of ${before.filter((r) => r.pool === poolId).length} clients`);
      const originPath = (name) => `/pools/${encodeURIComponent(poolId)}/origins/${encodeURIComponent(name)}`;
      try {
        for (const name of toDisable) await ctx.admin('PATCH', originPath(name), { enabled: false });
        if (!(await settle(ctx.send, probe, (r) => r.pool !== poolId, ctx.settleMs))) {
          result.notes.push(`pool ${poolId} was still answering ${ctx.settleMs} ms after its origins were disabled`);
        }
        const world = await loadWorld(ctx.admin, ctx.host);
        const after = await sendPopulation(ctx, ctx.host, ctx.clients);
        Object.assign(result, tally(world, ctx.clients, after));
        const poolsAfter = {};
        let moved = 0;
        ctx.clients.forEach((_, i) => {
          if (before[i].pool !== poolId) return;
          moved++;
          bump(poolsAfter, after[i].pool ?? `HTTP ${after[i].status}`);
        });
        result.moved = { pool: poolId, clients: moved, pools_after: sortedCounts(poolsAfter), healthy_after: world.pools.get(poolId)?.healthy ?? null };
        answeredCheck(result);
        check(result, `no client on pool ${poolId}`, !(poolId in result.pools), `${result.pools[poolId] ?? 0} clients still on ${poolId}`);
        check(result, `pool ${poolId} reported unhealthy`, world.pools.get(poolId)?.healthy === false, 'GET /health');
      } finally {
        await restore(ctx, result, `origins of pool ${poolId}`, async () => {
          for (const name of toDisable) await ctx.admin('PATCH', originPath(name), { enabled: true });
          if (!(await settle(ctx.send, probe, (r) => r.pool === poolId, ctx.settleMs))) result.notes.push(`pool ${poolId} not seen answering again yet`);
        });
      }
    },
  },

  weights: {
    title: 'a pool with unequal weights, requests without cookies (seed 003: 2:1 gave 1,334/666 of 2,000)',
    geo: false,
    async run(ctx, result) {
      const { config } = await loadWorld(ctx.admin, ctx.host);
      const pools = new Map((config.pools ?? []).map((p) => [p.id, p]));
      const fits = (lb) => {
        const geo = ['region_pools', 'country_pools', 'pop_pools'].some((k) => Object.keys(lb[k] ?? {}).length > 0);
        const origins = usableOrigins(pools.get(lb.default_pools?.[0]));
        return !geo && ['', 'off'].includes(lb.steering_policy ?? '') && origins.length >= 2 && new Set(origins.map((o) => o.weight ?? 1)).size > 1;
      };
      const host = ctx.weightsHost ?? findHost(config, 'weighted.localhost', fits);
      if (!host) {
        result.skipped = 'no load balancer with an exact hostname leads to a pool with unequal weights (--weights-host names one)';
        return;
      }
      result.host = host;
      const world = await loadWorld(ctx.admin, host);
      const poolId = world.lb.default_pools[0];
      const pool = world.pools.get(poolId);
      const origins = usableOrigins(pools.get(poolId));
      const replies = await sendPopulation(ctx, host, ctx.weightsClients);
      Object.assign(result, tally(world, ctx.weightsClients, replies));
      const n = ctx.weightsClients.length;
      const total = origins.reduce((sum, o) => sum + (o.weight ?? 1), 0);
      const rows = origins.map((o) => {
        const share = (o.weight ?? 1) / total;
        const expected = n * share;
        // Smooth weighted round robin is exact to within a step; random policies get 4 standard deviations.
        const tolerance = pool.policy === 'round_robin' ? 2 : Math.max(2, 4 * Math.sqrt(n * share * (1 - share)));
        return { origin: o.name, weight: o.weight ?? 1, count: result.origins[`${poolId}/${o.name}`] ?? 0, expected: round2(expected), tolerance: round2(tolerance) };
      });
      result.weights = { pool: poolId, policy: pool.policy, requests: n, origins: rows };
      answeredCheck(result);
      for (const row of rows) {
        check(result, `${poolId}/${row.origin} near ${row.expected}`, Math.abs(row.count - row.expected) <= row.tolerance, `${row.count} (weight ${row.weight}, ±${row.tolerance})`);
      }
    },
  },

  sticky: {
    title: 'clients that keep their __lb_affinity cookie stay on one origin',
    geo: false,
    async run(ctx, result) {
      const { config } = await loadWorld(ctx.admin, ctx.host);
      const fits = (lb) => lb.session_affinity === 'cookie' || lb.session_affinity === 'ip_cookie';
      const host = ctx.stickyHost ?? findHost(config, 'sticky.localhost', fits);
      if (!host) {
        result.skipped = 'no load balancer with an exact hostname has cookie affinity (--sticky-host names one)';
        return;
      }
      result.host = host;
      const world = await loadWorld(ctx.admin, host);
      const clients = ctx.clients.slice(0, ctx.stickyClients);
      const jar = new Array(clients.length).fill(null);
      const seen = clients.map(() => []);
      let first = [];
      let failed = 0;
      for (let round = 0; round < ctx.stickyRounds; round++) {
        const replies = await sendAll(
          ctx.send,
          clients.map((c, i) => clientRequest(host, c, jar[i])),
          { concurrency: ctx.concurrency, signal: ctx.signal },
        );
        replies.forEach((r, i) => {
          if (r.cookie) jar[i] = r.cookie;
          if (r.status >= 500) failed++;
          seen[i].push(r.origin === null ? null : `${r.pool}/${r.origin}`);
        });
        if (round === 0) first = replies;
      }
      Object.assign(result, tally(world, clients, first));
      const moved = seen.filter((origins) => new Set(origins).size > 1).length;
      const withoutCookie = jar.filter((c) => c === null).length;
      result.sticky = { clients: clients.length, rounds: ctx.stickyRounds, requests: clients.length * ctx.stickyRounds, moved, without_cookie: withoutCookie, failed };
      check(result, 'every request answered', failed === 0, `${failed} answers with a 5xx over ${result.sticky.requests} requests`);
      check(result, 'every client got a cookie', withoutCookie === 0, `${clients.length - withoutCookie}/${clients.length}`);
      check(result, 'no client moved', moved === 0, `${moved} of ${clients.length} clients moved over ${ctx.stickyRounds} requests each`);
    },
  },
};

/**
 * What a scenario found; summary.json holds one per scenario. The counts and `rtt`
 * come from tally(); `moved`, `weights` and `sticky` from the scenarios that have them.
 * @typedef {object} ScenarioResult
 * @property {string} name
 * @property {string} title
 * @property {string} host
 * @property {boolean} geo the clients are steered by where they are (a map is drawn)
 * @property {boolean} ok every check passed and the state was put back
 * @property {{ name: string, ok: boolean, detail?: string }[]} checks
 * @property {string[]} notes
 * @property {{ what: string, ok: boolean, detail?: string }[]} restored
 * @property {string[]} withdrawn_pops
 * @property {string[]} down_pools
 * @property {number} requests
 * @property {number} [answered]
 * @property {Record<string, number>} [statuses]
 * @property {Record<string, number>} [pools]
 * @property {Record<string, number>} [origins] by `pool/origin`
 * @property {Record<string, number>} [pops]
 * @property {Record<string, { clients: number, pools: Record<string, number> }>} [continents]
 * @property {{ estimated: number, steering: { mean_ms: number | null, p95_ms: number | null }, oracle: { mean_ms: number | null, p95_ms: number | null }, ratio: number | null }} [rtt]
 * @property {any[]} clients per-client records
 * @property {any} [moved]
 * @property {any} [weights]
 * @property {any} [sticky]
 * @property {string} [skipped]
 * @property {string} [error]
 * @property {number} [duration_ms]
 */

/**
 * Runs one scenario; never throws: a failure is in the result (`ok: false`, `error`).
 * @returns {Promise<ScenarioResult>}
 */
export async function runScenario(name, ctx) {
  const scenario = SCENARIOS[name];
  /** @type {ScenarioResult} */
  const result = {
    name,
    title: scenario.title,
    host: ctx.host,
    geo: scenario.geo,
    ok: false,
    checks: [],
    notes: [],
    restored: [],
    withdrawn_pops: [],
    down_pools: [],
    requests: 0,
    clients: [],
  };
  const started = Date.now();
  try {
    await scenario.run(ctx, result);
  } catch (error) {
    result.error = String(error?.message ?? error);
  }
  result.duration_ms = Date.now() - started;
  result.ok = result.error === undefined && result.checks.every((c) => c.ok) && result.restored.every((r) => r.ok);
  return result;
}

/**
 * Runs the simulation: draws the population, checks that the Worker takes the
 * simulation headers, runs the scenarios in order and returns the summary (every
 * number of the run, per-client records included).
 *
 * @param {object} options
 * @param {Send} options.send
 * @param {Admin} options.admin
 * @param {string} options.host the host whose load balancer steers by geography (proximity)
 * @param {number} [options.clients] population size
 * @param {() => number} [options.rand] a seeded PRNG; else one from `seed`
 * @param {number | string} [options.seed]
 * @param {readonly string[]} [options.scenarios]
 * @param {number} [options.concurrency]
 * @param {AbortSignal} [options.signal] aborts between requests (state is still restored)
 * @param {(line: string) => void} [options.log] progress lines
 * @param {(result: any) => void} [options.onScenario] called as each scenario ends
 * @param {string} [options.weightsHost]
 * @param {string} [options.stickyHost]
 * @param {number} [options.weightsRequests] 2,000 as in seed 003
 * @param {number} [options.stickyClients]
 * @param {number} [options.stickyRounds]
 * @param {number} [options.settleMs]
 */
export async function simulate(options) {
  const {
    send,
    admin,
    host,
    clients: count = 400,
    seed = 1,
    scenarios = SCENARIO_NAMES,
    concurrency = 16,
    signal,
    log = () => {},
    onScenario = () => {},
    weightsRequests = 2000,
    stickyClients = 100,
    stickyRounds = 5,
    settleMs = 5000,
  } = options;
  for (const name of scenarios) if (!(name in SCENARIOS)) throw new SimulationError('usage', `no scenario "${name}"`);
  const rand = options.rand ?? mulberry32(seedOf(seed));
  const population = drawClients(count, rand);
  const weightsClients = scenarios.includes('weights') ? drawClients(weightsRequests, rand) : [];

  const world = await loadWorld(admin, host);
  await checkSimulation(send, host, world);

  /** @type {Context} */
  const ctx = {
    send,
    admin,
    host,
    clients: population,
    weightsClients,
    concurrency,
    signal,
    log,
    weightsHost: options.weightsHost,
    stickyHost: options.stickyHost,
    stickyClients: Math.min(stickyClients, count),
    stickyRounds,
    settleMs,
  };
  const results = [];
  for (const name of scenarios) {
    if (signal?.aborted) break;
    log(`${name}: ${SCENARIOS[name].title}`);
    const result = await runScenario(name, ctx);
    results.push(result);
    onScenario(result);
  }
  return {
    host,
    load_balancer: { id: world.lb.id, hostname: world.lb.hostname, steering_policy: world.lb.steering_policy ?? '' },
    seed: options.rand ? null : String(seed),
    clients: count,
    cities: new Set(population.map((c) => `${c.city}/${c.country}`)).size,
    fibre_km_per_ms: FIBRE_KM_PER_MS,
    config_version: world.version,
    pools: [...world.pools.values()].map((p) => ({ id: p.id, name: p.name, latitude: p.lat, longitude: p.lon })),
    pops: world.pops.map((p) => ({ colo: p.colo, city: p.city, country: p.country, latitude: p.lat, longitude: p.lon })),
    scenarios: results,
    ok: results.length === scenarios.length && results.every((r) => r.ok),
  };
}
