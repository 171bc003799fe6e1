import { describe, expect, it } from 'vitest';
import { HealthSchema } from '../../src/control/health-report';
import { StatsSchema } from '../../src/stats/traffic';
import { admin, configure, lb, startOrigin } from '../support/worker';

// The health and stats documents are each defined once, as a zod schema beside the
// code that builds them: the OpenAPI document names them, and what the routes answer
// is what the schemas say.

interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: { $ref?: string } }> }> }>>;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
}

describe('response documents defined once', () => {
  it('the OpenAPI document names Health and Stats and the routes refer to them', async () => {
    const doc = (await (await admin('GET', '/openapi.json')).json()) as OpenApiDocument;
    expect(Object.keys(doc.components.schemas.Health?.properties ?? {}).sort()).toEqual(['origins', 'pools']);
    expect(Object.keys(doc.components.schemas.Stats?.properties ?? {}).sort()).toEqual(['origins', 'pools', 'pops', 'since']);
    const ref = (path: string, method: string) => doc.paths[`/__lb/api${path}`]?.[method]?.responses['200']?.content['application/json']?.schema.$ref;
    expect(ref('/health', 'get')).toBe('#/components/schemas/Health');
    expect(ref('/health/check', 'post')).toBe('#/components/schemas/Health');
    expect(ref('/stats', 'get')).toBe('#/components/schemas/Stats');
  });

  it('GET /health and GET /stats answer documents their schemas accept', async () => {
    const origin = await startOrigin('schema-a');
    await configure({
      monitors: [{ id: 'm' }],
      pools: [{ id: 'checked', monitor: 'm', origins: [{ name: 'a', address: origin.url }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['checked'] }],
    });
    await (await lb('/', { headers: { 'x-lb-sim-colo': 'FRA' } })).arrayBuffer();
    const health = HealthSchema.safeParse(await (await admin('GET', '/health')).json());
    expect(health.error).toBeUndefined();
    expect(health.data?.origins.map((o) => `${o.pool}/${o.origin}`)).toEqual(['checked/a']);
    const stats = StatsSchema.safeParse(await (await admin('GET', '/stats')).json());
    expect(stats.error).toBeUndefined();
    expect(stats.data?.origins.find((o) => o.origin === 'a')?.requests).toBeGreaterThan(0);
  });
});
