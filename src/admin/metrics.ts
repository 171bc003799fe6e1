import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { controlPlane } from '../control/locator';
import { readStats } from '../control/stats-shards';
import { healthReport } from '../control/health-report';
import { flushStats, inFlightOf } from '../proxy/isolate';
import { prometheusText } from './prometheus';
import { adminAuth, adminEnabled } from './auth';
import { statsErrors, type AdminEnv } from './http';

// GET /__lb/metrics for Prometheus (bearer, like the admin API: a scrape config sets
// `authorization: { credentials: … }`).

export const METRICS_PATH = '/__lb/metrics';

export const metricsApp = new OpenAPIHono<AdminEnv>();
metricsApp.use(METRICS_PATH, adminEnabled, adminAuth);
metricsApp.openapi(
  createRoute({
    method: 'get',
    path: METRICS_PATH,
    tags: ['Stats'],
    summary: 'Prometheus metrics (text exposition format 0.0.4)',
    responses: {
      200: { description: 'the metrics', content: { 'text/plain; version=0.0.4': { schema: z.string() } } },
      ...statsErrors,
    },
  }),
  async (c) => {
    await flushStats(c.env);
    const control = controlPlane(c.env);
    const [totals, snapshot, popRefreshes] = await Promise.all([readStats(c.env), control.current(), control.popRefreshes()]);
    const text = prometheusText({
      totals,
      health: healthReport(snapshot.config, snapshot.health),
      healthMap: snapshot.health,
      version: snapshot.version,
      withdrawn: snapshot.withdrawn,
      inFlight: inFlightOf,
      popRefreshes,
    });
    return c.text(text, 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  },
);
