import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { adminApi } from './admin/api';
import { dashboard } from './admin/dashboard';
import { metricsApp } from './admin/metrics';
import { settings, type Env } from './env';
import { errorResponse, internalErrorResponse, LbError } from './errors';
import { proxyRequest } from './proxy/handle';
import { isLoop } from './proxy/upstream';

// /__lb/* belongs to Switchyard; everything else is proxied (SPEC §2.2).

/** The Worker's fetch: proxied requests (nearly all traffic) skip the admin router. */
export function handleFetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
  const url = new URL(request.url);
  if (isSwitchyardPath(url.pathname)) return app.fetch(request, env, ctx);
  // The admin host serves the admin and nothing else, not even for a "*" load balancer.
  if (withoutTrailingDot(url.hostname) === settings(env).adminHostname) return errorResponse(404, 'not_found', 'this host serves only the admin API and dashboard under /__lb/');
  return proxy(request, url, env, ctx);
}

/**
 * May this host reach the admin API, metrics and dashboard (SPEC §7)? Only
 * ADMIN_HOSTNAME when it is set; loopback names otherwise (local development). A page
 * served by a balanced origin must never share a browser origin with the dashboard,
 * or its scripts could read the admin token.
 */
export function isAdminHost(hostname: string, adminHostname: string | undefined): boolean {
  const name = withoutTrailingDot(hostname);
  return adminHostname === undefined ? LOOPBACK_NAMES.has(name) : name === adminHostname;
}

/** "admin.example.com." is the same host as "admin.example.com". */
const withoutTrailingDot = (hostname: string): string => (hostname.endsWith('.') ? hostname.slice(0, -1) : hostname);

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Paths the router may claim; it percent-decodes, so an encoded path goes to it too. */
function isSwitchyardPath(path: string): boolean {
  return path.startsWith('/__lb') || path.includes('%');
}

function proxy(request: Request, url: URL, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
  try {
    loopGuard(request, env);
  } catch (error) {
    return errorToResponse(error, request.method, url.pathname);
  }
  return proxyRequest(request, env, ctx, url);
}

function loopGuard(request: Request, env: Env): void {
  const { lbName } = settings(env);
  if (isLoop(request.headers.get('cdn-loop'), lbName)) {
    throw new LbError(508, 'loop_detected', `CDN-Loop already names ${lbName}: the request came back to this balancer`);
  }
}

export const app = new Hono<{ Bindings: Env }>()
  .use('*', async (c, next) => {
    loopGuard(c.req.raw, c.env);
    await next();
  })
  .get('/__lb/healthz', (c) => c.json({ ok: true }))
  .use('/__lb/*', async (c, next) => {
    if (!isAdminHost(new URL(c.req.url).hostname, settings(c.env).adminHostname)) {
      throw new LbError(404, 'not_found', 'the admin API does not answer on this host (see ADMIN_HOSTNAME)');
    }
    await next();
  })
  .route('/', adminApi)
  .route('/', metricsApp)
  .route('/', dashboard)
  .all('/__lb/*', () => {
    throw new LbError(404, 'not_found', 'no such Switchyard route');
  })
  .all('*', (c) => {
    if (withoutTrailingDot(new URL(c.req.url).hostname) === settings(c.env).adminHostname) throw new LbError(404, 'not_found', 'this host serves only the admin API and dashboard under /__lb/');
    return proxyRequest(c.req.raw, c.env, c.executionCtx as ExecutionContext);
  });

app.onError((error, c) => errorToResponse(error, c.req.method, c.req.path));

function errorToResponse(error: unknown, method: string, path: string): Response {
  if (error instanceof LbError) return error.getResponse();
  if (error instanceof HTTPException) {
    if (error.status === 400 && /json/i.test(error.message)) return errorResponse(400, 'invalid_json', error.message);
    if (error.status === 415) return errorResponse(400, 'invalid_json', 'expected a JSON body (Content-Type: application/json)');
    if (error.res !== undefined && error.status !== 400) return error.getResponse();
    return errorResponse(error.status as ContentfulStatusCode, 'bad_request', error.message || 'bad request');
  }
  // A body with a hundred thousand problems overflows the validator's stack while it
  // collects them: the body's fault, so a 400, not a 500.
  if (error instanceof RangeError && path.startsWith('/__lb/api/') && method !== 'GET') {
    return errorResponse(400, 'invalid_request', 'the body has too many problems to list, or nests too deep: check it a part at a time');
  }
  return internalErrorResponse(error, method, path);
}

app.notFound(() => errorResponse(404, 'not_found', 'no such route'));
