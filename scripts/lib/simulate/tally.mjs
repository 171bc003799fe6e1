// Counting what a run's answers say: per pool, origin, PoP, status and continent, and
// the estimated round trips of steering's routes against the oracle's.
import { mean, percentile, round2 } from './measure.mjs';
import { oracleRoute, servedRtt } from './oracle.mjs';

/**
 * @typedef {import('./oracle.mjs').Geography} Geography
 * @typedef {import('./population.mjs').Client} Client
 * @typedef {import('./send.mjs').Reply} Reply
 * @typedef {Record<string, number>} Counts
 *
 * @typedef {object} ClientRecord what one client was answered, and the oracle's route for it
 * @property {number} id
 * @property {string} city
 * @property {string} country
 * @property {string} continent
 * @property {number} lat
 * @property {number} lon
 * @property {string} ip
 * @property {number} status
 * @property {string | null} pop
 * @property {string | null} pool
 * @property {string | null} origin
 * @property {number | null} rtt_ms
 * @property {{ pop: string | null, pool: string | null, rtt_ms: number | null }} oracle
 * @property {string} [moved_from] the withdrawn PoP it was on before
 *
 * @typedef {object} RttSummary
 * @property {number} estimated clients whose route could be estimated
 * @property {{ mean_ms: number | null, p95_ms: number | null }} steering
 * @property {{ mean_ms: number | null, p95_ms: number | null }} oracle
 * @property {number | null} ratio
 *
 * @typedef {object} Tally
 * @property {number} requests
 * @property {number} answered
 * @property {Counts} statuses
 * @property {Counts} pools
 * @property {Counts} origins by `pool/origin`
 * @property {Counts} pops
 * @property {Record<string, { clients: number, pools: Counts }>} continents
 * @property {RttSummary} rtt
 * @property {ClientRecord[]} clients
 */

/**
 * @param {Counts} counts
 * @param {string} key
 * @param {number} [by]
 */
export function bump(counts, key, by = 1) {
  counts[key] = (counts[key] ?? 0) + by;
}

/**
 * Counts sorted by value, largest first, then by key.
 * @param {Counts} counts
 * @returns {Counts}
 */
export function sortedCounts(counts) {
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

/**
 * The value seen most often (nulls aside); undefined when there is none.
 * @param {readonly (string | null | undefined)[]} values
 */
export function mostCommon(values) {
  /** @type {Counts} */
  const counts = {};
  for (const v of values) if (v !== null && v !== undefined) bump(counts, v);
  return /** @type {string | undefined} */ (Object.keys(sortedCounts(counts))[0]);
}

/**
 * Per-client records and the counts of a run: per pool, per origin (`pool/origin`),
 * per PoP, per status and per continent, and the estimated round trips against the
 * oracle's, over the clients whose route can be estimated.
 * @param {Geography} world
 * @param {readonly Client[]} clients
 * @param {readonly Reply[]} replies
 * @returns {Tally}
 */
export function tally(world, clients, replies) {
  /** @type {Counts} */
  const pools = {};
  /** @type {Counts} */
  const origins = {};
  /** @type {Counts} */
  const pops = {};
  /** @type {Counts} */
  const statuses = {};
  /** @type {Record<string, { clients: number, pools: Counts }>} */
  const continents = {};
  /** @type {number[]} */
  const steering = [];
  /** @type {number[]} */
  const oracle = [];
  /** @type {ClientRecord[]} */
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
