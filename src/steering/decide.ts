import type { LoadBalancer } from '../config/schema';
import type { PassiveHealth } from '../health/passive';
import type { ClientFacts } from './facts';
import { hash32 } from './origin-pick';
import type { PickContext } from './origin-policies';
import type { CompiledLoadBalancer, CompiledOrigin, CompiledPool, Plan } from './plan';
import { orderPools } from './pool-order';
import type { Selection } from './selection';

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

/**
 * The steps in SPEC §2's order: the pool order, each pool's verdict, the affinity pin,
 * the first origin and its alternates pool by pool, and the fallback pool when no
 * pool was eligible.
 */
export function decide(plan: Plan, lb: CompiledLoadBalancer, req: SteeringRequest): Decision {
  const config = lb.config;
  const limit = config.retries + 1;
  const trace = req.trace;
  const mode = config.session_affinity;
  const hashKey = hash32(req.sessionKey ?? req.facts.ip);
  const ctx: PickContext = { hashKey, random: req.random, inflight: req.inflight };

  const order = orderPools(plan, lb, req.facts, req.random, req.poolInflight);
  trace?.push(`steering ${lb.policy}: ${order.reason()} -> [${order.ids.join(', ')}]`);
  const { pools, eligible } = poolVerdicts(plan, order.ids, req);

  const candidates: CompiledOrigin[] = [];
  const affinity = affinityPin(plan, config, req, candidates, limit);
  if (affinity === 'failed') return { pools, policyReason: order.reason, candidates, affinity, pinServed: false, fallbackUsed: false };

  // The first origin: by consistent hash where affinity needs one without a token
  // (ip_cookie on the client IP, header on the session key), else the pool's policy.
  const byHash = affinity !== 'pinned' && (mode === 'ip_cookie' || (mode === 'header' && req.sessionKey !== undefined));
  for (const pool of eligible) {
    if (candidates.length >= limit) break;
    originsOfPool(pool, affinity, byHash, req, ctx, candidates, limit);
  }
  const fallbackUsed = eligible.length === 0 && useFallbackPool(plan, config, req, ctx, candidates, limit);

  if (candidates.length === 0) trace?.push('no candidate origin');
  else trace?.push(`candidates: ${candidates.map((o) => `${o.pool}/${o.name}`).join(', ')}`);

  const pinServed = (mode === 'cookie' || mode === 'ip_cookie') && (affinity === 'new' || affinity === 'moved');
  return { pools, policyReason: order.reason, candidates, affinity, pinServed, fallbackUsed };
}

/** Each pool of the order with its verdict; the eligible ones, in order, are where origins are chosen. */
function poolVerdicts(plan: Plan, ids: readonly string[], req: SteeringRequest): { pools: PoolStep[]; eligible: CompiledPool[] } {
  const pools: PoolStep[] = [];
  const eligible: CompiledPool[] = [];
  for (const id of ids) {
    const pool = plan.pools.get(id);
    const verdict = poolVerdict(pool, req);
    pools.push({ id, verdict });
    if (verdict === 'eligible') eligible.push(pool!);
    else req.trace?.push(`pool ${id} skipped: ${verdict.replaceAll('_', ' ')}`);
  }
  return { pools, eligible };
}

/**
 * The affinity step (SPEC §2.6): whether the request is pinned, and what becomes of a
 * pin that cannot be honoured. The pinned origin, when it is to serve (pinned, or
 * failed with failover off), is put into `candidates`.
 */
function affinityPin(plan: Plan, config: LoadBalancer, req: SteeringRequest, candidates: CompiledOrigin[], limit: number): AffinityOutcome {
  const mode = config.session_affinity;
  if (mode === 'none' || (mode === 'header' && req.sessionKey === undefined)) return 'off';
  if (req.pin === undefined) return 'new';
  const trace = req.trace;
  const pool = plan.pools.get(req.pin.pool);
  const origin = pool?.byName.get(req.pin.origin);
  if (pool !== undefined && origin !== undefined && pool.config.enabled && pool.servesPinned(origin, req.passive, req.now)) {
    addCandidate(candidates, limit, origin);
    trace?.push(`affinity: pinned to ${pool.id}/${origin.name}`);
    return 'pinned';
  }
  const failover = config.session_affinity_attributes.zero_downtime_failover;
  if (failover === 'none' && origin?.config.enabled && pool?.config.enabled) {
    candidates.push(origin);
    trace?.push(`affinity: ${pool.id}/${origin.name} is unhealthy and zero_downtime_failover is none: sent there anyway`);
    return 'failed';
  }
  const affinity = failover === 'temporary' ? 'kept' : 'moved';
  trace?.push(`affinity: ${req.pin.pool}/${req.pin.origin} cannot serve; steering as new, ${affinity === 'kept' ? 'keeping the pin' : 're-pinning'}`);
  return affinity;
}

/** In one eligible pool: the first origin, its alternates for retries, then the pool's backups. */
function originsOfPool(
  pool: CompiledPool,
  affinity: AffinityOutcome,
  byHash: boolean,
  req: SteeringRequest,
  ctx: PickContext,
  candidates: CompiledOrigin[],
  limit: number,
): void {
  const selection = pool.selection(req.passive, req.now);
  const first = firstOrigin(selection, affinity, byHash, ctx, candidates);
  if (first < 0) return;
  const chosen = selection.origins[first];
  addCandidate(candidates, limit, chosen);
  req.trace?.push(
    `pool ${pool.id}: ${chosen.name} by ${byHash && candidates.length === 1 ? 'hash' : pool.config.origin_steering.policy}` +
      ` of ${selection.size} usable${selection.usingBackups ? ' backup' : ''} origin(s)`,
  );
  for (const alternate of selection.alternates(first, limit - candidates.length, ctx.hashKey)) addCandidate(candidates, limit, alternate);
  // nginx `backup`: when the primaries fail, the pool's backups take the retry.
  for (const backup of selection.backups) addCandidate(candidates, limit, backup);
}

/**
 * Where a pool's origins start. A pinned request only needs retry alternates: they
 * start at its origin (or at a stable point on the ring), so it takes no turn from
 * the pool's round robin. A new request is placed by hash when affinity asks for it
 * and no pool has placed it yet, else by the pool's policy.
 */
function firstOrigin(selection: Selection, affinity: AffinityOutcome, byHash: boolean, ctx: PickContext, candidates: readonly CompiledOrigin[]): number {
  if (affinity === 'pinned') {
    const pinned = selection.origins.indexOf(candidates[0]!);
    return pinned >= 0 ? pinned : selection.pickByHash(ctx.hashKey);
  }
  return candidates.length === 0 && byHash ? selection.pickByHash(ctx.hashKey) : selection.pick(ctx);
}

/** With no eligible pool, the fallback pool serves whatever its health; true when it did. */
function useFallbackPool(plan: Plan, config: LoadBalancer, req: SteeringRequest, ctx: PickContext, candidates: CompiledOrigin[], limit: number): boolean {
  if (config.fallback_pool === undefined) return false;
  const pool = plan.pools.get(config.fallback_pool);
  const selection = pool?.selection(req.passive, req.now, true);
  if (selection === undefined || selection.size === 0) return false;
  const first = selection.pick(ctx);
  addCandidate(candidates, limit, selection.origins[first]);
  for (const alternate of selection.alternates(first, limit - 1, ctx.hashKey)) addCandidate(candidates, limit, alternate);
  req.trace?.push(`no healthy pool: fallback pool ${pool!.id} used whatever its health`);
  return true;
}

/** Candidates are distinct and at most `limit` (retries + 1). */
function addCandidate(candidates: CompiledOrigin[], limit: number, origin: CompiledOrigin): void {
  if (candidates.length < limit && !candidates.includes(origin)) candidates.push(origin);
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
