import { z } from 'zod';
import { REGIONS } from '../geo/regions';
import { MAX_RULES, ruleFields } from '../rules/schema';
import { headerMap, headerName, headerRecord, headerValue, id } from './fields';
import { isReservedRequestHeader } from './header-rules';
import { ruleExtensions } from './rule-overrides';
import { OriginSchema, PoolSchema, checkPool, originAddress, poolFields } from './pool-schema';

export { ID_PATTERN } from './fields';
export * from './pool-schema';
export { parseRateLimitKey, REDIRECT_STATUSES, type RateLimitKey } from './rule-overrides';

// The vocabulary follows Cloudflare Load Balancing's API objects (snake_case), so an
// operator can bring an existing configuration. Every object is strict: a typo in a
// field name is an error, not a silently ignored setting.

/** "200", "2xx", "200,204", "2xx,3xx" */
const EXPECTED_CODES = /^[1-5](?:\d\d|xx)(?:,[1-5](?:\d\d|xx))*$/;

export const MonitorSchema = z.strictObject({
  id,
  type: z.enum(['http', 'https', 'tcp']).default('http'),
  method: z.enum(['GET', 'HEAD']).default('GET'),
  path: z.string().startsWith('/').default('/'),
  header: headerMap.default({}),
  expected_codes: z.string().regex(EXPECTED_CODES, 'must look like "200", "2xx" or "200,204"').default('2xx'),
  expected_body: z.string().default(''),
  interval: z.number().int().min(5).max(3600).default(60),
  timeout: z.number().int().min(1).max(60).default(5),
  retries: z.number().int().min(0).max(5).default(0),
  consecutive_up: z.number().int().min(1).max(100).default(2),
  consecutive_down: z.number().int().min(1).max(100).default(3),
});

export const POOL_STEERING_POLICIES = [
  '',
  'off',
  'random',
  'geo',
  'proximity',
  'least_outstanding_requests',
  'dynamic_latency',
] as const;

export const RETRY_OUTCOMES = ['connect-failure', 'timeout'] as const;
/**
 * Cloudflare answers a Worker's subrequest with 521/522/523/530 when no connection was
 * made, 524 on a timeout after connect, 525/526 on TLS (SPEC §10), and 520 when the
 * connection was reset or closed before a response: what workerd throws as "Network
 * connection lost", and what nginx's proxy_next_upstream `error` retries. SPEC §1's
 * list plus 520.
 */
export const DEFAULT_RETRY_ON = ['connect-failure', 'timeout', '502', '503', '504', '520', '521', '522', '523', '524', '525', '526', '530'] as const;

const HOSTNAME = /^(\*|(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/;
/** Pools are tried in list order, so a list names each at most once (and a bounded number of them). */
const MAX_POOLS_IN_LIST = 100;
const poolList = z
  .array(id)
  .min(1)
  .max(MAX_POOLS_IN_LIST)
  .superRefine((ids, ctx) => {
    const seen = new Set<string>();
    ids.forEach((poolId, index) => {
      if (seen.has(poolId)) ctx.addIssue({ code: 'custom', path: [index], message: `pool "${poolId}" is already in this list` });
      seen.add(poolId);
    });
  });

const loadBalancerBase = z.strictObject({
  id,
  hostname: z
    .string()
    .transform((value) => value.toLowerCase())
    .pipe(z.string().regex(HOSTNAME, 'must be an exact host, "*.example.com" or "*"')),
  enabled: z.boolean().default(true),
  default_pools: poolList,
  fallback_pool: id.optional(),
  steering_policy: z.enum(POOL_STEERING_POLICIES).default(''),
  random_steering: z
    .strictObject({
      default_weight: z.number().min(0).default(1),
      pool_weights: z.record(id, z.number().min(0)).default({}),
    })
    .default({ default_weight: 1, pool_weights: {} }),
  region_pools: z.partialRecord(z.enum(REGIONS), poolList).default({}),
  country_pools: z.record(z.string().regex(/^[A-Z]{2}$/, 'must be an upper-case ISO country code'), poolList).default({}),
  pop_pools: z.record(z.string().regex(/^[A-Z]{3}$/, 'must be an upper-case IATA colo code'), poolList).default({}),
  session_affinity: z.enum(['none', 'cookie', 'ip_cookie', 'header']).default('none'),
  session_affinity_ttl: z.number().int().min(1).max(7 * 86_400).default(82_800),
  session_affinity_attributes: z
    .strictObject({
      headers: z.array(headerName.transform((h) => h.toLowerCase())).default([]),
      samesite: z.enum(['Auto', 'Lax', 'None', 'Strict']).default('Auto'),
      secure: z.enum(['Auto', 'Always', 'Never']).default('Auto'),
      zero_downtime_failover: z.enum(['none', 'temporary', 'sticky']).default('sticky'),
    })
    .default({ headers: [], samesite: 'Auto', secure: 'Auto', zero_downtime_failover: 'sticky' }),
  request_headers: headerRecord(headerValue, isReservedRequestHeader).default({}),
  preserve_host: z.boolean().default(false),
  retries: z.number().int().min(0).max(10).default(2),
  retry_on: z
    .array(z.union([z.enum(RETRY_OUTCOMES), z.string().regex(/^[45]\d\d$/, 'must be "connect-failure", "timeout" or a 4xx/5xx status code')]))
    .max(100)
    .transform((list) => [...new Set(list)])
    .default([...DEFAULT_RETRY_ON]),
  attempt_timeout_ms: z.number().int().min(1).max(600_000).default(10_000),
  read_timeout_ms: z.number().int().min(0).max(3_600_000).default(60_000),
  passive_health: z
    .strictObject({
      max_fails: z.number().int().min(0).default(3),
      fail_timeout: z.number().min(1).max(3600).default(10),
      max_ejection_percent: z.number().min(0).max(100).default(50),
    })
    .default({ max_fails: 3, fail_timeout: 10, max_ejection_percent: 50 }),
  expose_headers: z.boolean().default(true),
});

/** What a rule's overrides may replace: the load balancer's steering and affinity settings. */
export const RULE_OVERRIDE_FIELDS = [
  ...['default_pools', 'fallback_pool', 'region_pools', 'country_pools', 'pop_pools', 'steering_policy', 'random_steering'] as const,
  ...['session_affinity', 'session_affinity_ttl', 'session_affinity_attributes'] as const,
] as const;
type OverrideField = (typeof RULE_OVERRIDE_FIELDS)[number];
const lbShape = loadBalancerBase.shape;
/** A field of an override is absent unless named: the load balancer's default does not fill it in. */
const withoutDefault = (schema: z.ZodType): z.ZodType => (schema instanceof z.ZodDefault ? (schema.unwrap() as z.ZodType) : schema);
const extensionsSchema = z.strictObject(ruleExtensions);
const overridesSchema = z.strictObject({
  ...Object.fromEntries(RULE_OVERRIDE_FIELDS.map((field) => [field, withoutDefault(lbShape[field]).optional()])),
  ...ruleExtensions,
}) as unknown as z.ZodType<
  Partial<Pick<z.output<typeof loadBalancerBase>, OverrideField>> & z.output<typeof extensionsSchema>,
  Partial<Pick<z.input<typeof loadBalancerBase>, OverrideField>> & z.input<typeof extensionsSchema>
>;

export const RuleSchema = z.strictObject({ ...ruleFields, overrides: overridesSchema.default({}) });

export const LoadBalancerSchema = loadBalancerBase.extend({ rules: z.array(RuleSchema).max(MAX_RULES).optional() });

export const ConfigSchema = z
  .strictObject({
    monitors: z.array(MonitorSchema).default([]),
    pools: z.array(PoolSchema).default([]),
    load_balancers: z.array(LoadBalancerSchema).default([]),
  })
  .superRefine((config, ctx) => {
    const monitors = uniqueIds(config.monitors, 'monitors', ctx);
    const pools = uniqueIds(config.pools, 'pools', ctx);
    uniqueIds(config.load_balancers, 'load_balancers', ctx);

    config.pools.forEach((pool, index) => {
      if (pool.monitor !== undefined && !monitors.has(pool.monitor)) {
        ctx.addIssue({ code: 'custom', path: ['pools', index, 'monitor'], message: `unknown monitor "${pool.monitor}"` });
      }
    });

    const hostnames = new Map<string, number>();
    config.load_balancers.forEach((lb, index) => {
      const at = (...path: (string | number)[]) => ['load_balancers', index, ...path];
      checkSteering(lb, pools, at(), ctx);
      lb.rules?.forEach((rule, r) => {
        const o = rule.overrides;
        const affinity =
          o.session_affinity === undefined && o.session_affinity_attributes === undefined
            ? {}
            : { session_affinity: o.session_affinity ?? lb.session_affinity, session_affinity_attributes: o.session_affinity_attributes ?? lb.session_affinity_attributes };
        checkSteering({ ...o, ...affinity }, pools, at('rules', r, 'overrides'), ctx);
        if (o.redirect !== undefined && !rule.disabled) checkRedirect(redirectReach(lb, r), config.pools, at('rules', r, 'overrides', 'redirect'), ctx);
      });
      const previous = hostnames.get(lb.hostname);
      if (previous !== undefined) {
        ctx.addIssue({ code: 'custom', path: at('hostname'), message: `hostname "${lb.hostname}" is already used by load_balancers.${previous}` });
      }
      hostnames.set(lb.hostname, index);
    });
  });

const POOL_FIELDS = ['default_pools', 'fallback_pool', 'region_pools', 'country_pools', 'pop_pools'] as const;

/**
 * The pools a request can be steered to when the rule at `index` redirects it: for each
 * pool setting, the rule's own when it sets one, else the load balancer's or an
 * earlier rule's (rules tried before it that may have matched too), and any later
 * rule's unless it terminates (a later override wins).
 */
function redirectReach(lb: LoadBalancer, index: number): Set<string> {
  const rules = lb.rules ?? [];
  const order = rules.map((rule, i) => ({ rule, i })).filter(({ rule }) => !rule.disabled);
  order.sort((a, b) => a.rule.priority - b.rule.priority || a.i - b.i);
  const at = order.findIndex(({ i }) => i === index);
  const own = rules[index]!;
  const earlier = order.slice(0, at).map(({ rule }) => rule.overrides);
  const later = own.terminates ? [] : order.slice(at + 1).map(({ rule }) => rule.overrides);
  const reach = new Set<string>();
  const add = (value: string | string[] | Partial<Record<string, string[]>> | undefined) => {
    if (value === undefined) return;
    if (typeof value === 'string') reach.add(value);
    else if (Array.isArray(value)) value.forEach((poolId) => reach.add(poolId));
    else for (const list of Object.values(value)) list?.forEach((poolId) => reach.add(poolId));
  };
  for (const field of POOL_FIELDS) {
    const sources = own.overrides[field] !== undefined ? [own.overrides] : [lb, ...earlier];
    for (const source of [...sources, ...later]) add(source[field]);
  }
  return reach;
}

/**
 * A redirect sends the client to the chosen origin's public_url: every origin of every
 * pool the rule can reach needs one (SPEC §9).
 */
function checkRedirect(reachable: ReadonlySet<string>, pools: readonly Pool[], at: (string | number)[], ctx: z.RefinementCtx): void {
  const missing: string[] = [];
  for (const pool of pools) {
    if (!reachable.has(pool.id)) continue;
    for (const origin of pool.origins) if (origin.public_url === undefined || origin.public_url === '') missing.push(`${pool.id}/${origin.name}`);
  }
  if (missing.length === 0) return;
  const shown = missing.slice(0, 10).join(', ') + (missing.length > 10 ? ` and ${missing.length - 10} more` : '');
  ctx.addIssue({ code: 'custom', path: at, message: `a redirect sends clients to the chosen origin's public_url, and these origins it can reach have none: ${shown}` });
}

type SteeringFields = Partial<Pick<LoadBalancer, OverrideField>>;

/** Pools named by steering settings exist; header affinity names a header. Absent fields are not checked. */
function checkSteering(lb: SteeringFields, pools: ReadonlySet<string>, at: (string | number)[], ctx: z.RefinementCtx): void {
  const known = (poolId: string, path: (string | number)[]) => {
    if (!pools.has(poolId)) ctx.addIssue({ code: 'custom', path: [...at, ...path], message: `unknown pool "${poolId}"` });
  };
  lb.default_pools?.forEach((poolId, i) => known(poolId, ['default_pools', i]));
  if (lb.fallback_pool !== undefined) known(lb.fallback_pool, ['fallback_pool']);
  for (const [key, value] of [
    ['region_pools', lb.region_pools],
    ['country_pools', lb.country_pools],
    ['pop_pools', lb.pop_pools],
  ] as const) {
    for (const [code, list] of Object.entries(value ?? {})) list?.forEach((poolId, i) => known(poolId, [key, code, i]));
  }
  for (const poolId of Object.keys(lb.random_steering?.pool_weights ?? {})) known(poolId, ['random_steering', 'pool_weights', poolId]);
  if (lb.session_affinity === 'header' && lb.session_affinity_attributes !== undefined && lb.session_affinity_attributes.headers.length === 0) {
    ctx.addIssue({
      code: 'custom',
      path: [...at, 'session_affinity_attributes', 'headers'],
      message: 'header affinity needs at least one header name',
    });
  }
}

function uniqueIds(items: readonly { id: string }[], key: string, ctx: z.RefinementCtx): Set<string> {
  const ids = new Set<string>();
  items.forEach((item, index) => {
    if (ids.has(item.id)) ctx.addIssue({ code: 'custom', path: [key, index, 'id'], message: `duplicate id "${item.id}"` });
    ids.add(item.id);
  });
  return ids;
}

// Request bodies of the resource routes (SPEC §7). A PUT names its resource in the
// path, so the id in the body may be left out; a PATCH of an origin takes any of the
// fields an operator changes at run time.

const withOptionalId = { id: id.optional() };
export const MonitorBodySchema = MonitorSchema.extend(withOptionalId);
export const PoolBodySchema = z.strictObject({ ...poolFields, ...withOptionalId }).superRefine(checkPool);
export const LoadBalancerBodySchema = LoadBalancerSchema.extend(withOptionalId);

export const OriginPatchSchema = z
  .strictObject({
    weight: z.number().min(0).max(1_000_000),
    enabled: z.boolean(),
    drain: z.boolean(),
    backup: z.boolean(),
    address: originAddress,
    header: headerMap,
    public_url: OriginSchema.shape.public_url.unwrap(),
  })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, { message: 'name at least one of weight, enabled, drain, backup, address, header, public_url' });

export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
export type Monitor = z.output<typeof MonitorSchema>;
export type Pool = z.output<typeof PoolSchema>;
export type Origin = z.output<typeof OriginSchema>;
export type LoadBalancer = z.output<typeof LoadBalancerSchema>;
export type Rule = z.output<typeof RuleSchema>;
export type OriginPatch = z.output<typeof OriginPatchSchema>;
export type LoadShedding = Pool['load_shedding'];
export type PoolSteeringPolicy = (typeof POOL_STEERING_POLICIES)[number];
