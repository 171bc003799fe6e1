import { env } from 'cloudflare:workers';
import { createExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { adminApi, API_BASE } from '../../src/admin/api';
import { app } from '../../src/app';
import { METRICS_PATH, metricsApp } from '../../src/admin/metrics';
import type { Env } from '../../src/env';
import { admin, lb } from '../support/worker';

// Every admin route is in the OpenAPI document, authenticated, and off without a token.

/** The SPEC §7 routes, as "METHOD /path" with OpenAPI-style parameters. */
const SPEC_ROUTES = [
  'GET /config',
  'PUT /config',
  'GET /pools',
  'POST /pools',
  'GET /pools/{pool}',
  'PUT /pools/{pool}',
  'DELETE /pools/{pool}',
  'POST /pools/{pool}/origins',
  'PATCH /pools/{pool}/origins/{origin}',
  'DELETE /pools/{pool}/origins/{origin}',
  'GET /monitors',
  'POST /monitors',
  'GET /monitors/{id}',
  'PUT /monitors/{id}',
  'DELETE /monitors/{id}',
  'GET /load_balancers',
  'POST /load_balancers',
  'GET /load_balancers/{id}',
  'PUT /load_balancers/{id}',
  'DELETE /load_balancers/{id}',
  'GET /health',
  'POST /health/check',
  'GET /events',
  'GET /explain',
  'GET /pops',
  'GET /stats',
  'PUT /pops/{colo}',
  'GET /openapi.json',
];

/** Routes the app serves under /__lb/api, from Hono's own route table (middleware excluded). */
function appRoutes(): string[] {
  const seen = new Set<string>();
  for (const route of adminApi.routes) {
    if (route.method === 'ALL') continue;
    const path = route.path.slice(API_BASE.length).replace(/:(\w+)/g, '{$1}');
    seen.add(`${route.method} ${path}`);
  }
  return [...seen];
}

const concrete = (route: string) => {
  const [method, path] = route.split(' ') as [string, string];
  return { method, path: path === METRICS_PATH ? path : API_BASE + path.replace(/\{(\w+)\}/g, 'x') };
};

/** Every authenticated route: the API's and /__lb/metrics. */
const AUTHENTICATED = [...SPEC_ROUTES, `GET ${METRICS_PATH}`];

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  components: { securitySchemes: Record<string, { type: string; scheme: string }> };
  security: Record<string, string[]>[];
}

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1, with bearer security, and lists every route the app serves', async () => {
    const res = await admin('GET', '/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as OpenApiDocument;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearer: [] }]);
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.slice(API_BASE.length)}`),
    );
    expect(Object.keys(doc.paths).every((path) => path.startsWith(`${API_BASE}/`) || path === METRICS_PATH)).toBe(true);
    const served = appRoutes();
    expect(served.length).toBeGreaterThanOrEqual(SPEC_ROUTES.length);
    for (const route of served) expect(documented, route).toContain(route);
  });

  it('documents request schemas generated from the zod schemas the routes validate with', async () => {
    const doc = (await (await admin('GET', '/openapi.json')).json()) as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } }>>;
    };
    const patch = doc.paths[`${API_BASE}/pools/{pool}/origins/{origin}`]!.patch!.requestBody!.content['application/json']!.schema;
    expect(Object.keys(patch.properties ?? {}).sort()).toEqual(['address', 'backup', 'drain', 'enabled', 'header', 'public_url', 'weight']);
  });

  it.each(SPEC_ROUTES)('serves %s', (route) => {
    expect(appRoutes()).toContain(route);
  });

  it('documents GET /__lb/metrics, which lives beside the API', async () => {
    const doc = (await (await admin('GET', '/openapi.json')).json()) as OpenApiDocument;
    expect(Object.keys(doc.paths[METRICS_PATH] ?? {})).toEqual(['get']);
    expect(metricsApp.routes.some((r) => r.method === 'GET' && r.path === METRICS_PATH)).toBe(true);
  });
});

describe('authentication on every admin route', () => {
  it.each(AUTHENTICATED)('%s: 401 with WWW-Authenticate without a token, 401 with a wrong one', async (route) => {
    const { method, path } = concrete(route);
    const none = await lb(path, { method });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    const wrong = await lb(path, { method, headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(401);
  });

  it.each(AUTHENTICATED)('%s: 503 admin_disabled when ADMIN_TOKEN is unset, while proxying goes on', async (route) => {
    const { method, path } = concrete(route);
    const off = { ...(env as Env), ADMIN_TOKEN: undefined } as Env;
    const res = await app.fetch(new Request(`http://localhost${path}`, { method, headers: { authorization: 'Bearer anything' } }), off, createExecutionContext());
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('admin_disabled');
  });
});
