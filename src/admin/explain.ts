import { createRoute, z } from '@hono/zod-openapi';
import { adoptSnapshot } from '../control/snapshot-cache';
import { controlPlane } from '../control/locator';
import type { Env } from '../env';
import { redirectLocation } from '../proxy/handle';
import { steer } from '../proxy/steer';
import { LbError } from '../errors';
import { AFFINITY_COOKIE } from '../steering/affinity-token';
import { describeHashKey } from '../steering/hash-key';
import { adminRoutes, commonErrors, jsonContent } from './http';

// GET /__lb/api/explain: the decision Switchyard would make for a hypothetical
// request. The request is built with the simulation headers and goes through the
// same steer() as live traffic, so the answer cannot drift from what requests get.

const coordinate = (limit: number) =>
  z
    .string()
    .regex(/^\s*-?\d+(\.\d+)?\s*$/, 'must be a number')
    .transform(Number)
    .pipe(z.number().min(-limit).max(limit))
    .optional();
/** Printable text: it becomes a header value of the simulated request. */
const printable = (max: number) => z.string().max(max).regex(/^[^\x00-\x1f\x7f]*$/, 'must not contain control characters');
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE'] as const;

export const ExplainQuery = z
  .object({
    host: z.string().min(1).max(253).default('localhost').meta({ description: 'Host header of the request' }),
    path: z.string().startsWith('/').max(2048).default('/'),
    method: z
      .string()
      .default('GET')
      .transform((m) => m.toUpperCase())
      .pipe(z.enum(METHODS)),
    ip: printable(64).optional().meta({ description: 'client IP (hash affinity, X-Forwarded-For)' }),
    country: z.string().regex(/^[A-Za-z]{2}$/, 'must be an ISO country code').optional(),
    lat: coordinate(90),
    lon: coordinate(180),
    colo: z.string().regex(/^[A-Za-z]{3}$/, 'must be an IATA colo code').optional(),
    cookie: printable(4096).optional().meta({ description: `an ${AFFINITY_COOKIE} token, or a whole Cookie header` }),
    header: z
      .union([printable(8192), z.array(printable(8192))])
      .optional()
      .meta({ description: 'request header as "name: value" (repeatable), e.g. for header affinity' }),
  })
  .refine((q) => (q.lat === undefined) === (q.lon === undefined), { message: 'lat and lon go together', path: ['lat'] });

export type ExplainInput = z.output<typeof ExplainQuery>;

const ExplainSchema = z
  .object({
    request: z.object({ method: z.string(), url: z.string() }),
    facts: z.object({
      ip: z.string(),
      country: z.string().nullable(),
      region: z.string().nullable(),
      colo: z.string().nullable(),
      lat: z.number().nullable(),
      lon: z.number().nullable(),
      source: z.string(),
    }),
    load_balancer: z.object({ id: z.string(), hostname: z.string(), steering_policy: z.string(), policy: z.string() }),
    policy_reason: z.string(),
    pools: z.array(z.object({ id: z.string(), verdict: z.string() })),
    fallback_used: z.boolean(),
    candidates: z.array(
      z.object({ pool: z.string(), origin: z.string(), address: z.string(), weight: z.number(), drain: z.boolean(), backup: z.boolean() }),
    ),
    affinity: z.object({ mode: z.string(), outcome: z.string(), pin: z.object({ pool: z.string(), origin: z.string() }).nullable() }),
    rules: z.array(z.string()).meta({ description: "the load balancer's rules that matched, in the order they were tried" }),
    fixed_response: z
      .object({ status_code: z.number() })
      .nullable()
      .meta({ description: 'the fixed response of a matching rule, which answers the request without an origin' }),
    rate_limits: z
      .array(z.object({ binding: z.string(), key: z.string(), period: z.number() }))
      .meta({ description: 'the rate limits matching rules count the request with (explain itself counts nothing)' }),
    redirect: z
      .object({ status_code: z.number(), location: z.string().nullable() })
      .nullable()
      .meta({ description: "a matching rule's redirect: the status and the Location the client would be sent to" }),
    trace: z.array(z.string()),
  })
  .meta({ id: 'Explanation' });

export type Explanation = z.output<typeof ExplainSchema>;

export async function explain(env: Env, input: ExplainInput): Promise<Explanation> {
  const url = URL.parse(input.path, `http://${input.host}`);
  if (url === null || url.host.toLowerCase() !== input.host.toLowerCase()) {
    throw new LbError(400, 'invalid_request', `"${input.host}" is not a valid host`, { issues: [{ path: 'host', message: 'must be a host name' }] });
  }
  const headers = new Headers();
  const sim: [string, string | number | undefined][] = [
    ['x-lb-sim-ip', input.ip],
    ['x-lb-sim-country', input.country],
    ['x-lb-sim-lat', input.lat],
    ['x-lb-sim-lon', input.lon],
    ['x-lb-sim-colo', input.colo],
  ];
  for (const [name, value] of sim) if (value !== undefined) headers.set(name, String(value));
  if (input.cookie !== undefined) headers.set('cookie', input.cookie.includes('=') ? input.cookie : `${AFFINITY_COOKIE}=${input.cookie}`);
  for (const line of [input.header ?? []].flat()) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim();
    if (colon <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new LbError(400, 'invalid_request', `header "${line}" is not "name: value"`, { issues: [{ path: 'header', message: 'must be "name: value"' }] });
    }
    headers.append(name, line.slice(colon + 1).trim());
  }

  const loaded = await adoptSnapshot(env, await controlPlane(env).current());
  const trace: string[] = [];
  const { lb, facts, decision, pin, rules, fixed } = await steer(new Request(url, { method: input.method, headers }), loaded, true, trace);
  return {
    request: { method: input.method, url: url.href },
    facts: {
      ip: facts.ip,
      country: facts.country ?? null,
      region: facts.region ?? null,
      colo: facts.colo ?? null,
      lat: facts.lat ?? null,
      lon: facts.lon ?? null,
      source: facts.source,
    },
    load_balancer: { id: lb.config.id, hostname: lb.config.hostname, steering_policy: lb.config.steering_policy, policy: lb.policy },
    policy_reason: decision.policyReason(),
    pools: decision.pools,
    fallback_used: decision.fallbackUsed,
    candidates: decision.candidates.map((o) => ({
      pool: o.pool,
      origin: o.name,
      address: o.config.address,
      weight: o.config.weight,
      drain: o.config.drain,
      backup: o.config.backup,
    })),
    affinity: { mode: lb.config.session_affinity, outcome: decision.affinity, pin: pin ?? null },
    rules,
    fixed_response: fixed === null ? null : { status_code: fixed.status_code },
    rate_limits: lb.rateLimits.map((limit) => ({ binding: limit.binding, key: describeHashKey(limit.key), period: limit.period })),
    redirect: lb.redirect === undefined ? null : { status_code: lb.redirect, location: redirectLocation(decision.candidates, url) ?? null },
    trace,
  };
}

export const explainRoutes = adminRoutes('invalid_request').openapi(
  createRoute({
    method: 'get',
    path: '/explain',
    tags: ['Explain'],
    summary: 'The steering decision for a hypothetical request: facts, pools and why skipped, candidates, affinity, trace',
    request: { query: ExplainQuery },
    responses: {
      200: jsonContent(ExplainSchema, 'the decision'),
      400: jsonContent(z.object({ error: z.object({ code: z.string(), message: z.string() }) }), 'invalid query'),
      404: jsonContent(z.object({ error: z.object({ code: z.string(), message: z.string() }) }), 'no load balancer serves the host'),
      ...commonErrors,
    },
  }),
  async (c) => c.json(await explain(c.env, c.req.valid('query')), 200),
);
