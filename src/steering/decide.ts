import type { LoadBalancer, OriginPolicy } from '../config/schema';
import type { PassiveHealth } from '../health/passive';
import type { ClientFacts } from './facts';
import { describeHashKey, requestKeyHash } from './hash-key';
import { shedPoint, shedsNew, shedsSession } from './load-shedding';
import { hash32 } from './origin-pick';
import type { PickContext } from './origin-policies';
import type { CompiledLoadBalancer, CompiledOrigin, CompiledPool, Plan } from './plan';
import { orderPools } from './pool-order';
import { poolsReachedBy } from './reach';
import type { Selection } from './selection';

// One steering decision (SPEC §2.6–2.9), pure: the caller passes facts, the verified
// affinity pin, time, randomness, in-flight counts and the request's URL and headers
// (for hash keys); the answer is the ordered candidates and, when asked for, a
// readable trace. Load shedding (SPEC §1) skips a pool for the requests it sheds. A
// pool probed from the client's region is taken as that region sees it (SPEC §4).

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
  /**
   * The request's URL and headers, where a hash pool's hash_key is read (only for such
   * a pool, only when it places the request). Without them the client IP is hashed.
   */
  url?: URL;
  headers?: Headers;
  /** Collects a readable account of the decision when given. */
  trace?: string[];
}

/** `shed`: eligible, but its load_shedding sent this request on to the next pool. */
export type PoolVerdict = 'eligible' | 'disabled' | 'unhealthy' | 'no_usable_origin' | 'unknown' | 'shed';

export interface PoolStep {
  id: string;
  verdict: PoolVerdict;
}

/**
 * - off: affinity not configured, or no session yet for header mode
 * - new: no valid pin; the origin that serves gets pinned
 * - pinned: the pin was honoured
 * - moved: the pinned origin is unusable, or its pool shed the session; re-steered and re-pinned (sticky)
 * - kept: the same, re-steered, the pin kept for later (temporary)
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
 * What the steps share for one request: the pickers' context, whose hash key is set
 * for each pool in turn, and the client's IP hash, computed when first needed.
 */
interface Walk extends PickContext {
  hashKey: number;
  readonly req: SteeringRequest;
  readonly limit: number;
  /** hash32 of the client IP; -1 until needed. */
  ipHash: number;
  /** The pool whose session_percent shed this request's pin: skipped like a shed pool. */
  sessionShed: CompiledPool | undefined;
  /** A rule's origin_steering, which replaces every pool's own for this request. */
  readonly steering: CompiledLoadBalancer['originSteering'];
}

/**
 * The steps in SPEC §2's order: the pool order, each pool's verdict, the affinity pin,
 * the first origin and its alternates pool by pool (a pool shedding this request
 * skipped), and the fallback pool when no pool was eligible.
 */
export function decide(plan: Plan, lb: CompiledLoadBalancer, req: SteeringRequest): Decision {
  const config = lb.config;
  const limit = config.retries + 1;
  const trace = req.trace;
  const mode = config.session_affinity;
  const walk: Walk = { hashKey: 0, random: req.random, inflight: req.inflight, req, limit, ipHash: -1, sessionShed: undefined, steering: lb.originSteering };

  const order = orderPools(plan, lb, req.facts, req.random, req.poolInflight);
  trace?.push(`steering ${lb.policy}: ${order.reason()} -> [${order.ids.join(', ')}]`);
  const { pools, eligible } = poolVerdicts(plan, order.ids, req);

  const candidates: CompiledOrigin[] = [];
  const affinity = affinityPin(plan, config, walk, candidates);
  if (affinity === 'failed') return { pools, policyReason: order.reason, candidates, affinity, pinServed: false, fallbackUsed: false };

  // The first origin: by consistent hash where affinity needs one without a token
  // (ip_cookie on the client IP, header on the session key), else the pool's policy.
  // Load shedding applies to requests steered as new, never to a pin honoured.
  const byHash = affinity !== 'pinned' && (mode === 'ip_cookie' || (mode === 'header' && req.sessionKey !== undefined));
  let served = false;
  let lastShed: CompiledPool | undefined;
  for (const pool of eligible) {
    if (candidates.length >= limit) break;
    if (affinity !== 'pinned' && shedsRequest(pool, walk, pools)) {
      lastShed = pool;
      continue;
    }
    served = true;
    originsOfPool(pool, affinity, byHash, walk, candidates);
  }
  // Shedding moves traffic on, never away altogether: when every eligible pool shed
  // the request, the last of them takes it.
  if (!served && lastShed !== undefined) {
    trace?.push(`every eligible pool shed this request: the last, ${lastShed.id}, takes it`);
    const step = pools.find((p) => p.id === lastShed.id);
    if (step !== undefined) step.verdict = 'eligible';
    originsOfPool(lastShed, affinity, byHash, walk, candidates);
  }
  const fallbackUsed = eligible.length === 0 && useFallbackPool(plan, config, affinity, byHash, walk, candidates);

  if (candidates.length === 0) trace?.push('no candidate origin');
  else trace?.push(`candidates: ${candidates.map((o) => `${o.pool}/${o.name}`).join(', ')}`);

  const pinServed = (mode === 'cookie' || mode === 'ip_cookie') && (affinity === 'new' || affinity === 'moved');
  return { pools, policyReason: order.reason, candidates, affinity, pinServed, fallbackUsed };
}

/** Each pool of the order with its verdict; the eligible ones, in order, are where origins are chosen. */
function poolVerdicts(plan: Plan, ids: readonly string[], req: SteeringRequest): { pools: PoolStep[]; eligible: CompiledPool[] } {
  const pools: PoolStep[] = [];
  const eligible: CompiledPool[] = [];
  const region = req.facts.region;
  for (const id of ids) {
    const pool = plan.pool(id, region);
    const verdict = poolVerdict(pool, req);
    pools.push({ id, verdict });
    if (verdict === 'eligible') eligible.push(pool!);
    else req.trace?.push(`pool ${id} skipped: ${verdict.replaceAll('_', ' ')}${pool?.region === undefined ? '' : ` (as probed from ${pool.region})`}`);
  }
  return { pools, eligible };
}

/**
 * The affinity step (SPEC §2.6): whether the request is pinned, and what becomes of a
 * pin that cannot be honoured. The pinned origin, when it is to serve (pinned, or
 * failed with failover off), is put into `candidates`. A pin to a pool that sheds
 * sessions (load_shedding.session_percent) is, for the clients in that share, a pin
 * that cannot be honoured, unless zero_downtime_failover is none.
 */
function affinityPin(plan: Plan, config: LoadBalancer, walk: Walk, candidates: CompiledOrigin[]): AffinityOutcome {
  const req = walk.req;
  const mode = config.session_affinity;
  if (mode === 'none' || (mode === 'header' && req.sessionKey === undefined)) return 'off';
  if (req.pin === undefined) return 'new';
  const trace = req.trace;
  const failover = config.session_affinity_attributes.zero_downtime_failover;
  // A pin made where a rule did not apply (or another did) may name a pool this load
  // balancer, as the rules made it, never steers to: such a pin is not honoured here.
  if (!poolsReachedBy(config).has(req.pin.pool)) {
    const affinity = failover === 'temporary' ? 'kept' : 'moved';
    trace?.push(`affinity: pool ${req.pin.pool} is not one this load balancer steers to; steering as new, ${affinity === 'kept' ? 'keeping the pin' : 're-pinning'}`);
    return affinity;
  }
  const pool = plan.pool(req.pin.pool, req.facts.region);
  const origin = pool?.byName.get(req.pin.origin);
  if (pool !== undefined && origin !== undefined && pool.config.enabled && pool.servesPinned(origin, req.passive, req.now)) {
    const shedding = pool.shedding;
    if (shedding === undefined || !shedsSession(shedding, ipHashOf(walk))) {
      addCandidate(candidates, walk.limit, origin);
      trace?.push(`affinity: pinned to ${pool.id}/${origin.name}`);
      return 'pinned';
    }
    if (failover === 'none') {
      addCandidate(candidates, walk.limit, origin);
      trace?.push(`affinity: pinned to ${pool.id}/${origin.name}; pool ${pool.id} sheds ${shedding.sessionLabel}, but zero_downtime_failover is none`);
      return 'pinned';
    }
    walk.sessionShed = pool;
    const affinity = failover === 'temporary' ? 'kept' : 'moved';
    trace?.push(`affinity: pool ${pool.id} shed ${shedding.sessionLabel}; steering as new, ${affinity === 'kept' ? 'keeping the pin' : 're-pinning'}`);
    return affinity;
  }
  if (failover === 'none' && origin?.config.enabled && pool?.config.enabled) {
    candidates.push(origin);
    trace?.push(`affinity: ${pool.id}/${origin.name} is unhealthy and zero_downtime_failover is none: sent there anyway`);
    return 'failed';
  }
  const affinity = failover === 'temporary' ? 'kept' : 'moved';
  trace?.push(`affinity: ${req.pin.pool}/${req.pin.origin} cannot serve; steering as new, ${affinity === 'kept' ? 'keeping the pin' : 're-pinning'}`);
  return affinity;
}

/**
 * Whether an eligible pool sheds this request: its pin's pool when that shed the
 * session, else by load_shedding.default_percent (the client's hash, or a draw). The
 * pool's verdict becomes `shed`.
 */
function shedsRequest(pool: CompiledPool, walk: Walk, pools: PoolStep[]): boolean {
  const shedding = pool.shedding;
  if (shedding === undefined) return false;
  const bySession = pool === walk.sessionShed;
  if (!bySession && !shedsNew(shedding, shedding.newPolicy === 'hash' ? ipHashOf(walk) : 0, walk.random)) return false;
  const step = pools.find((p) => p.id === pool.id);
  if (step !== undefined) step.verdict = 'shed';
  walk.req.trace?.push(`pool ${pool.id} shed ${bySession ? shedding.sessionLabel : shedding.newLabel}`);
  return true;
}

/** In one eligible pool: the first origin, its alternates for retries, then the pool's backups. */
function originsOfPool(pool: CompiledPool, affinity: AffinityOutcome, byHash: boolean, walk: Walk, candidates: CompiledOrigin[]): void {
  const req = walk.req;
  const limit = walk.limit;
  const selection = pool.selection(req.passive, req.now);
  const keyMissing = useHashKey(pool, walk, affinity, byHash);
  const policy = policyOf(pool, walk);
  const first = firstOrigin(selection, affinity, byHash, walk, candidates, policy);
  if (first < 0) return;
  const chosen = selection.origins[first];
  addCandidate(candidates, limit, chosen);
  req.trace?.push(
    `pool ${pool.id}: ${chosen.name} by ${byHash && candidates.length === 1 ? 'hash' : policyLabel(pool, walk, keyMissing)}` +
      ` of ${selection.size} usable${selection.usingBackups ? ' backup' : ''} origin(s)`,
  );
  for (const alternate of selection.alternates(first, limit - candidates.length, walk.hashKey, policy)) addCandidate(candidates, limit, alternate);
  // nginx `backup`: when the primaries fail, the pool's backups take the retry.
  for (const backup of selection.backups) addCandidate(candidates, limit, backup);
}

/**
 * Sets the key a pool's picker hashes: the affinity key where affinity places by hash
 * (the session key for header affinity, else the client IP), the pool's hash_key in a
 * hash pool, the client IP for a pinned request's stable point on the ring; other
 * policies hash nothing. True when a hash pool's key was missing from the request and
 * the client IP stood in.
 */
function useHashKey(pool: CompiledPool, walk: Walk, affinity: AffinityOutcome, byHash: boolean): boolean {
  const req = walk.req;
  if (byHash) {
    walk.hashKey = req.sessionKey === undefined ? ipHashOf(walk) : hash32(req.sessionKey);
    return false;
  }
  if (policyOf(pool, walk) === 'hash') {
    const hashKey = walk.steering?.hashKey ?? pool.hashKey;
    const key = requestKeyHash(hashKey, req.url, req.headers);
    walk.hashKey = key ?? ipHashOf(walk);
    return key === undefined && hashKey.kind !== 'ip';
  }
  walk.hashKey = affinity === 'pinned' ? ipHashOf(walk) : 0;
  return false;
}

/** The pool's origin steering policy, or a matching rule's for this request. */
function policyOf(pool: CompiledPool, walk: Walk): OriginPolicy {
  return walk.steering?.policy ?? pool.config.origin_steering.policy;
}

function policyLabel(pool: CompiledPool, walk: Walk, keyMissing: boolean): string {
  const policy = policyOf(pool, walk);
  const by = walk.steering === undefined ? '' : ' (a rule\'s origin_steering)';
  if (policy !== 'hash') return policy + by;
  const hashKey = walk.steering?.hashKey ?? pool.hashKey;
  return (keyMissing ? `hash on client IP (no ${describeHashKey(hashKey)} in the request)` : `hash on ${describeHashKey(hashKey)}`) + by;
}

function ipHashOf(walk: Walk): number {
  if (walk.ipHash < 0) walk.ipHash = hash32(walk.req.facts.ip);
  return walk.ipHash;
}

/**
 * Where a pool's origins start. A pinned request only needs retry alternates: they
 * start at its origin (or at a stable point on the ring), so it takes no turn from
 * the pool's round robin. A new request is placed by hash when affinity asks for it
 * and no pool has placed it yet, else by the pool's policy.
 */
function firstOrigin(
  selection: Selection,
  affinity: AffinityOutcome,
  byHash: boolean,
  ctx: PickContext,
  candidates: readonly CompiledOrigin[],
  policy: OriginPolicy,
): number {
  if (affinity === 'pinned') {
    const pinned = selection.origins.indexOf(candidates[0]!);
    return pinned >= 0 ? pinned : selection.pickByHash(ctx.hashKey);
  }
  return candidates.length === 0 && byHash ? selection.pickByHash(ctx.hashKey) : selection.pick(ctx, policy);
}

/**
 * With no eligible pool, the fallback pool serves whatever its health, and sheds
 * nothing (it is the last resort); true when it did.
 */
function useFallbackPool(
  plan: Plan,
  config: LoadBalancer,
  affinity: AffinityOutcome,
  byHash: boolean,
  walk: Walk,
  candidates: CompiledOrigin[],
): boolean {
  if (config.fallback_pool === undefined) return false;
  const req = walk.req;
  const pool = plan.pool(config.fallback_pool, req.facts.region);
  const selection = pool?.selection(req.passive, req.now, true);
  if (selection === undefined || selection.size === 0) return false;
  useHashKey(pool!, walk, affinity, byHash);
  const policy = policyOf(pool!, walk);
  const first = selection.pick(walk, policy);
  addCandidate(candidates, walk.limit, selection.origins[first]);
  for (const alternate of selection.alternates(first, walk.limit - 1, walk.hashKey, policy)) addCandidate(candidates, walk.limit, alternate);
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
 * client its own). With `clientHash` (the dry run's), load shedding applies: each
 * pool sheds the client by its point in that pool, which stands in for the draw of a
 * random policy too; as in decide(), when every eligible pool sheds it the last one
 * takes it. Without it (the PoP map) the pool is the one steering prefers.
 */
export function poolPlacement(
  plan: Plan,
  lb: CompiledLoadBalancer,
  facts: ClientFacts,
  passive: PassiveHealth,
  now: number,
  draw = 0.5,
  clientHash?: number,
): { pool: CompiledPool; fallback: boolean } | undefined {
  const req = { passive, now };
  const order = orderPools(plan, lb, facts, () => draw, () => 0);
  let lastShed: CompiledPool | undefined;
  for (const id of order.ids) {
    const pool = plan.pool(id, facts.region);
    if (poolVerdict(pool, req) !== 'eligible') continue;
    const shedding = pool!.shedding;
    if (clientHash !== undefined && shedding !== undefined && shedPoint(shedding, clientHash) < shedding.newShare) lastShed = pool;
    else return { pool: pool!, fallback: false };
  }
  if (lastShed !== undefined) return { pool: lastShed, fallback: false };
  const fallback = lb.config.fallback_pool === undefined ? undefined : plan.pool(lb.config.fallback_pool, facts.region);
  return fallback !== undefined && fallback.selection(passive, now, true).size > 0 ? { pool: fallback, fallback: true } : undefined;
}

function poolVerdict(pool: CompiledPool | undefined, req: Pick<SteeringRequest, 'passive' | 'now'>): PoolVerdict {
  if (pool === undefined) return 'unknown';
  if (!pool.config.enabled) return 'disabled';
  if (!pool.healthy) return 'unhealthy';
  return pool.selection(req.passive, req.now).size > 0 ? 'eligible' : 'no_usable_origin';
}
