// The world traffic simulator: draws a population of clients from real cities, sends
// each through a running Switchyard with the x-lb-sim-* headers (so its own anycast
// simulation picks the PoP and its real steering picks pool and origin), reads
// x-lb-pop / x-lb-pool / x-lb-origin back and compares the estimated round trip with
// an oracle's. Scenarios change state through the admin API and put it back afterwards.
//
// Everything that talks to the outside comes in as `send` and `admin`, so the same
// code runs in Node (scripts/simulate.mjs, over node:http) and inside workerd (the
// integration test, with the Worker's own fetch). It imports the Worker's own code
// from src/: under vite (the tests) as it is, in Node bundled by scripts/lib/load-src.mjs.
//
// The parts: measure.mjs (distance, round trips, statistics), population.mjs (the
// clients), world.mjs (what the Worker knows), oracle.mjs (the best route), send.mjs
// (requests and answers), tally.mjs (counting), scenarios.mjs; this file runs them.
import { FIBRE_KM_PER_MS } from './measure.mjs';
import { drawClients, mulberry32, seedOf } from './population.mjs';
import { SCENARIO_NAMES, SCENARIOS } from './scenarios.mjs';
import { checkSimulation } from './send.mjs';
import { loadWorld, SimulationError } from './world.mjs';

export { FIBRE_KM_PER_MS, haversineKm, mean, percentile, rttMs } from './measure.mjs';
export { CONTINENTS, cityPicker, continentOf, drawClients, jitter, mulberry32, randomIp, seedOf } from './population.mjs';
export { loadWorld, matchLoadBalancer, SimulationError, usableOrigins } from './world.mjs';
export { nearestPop, oracleRoute, servedRtt } from './oracle.mjs';
export { AFFINITY_COOKIE, checkSimulation, clientRequest, sendAll, sendOne, settle } from './send.mjs';
export { sortedCounts, tally } from './tally.mjs';
export { SCENARIO_NAMES, SCENARIOS } from './scenarios.mjs';

/**
 * @typedef {import('./scenarios.mjs').Context} Context
 * @typedef {import('./scenarios.mjs').ScenarioName} ScenarioName
 * @typedef {import('./scenarios.mjs').ScenarioResult} ScenarioResult
 * @typedef {import('./send.mjs').Send} Send
 * @typedef {import('./world.mjs').Admin} Admin
 */

/**
 * Runs one scenario; never throws: a failure is in the result (`ok: false`, `error`).
 * @param {ScenarioName} name
 * @param {Context} ctx
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
    result.error = error instanceof Error ? error.message : String(error);
  }
  result.duration_ms = Date.now() - started;
  result.ok = result.error === undefined && result.checks.every((c) => c.ok) && result.restored.every((r) => r.ok);
  return result;
}

/**
 * @param {string} name
 * @returns {name is ScenarioName}
 */
const isScenario = (name) => Object.hasOwn(SCENARIOS, name);

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
 * @param {(result: ScenarioResult) => void} [options.onScenario] called as each scenario ends
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
  /** @type {ScenarioName[]} */
  const names = [];
  for (const name of scenarios) {
    if (!isScenario(name)) throw new SimulationError('usage', `no scenario "${name}"`);
    names.push(name);
  }
  const rand = options.rand ?? mulberry32(seedOf(seed));
  const population = drawClients(count, rand);
  const weightsClients = names.includes('weights') ? drawClients(weightsRequests, rand) : [];

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
  for (const name of names) {
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
    ok: results.length === names.length && results.every((r) => r.ok),
  };
}
