import type { PassiveHealth } from '../health/passive';
import type { ClientFacts } from './facts';
import { hash32 } from './origin-pick';
import type { PickContext } from './origin-policies';
import type { CompiledLoadBalancer, CompiledOrigin, CompiledPool, Plan } from './plan';
import { orderPools } from './pool-order';

// One steering decision (SPEC §2.6–2.9), pure: the caller passes facts, the verified
// affinity pin, time, randomness and in-flight counts; the answer is the ordered
// candidates and, when asked for, a readable trace.

export interface Pin {
  pool: string;
  origin: string;
}

export interface SteeringRequest {
  facts: ClientFacts;
  /** The pin from a valid affinity token, if the request carried one. */
  pin: Pin | undefined;
  /** header affinity: the values of the configured headers, when present. */
  sessionKey: string | undefined;
  now: number;
  random: () => number;
  inflight: (origin: CompiledOrigin) => number;
  poolInflight: (pool: string) => number;
  passive: PassiveHealth;
  /** Collects a readable account of the decision when given. */
  trace?: string[];
}

export type PoolVerdict = 'eligible' | 'disabled' | 'unhealthy' | 'no_usable_origin' | 'unknown';

export interface PoolStep {
  id: string;
  verdict: PoolVerdict;
}

/**
 * - off: affinity not configured, or no session yet for header mode
 * - new: no valid pin; the origin that serves gets pinned
 * - pinned: the pin was honoured
 * - moved: the pinned origin is unusable; re-steered and re-pinned (sticky)
 * - kept: the pinned origin is unusable; re-steered, the pin kept for later (temporary)
 * - failed: the pinned origin is unhealthy and failover is off (none): sent there anyway
 */
export type AffinityOutcome = 'off' | 'new' | 'pinned' | 'moved' | 'kept' | 'failed';

export interface Decision {
  pools: PoolStep[];
  /** Why the pools are in this order (formatted on demand). */
  policyReason: () => string;
  candidates: CompiledOrigin[];
  affinity: AffinityOutcome;
  /** Whether the origin that ends up serving should be written into a new token. */
  pinServed: boolean;
  fallbackUsed: boolean;
}

export function decide(plan: Plan, lb: CompiledLoadBalancer, req: SteeringRequest): Decision {
  const config = lb.config;
  const limit = config.retries + 1;
  const trace = req.trace;
  const mode = config.session_affinity;
  const hashKey = hash32(req.sessionKey ?? req.facts.ip);
  const ctx: PickContext = { hashKey, random: req.random, inflight: req.inflight };

  const order = orderPools(plan, lb, req.facts, req.random, req.poolInflight);
  trace?.push(`steering ${lb.policy}: ${order.reason()} -> [${order.ids.join(', ')}]`);

  const pools: PoolStep[] = [];
  const eligible: CompiledPool[] = [];
  for (const id of order.ids) {
    const pool = plan.pools.get(id);
    const verdict = poolVerdict(pool, req);
    pools.push({ id, verdict });
    if (verdict === 'eligible') eligible.push(pool!);
    else trace?.push(`pool ${id} skipped: ${verdict.replaceAll('_', ' ')}`);
  }

  const candidates: CompiledOrigin[] = [];
  const add = (origin: CompiledOrigin) => {
    if (candidates.length < limit && !candidates.includes(origin)) candidates.push(origin);
  };

  let affinity: AffinityOutcome = mode === 'none' || (mode === 'header' && req.sessionKey === undefined) ? 'off' : 'new';
  if (affinity === 'new' && req.pin !== undefined) {
    const pool = plan.pools.get(req.pin.pool);
    const origin = pool?.byName.get(req.pin.origin);
    if (pool !== undefined && origin !== undefined && pool.config.enabled && pool.servesPinned(origin, req.passive, req.now)) {
      affinity = 'pinned';
      add(origin);
      trace?.push(`affinity: pinned to ${pool.id}/${origin.name}`);
    } else if (config.session_affinity_attributes.zero_downtime_failover === 'none' && origin?.config.enabled && pool?.config.enabled) {
      affinity = 'failed';
      trace?.push(`affinity: ${pool.id}/${origin.name} is unhealthy and zero_downtime_failover is none: sent there anyway`);
      return { pools, policyReason: order.reason, candidates: [origin], affinity, pinServed: false, fallbackUsed: false };
    } else {
      affinity = config.session_affinity_attributes.zero_downtime_failover === 'temporary' ? 'kept' : 'moved';
      trace?.push(
        `affinity: ${req.pin.pool}/${req.pin.origin} cannot serve; steering as new, ${affinity === 'kept' ? 'keeping the pin' : 're-pinning'}`,
      );
    }
  }

  // The first origin: by consistent hash where affinity needs one without a token
  // (ip_cookie on the client IP, header on the session key), else the pool's policy.
  const byHash = affinity !== 'pinned' && (mode === 'ip_cookie' || (mode === 'header' && req.sessionKey !== undefined));
  for (const pool of eligible) {
    if (candidates.length >= limit) break;
    const selection = pool.selection(req.passive, req.now);
    // A pinned request only needs retry alternates: they start at its origin (or at a
    // stable point on the ring), so it takes no turn from the pool's round robin.
    const pinned = affinity === 'pinned' ? selection.origins.indexOf(candidates[0]!) : -1;
    const first =
      affinity === 'pinned'
        ? pinned >= 0
          ? pinned
          : selection.pickByHash(hashKey)
        : candidates.length === 0 && byHash
          ? selection.pickByHash(hashKey)
          : selection.pick(ctx);
    if (first < 0) continue;
    const chosen = selection.origins[first];
    add(chosen);
    trace?.push(
      `pool ${pool.id}: ${chosen.name} by ${byHash && candidates.length === 1 ? 'hash' : pool.config.origin_steering.policy}` +
        ` of ${selection.size} usable${selection.usingBackups ? ' backup' : ''} origin(s)`,
    );
    for (const alternate of selection.alternates(first, limit - candidates.length, hashKey)) add(alternate);
    // nginx `backup`: when the primaries fail, the pool's backups take the retry.
    for (const backup of selection.backups) add(backup);
  }

  let fallbackUsed = false;
  if (eligible.length === 0 && config.fallback_pool !== undefined) {
    const pool = plan.pools.get(config.fallback_pool);
    const selection = pool?.selection(req.passive, req.now, true);
    if (selection !== undefined && selection.size > 0) {
      fallbackUsed = true;
      const first = selection.pick(ctx);
      add(selection.origins[first]);
      for (const alternate of selection.alternates(first, limit - 1, hashKey)) add(alternate);
      trace?.push(`no healthy pool: fallback pool ${pool!.id} used whatever its health`);
    }
  }

  if (candidates.length === 0) trace?.push('no candidate origin');
  else trace?.push(`candidates: ${candidates.map((o) => `${o.pool}/${o.name}`).join(', ')}`);

  const pinServed = (mode === 'cookie' || mode === 'ip_cookie') && (affinity === 'new' || affinity === 'moved');
  return { pools, policyReason: order.reason, candidates, affinity, pinServed, fallbackUsed };
}

/**
 * The pool a new client with these facts is steered to, without picking an origin
 * (so no round-robin turn is taken): the PoP map of the dashboard and simulator.
 */
export function poolFor(plan: Plan, lb: CompiledLoadBalancer, facts: ClientFacts, passive: PassiveHealth, now: number): string | undefined {
  return poolPlacement(plan, lb, facts, passive, now)?.pool.id;
}

/**
 * The pool a new client is steered to and whether it is the fallback, used whatever
 * its health because no pool of the order was eligible. `draw` stands for the one
 * random number random pool steering takes (the dry run's impact gives each sample
 * client its own).
 */
export function poolPlacement(
  plan: Plan,
  lb: CompiledLoadBalancer,
  facts: ClientFacts,
  passive: PassiveHealth,
  now: number,
  draw = 0.5,
): { pool: CompiledPool; fallback: boolean } | undefined {
  const req = { passive, now };
  const order = orderPools(plan, lb, facts, () => draw, () => 0);
  for (const id of order.ids) if (poolVerdict(plan.pools.get(id), req) === 'eligible') return { pool: plan.pools.get(id)!, fallback: false };
  const fallback = lb.config.fallback_pool === undefined ? undefined : plan.pools.get(lb.config.fallback_pool);
  return fallback !== undefined && fallback.selection(passive, now, true).size > 0 ? { pool: fallback, fallback: true } : undefined;
}

function poolVerdict(pool: CompiledPool | undefined, req: Pick<SteeringRequest, 'passive' | 'now'>): PoolVerdict {
  if (pool === undefined) return 'unknown';
  if (!pool.config.enabled) return 'disabled';
  if (!pool.healthy) return 'unhealthy';
  return pool.selection(req.passive, req.now).size > 0 ? 'eligible' : 'no_usable_origin';
}
