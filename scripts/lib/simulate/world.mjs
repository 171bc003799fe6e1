// What the running Worker knows, read through the admin API: its configuration, its
// PoPs with their withdrawals and the health of its pools. Which load balancer a host
// reaches and which origins a pool hands new requests to are answered by the Worker's
// own Plan (src/steering/plan.ts), compiled from that configuration.
import { PassiveHealth } from '../../../src/health/passive.ts';
import { Plan } from '../../../src/steering/plan.ts';

/**
 * @typedef {import('../../../src/config/schema.ts').Config} Config
 * @typedef {import('../../../src/config/schema.ts').LoadBalancer} LoadBalancer
 * @typedef {import('../../../src/config/schema.ts').Origin} Origin
 * @typedef {import('../../../src/steering/plan.ts').CompiledLoadBalancer} CompiledLoadBalancer
 *
 * @typedef {import('../../../src/steering/reach.ts').PoolLists} PoolLists
 *
 * @typedef {(method: string, path: string, body?: unknown) => Promise<any>} Admin
 *   an admin API call: the JSON of a 2xx answer; throws otherwise
 *
 * @typedef {object} WorldPop
 * @property {string} colo
 * @property {string} city
 * @property {string} country
 * @property {number} lat
 * @property {number} lon
 * @property {boolean} withdrawn
 *
 * @typedef {object} WorldPool
 * @property {string} id
 * @property {string} name
 * @property {number | null} lat
 * @property {number | null} lon
 * @property {boolean} healthy as GET /health reports it
 *
 * @typedef {object} World
 * @property {number} version
 * @property {Config} config
 * @property {Plan} plan the configuration compiled as the Worker compiles it, with every origin up
 * @property {LoadBalancer} lb the load balancer the host reaches
 * @property {CompiledLoadBalancer['policy']} policy its steering policy, "" resolved as the Worker resolves it
 * @property {WorldPop[]} pops
 * @property {Map<string, WorldPool>} pools
 */

/** @typedef {'usage' | 'not_configured' | 'no_load_balancer' | 'simulation_off' | 'no_headers'} SimulationErrorCode */

/** Why a simulation cannot start at all (as opposed to a scenario that fails). */
export class SimulationError extends Error {
  /** @param {SimulationErrorCode} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.name = 'SimulationError';
    this.code = code;
  }
}

/**
 * A configuration as GET /config returns it, compiled with no health results.
 * @param {Config} config
 */
export function planOf(config) {
  return new Plan(0, config, {}, new Set());
}

/**
 * The host name as the Worker reads it from a request's URL: lower-case, without a port.
 * @param {string} host
 */
function hostnameOf(host) {
  const text = String(host);
  return URL.canParse(`http://${text}`) ? new URL(`http://${text}`).hostname : text.toLowerCase();
}

/**
 * The load balancer a Host reaches (SPEC §2.3), as the Worker finds it: exact, then the
 * longest `*.` suffix, then `*`.
 * @template {{ hostname: string }} L
 * @param {readonly L[] | undefined} loadBalancers
 * @param {string} host
 * @returns {L | undefined}
 */
export function matchLoadBalancer(loadBalancers, host) {
  const config = /** @type {Config} */ (/** @type {unknown} */ ({ monitors: [], pools: [], load_balancers: loadBalancers ?? [] }));
  return /** @type {L | undefined} */ (planOf(config).loadBalancerFor(hostnameOf(host))?.config);
}

/**
 * The origins a pool hands new requests to while every origin is up, as the Worker
 * chooses them (enabled, weight above 0, not draining; backups only when no primary is left).
 * @param {Plan} plan
 * @param {string | undefined} poolId
 * @returns {Origin[]}
 */
export function usableOrigins(plan, poolId) {
  const pool = poolId === undefined ? undefined : plan.pools.get(poolId);
  return pool === undefined ? [] : pool.selection(new PassiveHealth(), Date.now()).origins.map((o) => o.config);
}

/**
 * Reads GET /config, /pops and /health.
 * @param {Admin} admin
 * @param {string} host
 * @returns {Promise<World>}
 */
export async function loadWorld(admin, host) {
  const [stored, popDoc, health] = await Promise.all([admin('GET', '/config'), admin('GET', '/pops'), admin('GET', '/health')]);
  /** @type {Config | undefined} */
  const config = stored?.config;
  if (!config) throw new SimulationError('not_configured', 'Switchyard has no configuration yet (PUT /__lb/api/config, or the demo: npm start)');
  const plan = planOf(config);
  const compiled = plan.loadBalancerFor(hostnameOf(host));
  if (!compiled) throw new SimulationError('no_load_balancer', `no load balancer serves host "${host}"`);
  /** @type {Map<string, boolean>} */
  const healthy = new Map((health?.pools ?? []).map((/** @type {{ id: string, healthy: boolean }} */ p) => [p.id, p.healthy === true]));
  const pools = new Map(
    (config.pools ?? []).map((p) => [
      p.id,
      {
        id: p.id,
        name: p.name ?? p.id,
        lat: typeof p.latitude === 'number' ? p.latitude : null,
        lon: typeof p.longitude === 'number' ? p.longitude : null,
        healthy: healthy.get(p.id) ?? p.enabled !== false,
      },
    ]),
  );
  /** @type {WorldPop[]} */
  const pops = (popDoc?.pops ?? []).map((/** @type {any} */ p) => ({
    colo: p.colo,
    city: p.city,
    country: p.country,
    lat: p.latitude,
    lon: p.longitude,
    withdrawn: p.withdrawn === true,
  }));
  return { version: stored.version, config, plan, lb: compiled.config, policy: compiled.policy, pops, pools };
}
