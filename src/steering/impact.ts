import type { Config, LoadBalancer, Monitor, Pool } from '../config/schema';
import { nearestPop } from '../geo/anycast';
import { CITIES, type City } from '../geo/cities';
import { regionOfCountry } from '../geo/regions';
import { PassiveHealth } from '../health/passive';
import { poolPlacement } from './decide';
import type { ClientFacts } from './facts';
import { shedsSession } from './load-shedding';
import { hash32, HashRing, ringScale } from './origin-pick';
import type { HealthMap } from '../health/state';
import { Plan, originKey, type CompiledLoadBalancer, type CompiledPool, type Selection } from './plan';
import { poolsReachedBy, reachablePools } from './reach';

// What a configuration change would do to traffic, before it is stored (the dry run of
// PUT /config, SPEC §7). Pure: both configurations are compiled into fresh plans, so
// the live plan's round-robin state never moves, and a sample of clients, one at the
// centre of each city of the simulator's world, is steered through each.
//
// The pool is the one steering picks for a new request under the stored health. The
// origin is the pool's consistent-hash choice on the client's address: exactly what a
// request gets in a `hash` pool or with ip_cookie affinity. For round_robin, random and
// least_outstanding_requests pools no single client has a fixed origin, so the hash
// stands in as a weighted, stable assignment: a sample client moves only when its
// origin stops taking new requests or the weights change, never by the turn of a
// round robin.

export interface ImpactInput {
  /** The stored configuration; null when there is none yet. */
  before: Config | null;
  /** The proposed configuration, already validated. */
  after: Config;
  /** Active-check results of the stored snapshot, by pool id and origin name. */
  health: HealthMap;
  /** Withdrawn PoP colos. */
  withdrawn: readonly string[];
  now: number;
}

export interface Placement {
  pool: string;
  origin: string;
}

/** Sample clients per pool id and per "pool/origin". */
export interface Distribution {
  pools: Record<string, number>;
  origins: Record<string, number>;
}

export interface ClientMove {
  /** "Tokyo, JP" */
  client: string;
  country: string;
  colo: string | null;
  population: number;
  before: Placement | null;
  after: Placement | null;
}

export interface SessionImpact {
  /** Sample clients pinned before the change: one session each, on its before origin. */
  pinned: number;
  /** Of those, the sessions that would end up on another origin. */
  leaving: number;
  /** Leaving sessions by their before "pool/origin". */
  by_origin: Record<string, number>;
}

export type LoadBalancerChange = 'added' | 'removed' | 'changed' | 'unchanged';

export interface LoadBalancerImpact {
  id: string;
  /** The proposed hostname, else the stored one. */
  hostname: string;
  change: LoadBalancerChange;
  /** Null when the load balancer is added, or unchanged (nothing was steered). */
  before: Distribution | null;
  /** Null when the load balancer is removed, or unchanged. */
  after: Distribution | null;
  moved: { clients: number; population: number };
  /** At most MAX_MOVES, largest population first. */
  moves: ClientMove[];
  /** Null when the stored load balancer had no session affinity, or nothing it reaches changed. */
  sessions: SessionImpact | null;
}

export interface Impact {
  sample: { clients: number; population: number; description: string };
  /** Changed ones first, at most MAX_LISTED. */
  load_balancers: LoadBalancerImpact[];
  /** Load balancers past MAX_LISTED, not steered. */
  omitted: { changed: number; unchanged: number };
}

export const MAX_MOVES = 50;
export const MAX_LISTED = 100;

const SAMPLE_DESCRIPTION =
  `One client at the centre of each of the ${CITIES.length} cities of the simulator's world (src/geo/cities.ts), ` +
  'weighted by its population, with a fixed synthetic address, entering at the nearest PoP that is not withdrawn. ' +
  'Each is placed as a new request would be: the pool by the load balancer\'s steering under the stored health, ' +
  'a pool with load shedding passing the client on by the hash of its address in that pool (for the random policy too), ' +
  'the origin by consistent hash on the client\'s address. That is exact for hash pools on the client IP and ip_cookie ' +
  'affinity (a hash pool keyed on a path, header, cookie or query hashes the address instead); ' +
  'for round_robin, random and least_outstanding_requests pools a small weighted ring stands in, so a client moves only ' +
  'when its origin stops taking new requests or the weights change. Random pool steering takes one draw per ' +
  'client, the same before and after; least_outstanding_requests pool steering sees no requests in flight. With ' +
  'session affinity, each client holds one session pinned to its origin before the change. At most 100 load ' +
  'balancers are steered, the changed ones first; `omitted` counts the rest.';

export interface SampleClient {
  city: City;
  facts: ClientFacts;
}

/** Affinity modes whose pin travels in a token, honoured while its origin can serve it. */
const TOKEN_MODES: ReadonlySet<LoadBalancer['session_affinity']> = new Set(['cookie', 'ip_cookie']);

export function configImpact(input: ImpactInput): Impact {
  const { before, after, health, now } = input;
  const withdrawn: ReadonlySet<string> = new Set(input.withdrawn);
  const clients = sampleClients(withdrawn);
  const passive = new PassiveHealth();
  const beforeSide = before === null ? undefined : new Side(new Plan(0, before, health, withdrawn), passive, now);
  const afterSide = new Side(new Plan(1, after, health, withdrawn), passive, now);
  const beforeIndex = before === null ? undefined : indexConfig(before);
  const afterIndex = indexConfig(after);

  const ids = [...after.load_balancers.map((lb) => lb.id)];
  for (const lb of before?.load_balancers ?? []) if (!afterIndex.loadBalancers.has(lb.id)) ids.push(lb.id);

  // Changed load balancers first; at most MAX_LISTED in all, so that a configuration of
  // thousands of load balancers costs a bounded amount of work and answer.
  const changedIds = new Set(
    ids.filter((id) => {
      const old = beforeIndex?.loadBalancers.get(id);
      const proposed = afterIndex.loadBalancers.get(id);
      return old === undefined || proposed === undefined || !sameReach(old, proposed, beforeIndex!, afterIndex);
    }),
  );
  const changed = (id: string) => changedIds.has(id);
  const ordered = [...ids.filter(changed), ...ids.filter((id) => !changed(id))];
  const listed = ordered.slice(0, MAX_LISTED);

  const loadBalancers = listed.map((id) => {
    const old = beforeIndex?.loadBalancers.get(id);
    const proposed = afterIndex.loadBalancers.get(id);
    const change: LoadBalancerChange =
      old === undefined
        ? 'added'
        : proposed === undefined
          ? 'removed'
          : sameReach(old, proposed, beforeIndex!, afterIndex)
            ? 'unchanged'
            : 'changed';
    const hostname = (proposed ?? old)!.hostname;
    if (change === 'unchanged') {
      return { id, hostname, change, before: null, after: null, moved: { clients: 0, population: 0 }, moves: [], sessions: null };
    }
    return compare(id, hostname, change, clients, old === undefined ? undefined : beforeSide!.lb(old), proposed === undefined ? undefined : afterSide.lb(proposed));
  });

  const population = CITIES.reduce((sum, city) => sum + city.population, 0);
  const omitted = ordered.slice(MAX_LISTED);
  return {
    sample: { clients: clients.length, population, description: SAMPLE_DESCRIPTION },
    load_balancers: loadBalancers,
    omitted: { changed: omitted.filter(changed).length, unchanged: omitted.filter((id) => !changed(id)).length },
  };
}

/** One configuration compiled, with what its steering does for a sample client. */
class Side {
  constructor(
    readonly plan: Plan,
    private readonly passive: PassiveHealth,
    private readonly now: number,
  ) {}

  /** The compiled load balancer with this configuration's id (hostnames are unique, so lookup by hostname finds it). */
  lb(config: LoadBalancer): SideLoadBalancer {
    const compiled = this.plan.loadBalancerFor(config.hostname);
    if (compiled === undefined || compiled.config.id !== config.id) throw new Error(`load balancer "${config.id}" not found in its own plan`);
    return { side: this, compiled };
  }

  /** Where a new request from this client goes: null when the load balancer is disabled or has nowhere to send it. */
  place(lb: CompiledLoadBalancer, facts: ClientFacts): Placement | null {
    if (!lb.config.enabled) return null;
    // Each client its own draw for random pool steering, stable across both sides.
    const key = hash32(facts.ip);
    const placed = poolPlacement(this.plan, lb, facts, this.passive, this.now, key / 2 ** 32, key);
    if (placed === undefined) return null;
    const selection = placed.pool.selection(this.passive, this.now, placed.fallback);
    // A hash pool and ip_cookie affinity pick on the pool's own ring: exactly what a
    // request gets. Other policies have no fixed origin per client; a small ring of
    // their own stands in, without building the pool's full ring.
    const exact = placed.pool.config.origin_steering.policy === 'hash' || lb.config.session_affinity === 'ip_cookie';
    const index = exact ? selection.pickByHash(key) : this.standIn(placed.pool, selection).lookup(key);
    return index < 0 ? null : { pool: placed.pool.id, origin: selection.origins[index].name };
  }

  private readonly standIns = new Map<Selection, HashRing>();

  /**
   * A consistent-hash ring over a selection's origins by configured weight, with at
   * most 16 points per origin, scaled by the pool's whole origin list so that an origin
   * leaving the selection moves only its own clients.
   */
  private standIn(pool: CompiledPool, selection: Selection): HashRing {
    let ring = this.standIns.get(selection);
    if (ring === undefined) {
      const configured = pool.config.origins.map((o) => o.weight);
      const scale = { ...ringScale(configured), pointsPerOrigin: Math.max(1, Math.min(16, Math.floor(16_000 / Math.max(1, configured.length)))) };
      ring = new HashRing(
        selection.origins.map((o) => o.name),
        selection.origins.map((o) => o.config.weight),
        scale,
      );
      this.standIns.set(selection, ring);
    }
    return ring;
  }

  /**
   * What becomes of a session pinned (by token) to `pin`: kept when the pool exists and
   * is enabled, one the load balancer steers to, and the origin may serve pinned requests (a draining one may, SPEC
   * §2.6), or, with zero_downtime_failover none, is enabled at all (decide's
   * 'failed'); shed when the pool's session_percent sheds this client (it is steered
   * as new, its pool skipped); else lost (steered as new).
   */
  pinOutcome(lb: CompiledLoadBalancer, pin: Placement, facts: ClientFacts): 'kept' | 'shed' | 'lost' {
    if (!lb.config.enabled || !TOKEN_MODES.has(lb.config.session_affinity)) return 'lost';
    // As decide does: a pin to a pool the load balancer no longer steers to is not honoured.
    if (!poolsReachedBy(lb.config).has(pin.pool)) return 'lost';
    const pool = this.plan.pool(pin.pool, facts.region);
    const origin = pool?.byName.get(pin.origin);
    if (pool === undefined || origin === undefined || !pool.config.enabled) return 'lost';
    const none = lb.config.session_affinity_attributes.zero_downtime_failover === 'none';
    if (pool.servesPinned(origin, this.passive, this.now)) {
      return pool.shedding !== undefined && !none && shedsSession(pool.shedding, hash32(facts.ip)) ? 'shed' : 'kept';
    }
    return none && origin.config.enabled ? 'kept' : 'lost';
  }
}

interface SideLoadBalancer {
  side: Side;
  compiled: CompiledLoadBalancer;
}

/** One pass over the sample clients for a load balancer that was added, removed or changed. */
function compare(
  id: string,
  hostname: string,
  change: LoadBalancerChange,
  clients: readonly SampleClient[],
  old: SideLoadBalancer | undefined,
  proposed: SideLoadBalancer | undefined,
): LoadBalancerImpact {
  const beforeCounts = old === undefined ? undefined : new Counts();
  const afterCounts = proposed === undefined ? undefined : new Counts();
  const affinity = old !== undefined && old.compiled.config.session_affinity !== 'none' ? old.compiled.config.session_affinity : undefined;
  // A pin travels in a token only in cookie modes; in header mode the session key's hash is the pin.
  const tokens = affinity !== undefined && TOKEN_MODES.has(affinity);
  const sessions: SessionImpact | null = affinity === undefined ? null : { pinned: 0, leaving: 0, by_origin: {} };
  const leavingBy = new Map<string, number>();
  const moves: ClientMove[] = [];
  let movedPopulation = 0;

  for (const { city, facts } of clients) {
    const was = old === undefined ? null : old.side.place(old.compiled, facts);
    const is = proposed === undefined ? null : proposed.side.place(proposed.compiled, facts);
    if (was !== null) beforeCounts?.add(was);
    if (is !== null) afterCounts?.add(is);
    const same = was !== null && is !== null && was.pool === is.pool && was.origin === is.origin;
    const moved = !(same || (was === null && is === null));
    if (moved) {
      moves.push({ client: `${city.name}, ${city.country}`, country: city.country, colo: facts.colo ?? null, population: city.population, before: was, after: is });
      movedPopulation += city.population;
    }
    if (sessions !== null && was !== null) {
      sessions.pinned++;
      const pin = tokens && proposed !== undefined ? proposed.side.pinOutcome(proposed.compiled, was, facts) : 'lost';
      const stays = pin === 'kept' || (pin === 'lost' && same);
      if (!stays) {
        sessions.leaving++;
        const key = originKey(was.pool, was.origin);
        leavingBy.set(key, (leavingBy.get(key) ?? 0) + 1);
      }
    }
  }
  if (sessions !== null) sessions.by_origin = byCount(leavingBy);

  const movedClients = moves.length;
  // Stable: cities of equal population keep the table's order.
  moves.sort((a, b) => b.population - a.population);
  return {
    id,
    hostname,
    change,
    before: beforeCounts?.distribution() ?? null,
    after: afterCounts?.distribution() ?? null,
    moved: { clients: movedClients, population: movedPopulation },
    moves: moves.slice(0, MAX_MOVES),
    sessions,
  };
}

class Counts {
  private readonly pools = new Map<string, number>();
  private readonly origins = new Map<string, number>();

  add(placement: Placement): void {
    this.pools.set(placement.pool, (this.pools.get(placement.pool) ?? 0) + 1);
    const key = originKey(placement.pool, placement.origin);
    this.origins.set(key, (this.origins.get(key) ?? 0) + 1);
  }

  distribution(): Distribution {
    return { pools: byCount(this.pools), origins: byCount(this.origins) };
  }
}

/** A record with the largest count first (then by key), so the same input always reads the same. */
function byCount(counts: ReadonlyMap<string, number>): Record<string, number> {
  const entries = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return Object.fromEntries(entries);
}

/** One client per city, at its centre, with an address of 198.18.0.0/15 (RFC 2544, never routed) by the city's index. */
export function sampleClients(withdrawn: ReadonlySet<string>): SampleClient[] {
  return CITIES.map((city, index) => {
    const n = index + 1;
    const ip = `198.${18 + (n >>> 16)}.${(n >>> 8) & 255}.${n & 255}`;
    const pop = nearestPop(city.lat, city.lon, withdrawn);
    const facts: ClientFacts = {
      ip,
      country: city.country,
      lat: city.lat,
      lon: city.lon,
      colo: pop?.colo,
      region: pop?.region ?? regionOfCountry(city.country),
      source: 'simulation',
    };
    return { city, facts };
  });
}

interface ConfigIndex {
  loadBalancers: ReadonlyMap<string, LoadBalancer>;
  pools: ReadonlyMap<string, Pool>;
  monitors: ReadonlyMap<string, Monitor>;
}

function indexConfig(config: Config): ConfigIndex {
  return {
    loadBalancers: new Map(config.load_balancers.map((lb) => [lb.id, lb])),
    pools: new Map(config.pools.map((pool) => [pool.id, pool])),
    monitors: new Map(config.monitors.map((monitor) => [monitor.id, monitor])),
  };
}

/**
 * Whether a load balancer steers exactly as before: its own configuration, every pool
 * it can reach and those pools' monitors are equal. Health, withdrawals and time are
 * the same input on both sides.
 */
function sameReach(old: LoadBalancer, proposed: LoadBalancer, before: ConfigIndex, after: ConfigIndex): boolean {
  if (!deepEqual(old, proposed)) return false;
  for (const id of reachablePools(proposed)) {
    const a = before.pools.get(id);
    const b = after.pools.get(id);
    if (!deepEqual(a, b)) return false;
    const monitor = b?.monitor;
    if (monitor !== undefined && !deepEqual(before.monitors.get(monitor), after.monitors.get(monitor))) return false;
  }
  return true;
}

/** Structural equality of JSON data; the order of an object's keys does not matter, an array's does. */
function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => deepEqual(item, other[i]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  return keys.every((key) => Object.hasOwn(right, key) && deepEqual(left[key], right[key]));
}
