// The oracle: the best route a client could have had, against which steering's route
// is measured. It is worked out here, from the PoPs and pools the running Worker
// reports, rather than by the Worker's own anycast (src/geo/anycast.ts) on purpose: a
// yardstick computed by the code under test would agree with it by construction. Only
// the distance (measure.mjs) and the pools a load balancer can steer to
// (src/steering/reach.ts) are shared.
import { steeringPools } from '../../../src/steering/reach.ts';
import { haversineKm, rttMs } from './measure.mjs';

/**
 * @typedef {import('./world.mjs').World} World
 * @typedef {import('./world.mjs').WorldPop} WorldPop
 * @typedef {Pick<World, 'pops' | 'pools'> & { lb: import('./world.mjs').PoolLists }} Geography what the estimates need of a world
 * @typedef {{ lat: number, lon: number }} Place
 * @typedef {{ pop: string | null, pool: string | null }} Route
 */

/**
 * The PoP anycast delivers a client to: the nearest one that is not withdrawn.
 * @param {readonly WorldPop[]} pops
 * @param {number} lat
 * @param {number} lon
 * @returns {WorldPop | undefined}
 */
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
 * Through the nearest PoP to the nearest healthy pool with coordinates that the load
 * balancer can use (nearest to that PoP, so the sum is the least).
 * @param {Geography} world
 * @param {Place} client
 * @returns {Route & { rtt_ms: number | null }}
 */
export function oracleRoute(world, client) {
  const pop = nearestPop(world.pops, client.lat, client.lon);
  if (!pop) return { pop: null, pool: null, rtt_ms: null };
  let best = null;
  let bestKm = Infinity;
  for (const id of steeringPools(world.lb)) {
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

/**
 * The estimated round trip of the route a client was given: client → its PoP → its pool. Null when unknown.
 * @param {Geography} world
 * @param {Place} client
 * @param {Route} reply
 * @returns {number | null}
 */
export function servedRtt(world, client, reply) {
  const pop = world.pops.find((p) => p.colo === reply.pop);
  const pool = reply.pool === null ? undefined : world.pools.get(reply.pool);
  if (!pop || !pool || pool.lat === null || pool.lon === null) return null;
  return rttMs(haversineKm(client.lat, client.lon, pop.lat, pop.lon) + haversineKm(pop.lat, pop.lon, pool.lat, pool.lon));
}
