import type { Config, HashKey, LoadBalancer, OriginPolicy, Pool, RateLimitKey } from '../config/schema';
import { checkRegionsOf, isIpLiteral, parseHashKey, parseOriginAddress, parsePublicUrl, parseRateLimitKey } from '../config/schema';
import type { Region } from '../geo/regions';
import { hardestPolicy, type PassiveHealth, type PassivePolicy } from '../health/passive';
import { asSeenFrom, lastFoundUp } from '../health/regional';
import type { HealthMap, OriginHealth } from '../health/state';
import { originKey, type CompiledOrigin } from './compiled-origin';
import { compileShedding, type Shedding } from './load-shedding';
import { ringScale, type RingScale } from './origin-pick';
import { reachablePools } from './reach';
import { compileRules, mergeOverrides, type CompiledRule, type RuleExtras } from './rules';
import { Selection } from './selection';

export { originKey, type CompiledOrigin } from './compiled-origin';
export { Selection } from './selection';

// A Plan is a configuration compiled for the request path: lookups by host, pool
// and origin name are maps, and each pool keeps a selection structure for its usable
// origins that is rebuilt only when that set changes. Per-request work therefore
// does not grow with the number of origins. A pool with check_regions is compiled
// once more for each region its clients come from, on first use, with that region's
// verdicts (SPEC §4); any other pool is the same object for every client.

export class CompiledPool {
  readonly id: string;
  readonly origins: readonly CompiledOrigin[];
  readonly byName: ReadonlyMap<string, CompiledOrigin>;
  /** Enabled and with at least minimum_origins enabled origins healthy by active checks. */
  readonly healthy: boolean;
  readonly healthyOrigins: number;
  readonly meanRttMs: number | undefined;
  /** What the hash policy hashes (origin_steering.hash_key). */
  readonly hashKey: HashKey;
  /** load_shedding; undefined when the pool sheds nothing. */
  readonly shedding: Shedding | undefined;
  private readonly scale: RingScale;
  /** Until when some origin's slow_start ramp runs (ms); selections are rebuilt each second before it. */
  private readonly rampEnd: number;
  private current?: Selection;
  private fallback?: Selection;
  /** The pool's check regions, when it has any and this is not already one region's view. */
  private readonly checkRegions: ReadonlySet<Region> | undefined;
  /** Each check region's view, built on first use. */
  private views?: Map<Region, CompiledPool>;

  /**
   * `region`: this is the view of the pool for clients of that check region, compiled
   * from its prober's results and the verdict of all the regions (asSeenFrom);
   * undefined for the pool itself (for a pool with check_regions, that verdict).
   */
  constructor(
    readonly config: Pool,
    private readonly health: Record<string, OriginHealth> | undefined,
    readonly region?: Region,
  ) {
    this.id = config.id;
    const monitored = config.monitor !== undefined;
    const regions = region === undefined ? checkRegionsOf(config) : [];
    this.checkRegions = regions.length === 0 ? undefined : new Set(regions);
    this.origins = config.origins.map((origin, index) => {
      const url = parseOriginAddress(origin.address)!;
      const checked = monitored ? health?.[origin.name] : undefined;
      const upAt = lastFoundUp(checked);
      return {
        pool: config.id,
        name: origin.name,
        key: originKey(config.id, origin.name),
        index,
        config: origin,
        url,
        hostHeader: firstHeader(origin.header, 'host'),
        ipLiteral: isIpLiteral(url.hostname),
        publicUrl: publicUrlBase(origin.public_url),
        healthy: checked?.healthy ?? true,
        rttMs: checked?.rtt_ms,
        checkedUpAt: upAt,
        recoveredAt: checked?.healthy === true && config.slow_start > 0 ? checked.since : undefined,
      };
    });
    let rampEnd = -Infinity;
    for (const o of this.origins) if (o.recoveredAt !== undefined) rampEnd = Math.max(rampEnd, o.recoveredAt + config.slow_start * 1000);
    this.rampEnd = rampEnd;
    this.byName = new Map(this.origins.map((o) => [o.name, o]));
    this.scale = ringScale(config.origins.map((o) => o.weight));
    this.healthyOrigins = this.origins.filter((o) => o.config.enabled && o.healthy).length;
    this.healthy = config.enabled && this.healthyOrigins >= config.minimum_origins;
    const rtts = this.origins.flatMap((o) => (o.rttMs === undefined ? [] : [o.rttMs]));
    this.meanRttMs = rtts.length === 0 ? undefined : rtts.reduce((a, b) => a + b, 0) / rtts.length;
    // The simulator compiles what GET /config answered, which an older Worker wrote
    // without these fields: absent, they mean the defaults.
    this.hashKey = parseHashKey(config.origin_steering?.hash_key ?? 'ip') ?? { kind: 'ip' };
    this.shedding = config.load_shedding === undefined ? undefined : compileShedding(config.id, config.load_shedding);
  }

  /**
   * The pool as clients of `region` see it: its view for that region when the pool is
   * probed from there, else the pool itself (no allocation, for every other pool).
   */
  inRegion(region: Region | undefined): CompiledPool {
    if (this.checkRegions === undefined || region === undefined || !this.checkRegions.has(region)) return this;
    this.views ??= new Map();
    let view = this.views.get(region);
    if (view === undefined) {
      const results: Record<string, OriginHealth> = {};
      for (const origin of this.config.origins) {
        const result = asSeenFrom(this.health?.[origin.name], region);
        if (result !== undefined) results[origin.name] = result;
      }
      this.views.set(region, (view = new CompiledPool(this.config, results, region)));
    }
    return view;
  }

  /** May this origin serve a request already pinned to it? Draining and weight 0 still may. */
  servesPinned(origin: CompiledOrigin, passive: PassiveHealth, now: number): boolean {
    return origin.config.enabled && origin.healthy && !passive.isEjected(this.id, origin.name, now);
  }

  /**
   * Origins usable for new sessions: enabled, weight > 0, healthy, not ejected, not
   * draining; backups only when no primary qualifies. `ignoreHealth` is for the
   * fallback pool, used whatever its health.
   */
  selection(passive: PassiveHealth, now: number, ignoreHealth = false): Selection {
    const generation = passive.generation(this.id, now);
    const rampBucket = now < this.rampEnd ? Math.floor(now / 1000) : -1;
    const cached = ignoreHealth ? this.fallback : this.current;
    if (cached !== undefined && cached.generation === generation && cached.rampBucket === rampBucket) return cached;

    const usable = this.origins.filter(
      (o) =>
        o.config.enabled &&
        o.config.weight > 0 &&
        !o.config.drain &&
        (ignoreHealth || (o.healthy && !passive.isEjected(this.id, o.name, now))),
    );
    const primaries = usable.filter((o) => !o.config.backup);
    const usingBackups = primaries.length === 0;
    const chosen = usingBackups ? usable : primaries;
    const weights = rampBucket < 0 ? undefined : chosen.map((o) => this.rampedWeight(o, now));
    const backups = usingBackups ? [] : usable.filter((o) => o.config.backup);
    const built = new Selection(this.config.origin_steering.policy, chosen, usingBackups, generation, this.scale, weights, backups, rampBucket);
    if (ignoreHealth) this.fallback = built;
    else this.current = built;
    return built;
  }

  /** slow_start: a recovered origin's weight ramps linearly from 10% to 100% (HAProxy's slowstart). */
  private rampedWeight(origin: CompiledOrigin, now: number): number {
    if (origin.recoveredAt === undefined) return origin.config.weight;
    const progress = Math.max(0, (now - origin.recoveredAt) / (this.config.slow_start * 1000));
    return progress >= 1 ? origin.config.weight : origin.config.weight * (0.1 + 0.9 * progress);
  }
}

export interface CompiledLoadBalancer {
  readonly config: LoadBalancer;
  /** steering_policy with "" resolved. */
  readonly policy: Exclude<LoadBalancer['steering_policy'], ''>;
  /** Its rules in the order they are tried; empty without any. */
  readonly rules: readonly CompiledRule[];
  /** For each rule with overrides, the load balancer with them applied (built with the Plan). */
  readonly overridden: readonly (CompiledLoadBalancer | undefined)[];
  /** A rule's origin_steering: every pool picks its origins so for this request. */
  readonly originSteering: { readonly policy: OriginPolicy; readonly hashKey: HashKey } | undefined;
  /** The matching rules' rate limits: the request is counted with each before it is steered. */
  readonly rateLimits: readonly { readonly binding: string; readonly key: RateLimitKey; readonly period: number }[];
  /** A rule's redirect: the status to answer with the chosen origin's public_url. */
  readonly redirect: number | undefined;
  /** Load balancers built for combinations of several matching rules, by their indexes. */
  readonly combined: Map<string, CompiledLoadBalancer>;
  /**
   * Steering (or a rule) may use the client's country, continent or coordinates, so
   * `request.cf` is read; else only the isolate's PoP is, once.
   */
  readonly readsLocation: boolean;
}

/** Combinations of matching rules kept per load balancer; beyond it, one is built per request. */
const MAX_COMBINED = 256;

function compileLoadBalancer(config: LoadBalancer, withRules: boolean, extras: RuleExtras = {}): CompiledLoadBalancer {
  const rules = withRules ? compileRules(config.rules) : [];
  const overridden = rules.map((rule) => {
    if (rule.overrides === undefined) return undefined;
    const merged = mergeOverrides(config, [rule.overrides]);
    return compileLoadBalancer(merged.config, false, merged.extras);
  });
  const steering = extras.origin_steering;
  const policy = resolvePolicy(config);
  return {
    config,
    policy,
    rules,
    overridden,
    originSteering: steering === undefined ? undefined : { policy: steering.policy, hashKey: parseHashKey(steering.hash_key) ?? { kind: 'ip' } },
    rateLimits: (extras.rate_limits ?? []).map((limit) => ({ binding: limit.binding, key: parseRateLimitKey(limit.key) ?? { kind: 'ip' }, period: limit.period })),
    redirect: extras.redirect?.status_code,
    combined: new Map(),
    readsLocation: rules.length > 0 || policy === 'geo' || policy === 'proximity' || policy === 'dynamic_latency',
  };
}

/**
 * The load balancer a request is steered by once `matched` rules (indexes into
 * lb.rules) matched: itself without overrides, the one built with the Plan for a
 * single rule with overrides, and several rules' overrides merged in order.
 */
export function withOverrides(lb: CompiledLoadBalancer, matched: readonly number[]): CompiledLoadBalancer {
  let found: CompiledLoadBalancer | undefined;
  let count = 0;
  for (const i of matched) {
    if (lb.overridden[i] === undefined) continue;
    found = lb.overridden[i];
    count++;
  }
  if (count <= 1) return found ?? lb;
  // Only rules with overrides tell combinations apart: others would fill the cache with copies.
  const key = matched.filter((i) => lb.overridden[i] !== undefined).join(',');
  const built = lb.combined.get(key);
  if (built !== undefined) return built;
  const merged = mergeOverrides(
    lb.config,
    matched.flatMap((i) => lb.rules[i]!.overrides ?? []),
  );
  const compiled = compileLoadBalancer(merged.config, false, merged.extras);
  if (lb.combined.size < MAX_COMBINED) lb.combined.set(key, compiled);
  return compiled;
}

export class Plan {
  readonly pools: ReadonlyMap<string, CompiledPool>;
  /** Some pool is checked from several regions: a client's region (from its country where its PoP is not in the table) matters. */
  readonly regional: boolean;
  private readonly exactHosts = new Map<string, CompiledLoadBalancer>();
  private readonly wildcardHosts = new Map<string, CompiledLoadBalancer>();
  private catchAll: CompiledLoadBalancer | undefined;
  /** Per pool, the passive health policy of the load balancers that send to it, taken at its hardest (hardestPolicy); made by the first failure counted. */
  private passivePolicies: ReadonlyMap<string, PassivePolicy> | undefined;

  constructor(
    readonly version: number,
    readonly config: Config,
    health: HealthMap,
    readonly withdrawn: ReadonlySet<string>,
  ) {
    this.pools = new Map(config.pools.map((pool) => [pool.id, new CompiledPool(pool, health[pool.id])]));
    this.regional = config.pools.some((pool) => checkRegionsOf(pool).length > 0);
    for (const lb of config.load_balancers) {
      const compiled = compileLoadBalancer(lb, true);
      if (lb.hostname === '*') this.catchAll = compiled;
      else if (lb.hostname.startsWith('*.')) this.wildcardHosts.set(lb.hostname.slice(1), compiled);
      else this.exactHosts.set(lb.hostname, compiled);
    }
  }

  /** The passive health policy failures of `pool`'s origins are counted by; undefined when no load balancer sending to it has passive health on. */
  passivePolicy(pool: string): PassivePolicy | undefined {
    this.passivePolicies ??= passivePolicies(this.config);
    return this.passivePolicies.get(pool);
  }

  /** A pool as clients of `region` see it (CompiledPool.inRegion); undefined when there is none by that id. */
  pool(id: string, region: Region | undefined): CompiledPool | undefined {
    const pool = this.pools.get(id);
    return pool === undefined || region === undefined ? pool : pool.inRegion(region);
  }

  /** Exact host, then the longest "*." suffix, then "*". */
  loadBalancerFor(host: string): CompiledLoadBalancer | undefined {
    const name = host.toLowerCase();
    const exact = this.exactHosts.get(name);
    if (exact !== undefined) return exact;
    if (this.wildcardHosts.size > 0) {
      for (let dot = name.indexOf('.'); dot !== -1; dot = name.indexOf('.', dot + 1)) {
        const match = this.wildcardHosts.get(name.slice(dot));
        if (match !== undefined) return match;
      }
    }
    return this.catchAll;
  }
}

/**
 * Each pool's passive policy: the hardest of the enabled load balancers whose steering,
 * or an enabled rule's overrides, can send to it (a disabled one sends nothing).
 */
function passivePolicies(config: Config): Map<string, PassivePolicy> {
  const byPool = new Map<string, PassivePolicy[]>();
  for (const lb of config.load_balancers) {
    if (!lb.enabled) continue;
    const pools = reachablePools(lb);
    for (const rule of lb.rules ?? []) {
      if (!rule.disabled) for (const id of reachablePools(mergeOverrides(lb, [rule.overrides]).config)) pools.add(id);
    }
    for (const id of pools) {
      const list = byPool.get(id);
      if (list === undefined) byPool.set(id, [lb.passive_health]);
      else list.push(lb.passive_health);
    }
  }
  const policies = new Map<string, PassivePolicy>();
  for (const [id, list] of byPool) {
    const policy = hardestPolicy(list);
    if (policy !== undefined) policies.set(id, policy);
  }
  return policies;
}

function resolvePolicy(lb: LoadBalancer): CompiledLoadBalancer['policy'] {
  if (lb.steering_policy !== '') return lb.steering_policy;
  const hasGeo =
    Object.keys(lb.region_pools).length > 0 || Object.keys(lb.country_pools).length > 0 || Object.keys(lb.pop_pools).length > 0;
  return hasGeo ? 'geo' : 'off';
}

/** public_url without its trailing slash, so that a request's path and query can follow it; undefined without one. */
function publicUrlBase(value: string | undefined): string | undefined {
  const url = value === undefined || value === '' ? undefined : parsePublicUrl(value);
  return url === undefined ? undefined : url.href.replace(/\/$/, '');
}

function firstHeader(headers: Record<string, string[]>, name: string): string | undefined {
  for (const [key, values] of Object.entries(headers)) {
    if (key.toLowerCase() === name && values.length > 0) return values[0];
  }
  return undefined;
}

