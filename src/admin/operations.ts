import { createRoute, z } from '@hono/zod-openapi';
import { popByColo } from '../geo/anycast';
import { POPS } from '../geo/pops';
import { REGIONS } from '../geo/regions';
import { HealthSchema, healthReport } from '../control/health-report';
import type { EventRecord } from '../control/control-plane';
import { adoptSnapshot } from '../control/snapshot-cache';
import { controlPlane } from '../control/locator';
import { readStats } from '../control/stats-shards';
import { flushStats, inFlightOf } from '../proxy/isolate';
import { poolsByPop } from '../proxy/steer';
import { StatsSchema, statsReport } from '../stats/traffic';
import { LbError } from '../errors';
import { adminRoutes, bodyErrors, commonErrors, jsonBody, jsonContent, notFound, statsErrors } from './http';

// Run-time operations (SPEC §7): the event log, the PoP table with withdrawals, and
// the health document.

const EventSchema = z
  .object({
    id: z.number().int(),
    at: z.string().meta({ description: 'ISO 8601 time' }),
    kind: z.string().meta({ description: 'config | pop | health | storage' }),
    message: z.string(),
    detail: z.any().meta({ description: 'what changed: actor, resource, id, action, from, to, version' }),
  })
  .meta({ id: 'Event' });

const PopSchema = z
  .object({
    colo: z.string(),
    city: z.string(),
    country: z.string(),
    region: z.enum(REGIONS),
    latitude: z.number(),
    longitude: z.number(),
    withdrawn: z.boolean(),
    pool: z.string().nullable().optional().meta({ description: 'with ?host=: the pool new clients at this PoP are steered to (null: none)' }),
  })
  .meta({ id: 'Pop' });

const popView = (withdrawn: ReadonlySet<string>) => (pop: (typeof POPS)[number]) => ({
  colo: pop.colo,
  city: pop.city,
  country: pop.country,
  region: pop.region,
  latitude: pop.lat,
  longitude: pop.lon,
  withdrawn: withdrawn.has(pop.colo),
});

export const operationRoutes = adminRoutes('invalid_request')
  .openapi(
    createRoute({
      method: 'get',
      path: '/events',
      tags: ['Events'],
      summary: 'Admin changes and health transitions, newest first (the last 1,000 are kept)',
      request: {
        query: z.object({
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          kind: z.enum(['config', 'pop', 'health', 'storage']).optional(),
        }),
      },
      responses: { 200: jsonContent(z.object({ events: z.array(EventSchema) }), 'events'), 400: bodyErrors[400], ...commonErrors },
    }),
    async (c) => {
      const { limit, kind } = c.req.valid('query');
      const events = (await controlPlane(c.env).events(limit, kind)) as EventRecord[];
      return c.json({ events: events as z.output<typeof EventSchema>[] }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/pops',
      tags: ['PoPs'],
      summary: 'The PoP table of the anycast simulation, with withdrawals; with ?host=, the pool each PoP steers to',
      request: { query: z.object({ host: z.string().min(1).max(253).optional() }) },
      responses: { 200: jsonContent(z.object({ version: z.number().int(), pops: z.array(PopSchema) }), 'every PoP'), ...notFound, ...commonErrors },
    }),
    async (c) => {
      const snapshot = await controlPlane(c.env).current();
      const pops = POPS.map(popView(new Set(snapshot.withdrawn)));
      const { host } = c.req.valid('query');
      if (host === undefined) return c.json({ version: snapshot.version, pops }, 200);
      const loaded = await adoptSnapshot(c.env, snapshot);
      const pools = poolsByPop(loaded, host, POPS.map((p) => p.colo));
      if (pools === undefined) throw new LbError(404, 'no_load_balancer', `no load balancer serves host "${host}"`);
      return c.json({ version: snapshot.version, pops: pops.map((pop) => ({ ...pop, pool: pools.get(pop.colo) ?? null })) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'put',
      path: '/pops/{colo}',
      tags: ['PoPs'],
      summary: 'Withdraw a PoP (its simulated clients move to the next nearest) or restore it',
      middleware: jsonBody,
      request: {
        params: z.object({ colo: z.string() }),
        body: { required: true, content: { 'application/json': { schema: z.strictObject({ withdrawn: z.boolean() }) } } },
      },
      responses: { 200: jsonContent(z.object({ version: z.number().int(), pop: PopSchema }), 'the PoP'), ...bodyErrors, ...notFound, ...commonErrors },
    }),
    async (c) => {
      const pop = popByColo(c.req.valid('param').colo);
      if (pop === undefined) throw new LbError(404, 'not_found', `no PoP "${c.req.valid('param').colo}": GET /__lb/api/pops lists them`);
      const { withdrawn } = c.req.valid('json');
      const result = await controlPlane(c.env).setWithdrawn(pop.colo, withdrawn, 'admin-api');
      await adoptSnapshot(c.env, result.snapshot);
      return c.json({ version: result.version, pop: popView(new Set(result.snapshot.withdrawn))(pop) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/health',
      tags: ['Health'],
      summary: 'Health of every pool and origin',
      responses: { 200: jsonContent(HealthSchema, 'the health document'), ...commonErrors },
    }),
    async (c) => {
      const snapshot = await controlPlane(c.env).current();
      return c.json(healthReport(snapshot.config, snapshot.health), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/health/check',
      tags: ['Health'],
      summary: 'Run every probe now (the same run the cron and the alarm start); the health document after it',
      responses: { 200: jsonContent(HealthSchema, 'the health document'), ...commonErrors },
    }),
    async (c) => {
      const { report, snapshot } = await controlPlane(c.env).checkNow();
      await adoptSnapshot(c.env, snapshot);
      return c.json(report, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/stats',
      tags: ['Stats'],
      summary: 'Traffic per origin (requests, responses by class, failures, retries, ejections, in flight, latency p50/p95), per pool and per PoP',
      responses: { 200: jsonContent(StatsSchema, 'the counts since the first request'), ...statsErrors },
    }),
    async (c) => {
      // This isolate's pending counts first, so what was just served is in the answer.
      await flushStats(c.env);
      const [totals, stored] = await Promise.all([readStats(c.env), controlPlane(c.env).getConfig()]);
      const configured = (stored.config?.pools ?? []).flatMap((p) => p.origins.map((o) => ({ pool: p.id, origin: o.name })));
      return c.json(statsReport(totals, configured, inFlightOf), 200);
    },
  );
