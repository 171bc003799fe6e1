import { OpenAPIHono } from '@hono/zod-openapi';
import { adminAuth, adminEnabled } from './auth';
import { configRoutes } from './config-routes';
import { explainRoutes } from './explain';
import type { AdminEnv } from './http';
import { importRoutes } from './import-routes';
import { metricsApp } from './metrics';
import { operationRoutes } from './operations';
import { resourceRoutes } from './resources';

// The admin API under /__lb/api (SPEC §7). Every route is declared with its zod
// schemas; the same declarations validate requests and generate the OpenAPI 3.1
// document at /__lb/api/openapi.json.

export const API_BASE = '/__lb/api';

export const adminApi = new OpenAPIHono<AdminEnv>().basePath(API_BASE);
adminApi.use('*', adminEnabled, adminAuth);
adminApi.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
  type: 'http',
  scheme: 'bearer',
  description: 'the ADMIN_TOKEN secret',
});
for (const routes of [configRoutes, ...resourceRoutes, operationRoutes, explainRoutes, importRoutes]) adminApi.route('/', routes);

export function openApiDocument() {
  const document = adminApi.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Switchyard admin API',
      version: '1',
      description: 'Manage Switchyard, a global HTTP load balancer on Cloudflare Workers. Errors: {"error":{"code","message","issues"?}}.',
    },
    security: [{ bearer: [] }],
  });
  // /__lb/metrics lives beside the API, not under it: its declaration is merged in.
  const metrics = metricsApp.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'metrics', version: '1' } });
  document.paths = { ...document.paths, ...metrics.paths };
  return document;
}

let cached: ReturnType<typeof openApiDocument> | undefined;

adminApi.get('/openapi.json', (c) => c.json((cached ??= openApiDocument())));
adminApi.openAPIRegistry.registerPath({
  method: 'get',
  path: '/openapi.json',
  tags: ['Meta'],
  summary: 'This document',
  responses: { 200: { description: 'the OpenAPI 3.1 document of the admin API' } },
});
