// Origins that refuse, reset, die inside a body or go quiet, met by the built Worker on
// workerd itself with its inspector attached: each failure is counted as one, and no
// exception escapes the Worker (no handler or ctx.waitUntil promise rejects, no
// response body fails) but for a body the client must see cut. Under Miniflare (the
// workers and edge projects, wrangler dev) every subrequest first goes through
// Miniflare's own outbound Worker, whose handler rejects for each refused or reset
// connection and is logged as an uncaught exception of its own; on workerd alone,
// whatever is reported is the Worker's.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Origin } from '../../scripts/lib/origins.mjs';
import { buildSwitchyard, freePort, startWorkerd } from '../../scripts/lib/workerd.mjs';
import { watchWorker, type WorkerWatch } from '../support/inspector';

const TOKEN = 'failing-origins-token';
/** How long the Worker has to report what a request left behind after the client saw its end. */
const SETTLE_MS = 300;

let healthy: Origin;
let rude: Server;
let refusedPort: number;
let worker: { url: string; stop(): void };
let watch: WorkerWatch;
let work: string;
const timers = new Set<ReturnType<typeof setTimeout>>();

/** After `ms`, unless the response is gone by then. */
function later(res: ServerResponse, ms: number, then: () => void): void {
  const timer = setTimeout(() => {
    timers.delete(timer);
    if (!res.destroyed) then();
  }, ms);
  timers.add(timer);
}

/** An origin that misbehaves by path. */
function rudeOrigin(): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const text = { 'content-type': 'text/plain' };
    switch (path) {
      case '/reset':
        // The connection drops before any response.
        return void req.socket.destroy();
      case '/cut-fixed':
        // Dies inside a small body of announced length.
        res.writeHead(200, { ...text, 'content-length': '100' });
        res.write('first part\n');
        return later(res, 100, () => res.socket?.destroy());
      case '/cut-stream':
        // Dies inside a streamed body.
        res.writeHead(200, text);
        res.write('first part\n');
        return later(res, 100, () => res.socket?.destroy());
      case '/stall-headers':
        return later(res, 3000, () => res.end());
      case '/stall-fixed':
        res.writeHead(200, { ...text, 'content-length': '21' });
        res.write('first part\n');
        return later(res, 3000, () => res.end('last part\n'));
      case '/stall-stream':
        res.writeHead(200, text);
        res.write('first part\n');
        return later(res, 3000, () => res.end('last part\n'));
    }
    res.writeHead(200, text);
    res.end('rude but fine\n');
  });
}

interface Answer {
  status: number;
  body: string;
  /** The whole response arrived (false: the connection was cut inside the body). */
  complete: boolean;
}

function send(host: string, path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, worker.url), { method: init.method ?? 'GET', headers: { host, ...init.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('error', () => undefined);
      res.on('close', () => resolve({ status: res.statusCode ?? 0, body, complete: res.complete }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

/** The failed attempts the stats count for an origin. */
async function failures(pool: string, origin: string): Promise<number> {
  const res = await send('localhost', '/__lb/api/stats', { headers: { authorization: `Bearer ${TOKEN}` } });
  const stats = JSON.parse(res.body) as { origins: { pool: string; origin: string; failures: number }[] };
  return stats.origins.find((o) => o.pool === pool && o.origin === origin)?.failures ?? 0;
}

beforeAll(async () => {
  healthy = await new Origin({ name: 'healthy' }).start();
  rude = rudeOrigin();
  await new Promise<void>((resolve) => rude.listen(0, '127.0.0.1', resolve));
  const rudeAt = `http://127.0.0.1:${(rude.address() as { port: number }).port}`;
  // Nothing listens there: connections are refused.
  refusedPort = await freePort();
  const refusedAt = `http://127.0.0.1:${refusedPort}`;
  const checks = { timeout: 1, consecutive_up: 1, consecutive_down: 1 };
  const noEjection = { max_fails: 0, fail_timeout: 10, max_ejection_percent: 50 };
  const config = {
    monitors: [
      { id: 'http', path: '/', ...checks },
      { id: 'https', type: 'https', path: '/', ...checks },
      { id: 'reset', path: '/reset', ...checks },
      { id: 'slow', path: '/stall-headers', ...checks },
      { id: 'cut-scan', path: '/cut-stream', expected_body: 'last part', ...checks },
      { id: 'stalled-scan', path: '/stall-stream', expected_body: 'last part', ...checks },
      { id: 'tcp', type: 'tcp', ...checks },
    ],
    pools: [
      { id: 'refused', origins: [{ name: 'refused', address: refusedAt }] },
      { id: 'healthy', origins: [{ name: 'healthy', address: healthy.url }] },
      { id: 'rude', origins: [{ name: 'rude', address: rudeAt }] },
      { id: 'probe-refused', monitor: 'http', origins: [{ name: 'refused', address: refusedAt }] },
      { id: 'probe-tls', monitor: 'https', origins: [{ name: 'plain', address: rudeAt }] },
      { id: 'probe-reset', monitor: 'reset', origins: [{ name: 'rude', address: rudeAt }] },
      { id: 'probe-slow', monitor: 'slow', origins: [{ name: 'rude', address: rudeAt }] },
      { id: 'probe-cut', monitor: 'cut-scan', origins: [{ name: 'rude', address: rudeAt }] },
      { id: 'probe-stalled', monitor: 'stalled-scan', origins: [{ name: 'rude', address: rudeAt }] },
      { id: 'probe-tcp', monitor: 'tcp', origins: [{ name: 'refused', address: refusedAt }] },
    ],
    load_balancers: [
      { id: 'refused', hostname: 'refused.test', default_pools: ['refused', 'healthy'], passive_health: noEjection },
      { id: 'rude', hostname: 'rude.test', default_pools: ['rude'], retries: 0, attempt_timeout_ms: 300, read_timeout_ms: 400, passive_health: noEjection },
      { id: 'untimed', hostname: 'untimed.test', default_pools: ['rude'], retries: 0, read_timeout_ms: 0, passive_health: noEjection },
    ],
  };
  work = mkdtempSync(join(tmpdir(), 'switchyard-failing-origins-'));
  const inspector = await freePort();
  worker = await startWorkerd({
    dir: join(work, 'workerd'),
    scriptPath: buildSwitchyard(join(work, 'build')),
    bindings: {
      ADMIN_TOKEN: TOKEN,
      LB_CONFIG: JSON.stringify(config),
      SNAPSHOT_TTL_MS: '60000',
      // Health notices go nowhere: each post is refused.
      HEALTH_WEBHOOK_URL: `${refusedAt}/health-hook`,
    },
    switchyard: true,
    inspector,
    ready: { path: '/__lb/healthz' },
  });
  watch = await watchWorker(inspector);
}, 120_000);

afterAll(async () => {
  watch?.close();
  worker?.stop();
  for (const timer of timers) clearTimeout(timer);
  rude?.closeAllConnections();
  await Promise.all([healthy?.stop(), new Promise((resolve) => (rude ? rude.close(resolve) : resolve(undefined)))]);
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

beforeEach(() => watch.clear());

describe('failing origins are counted as failures, and leave no uncaught exception in the Worker', () => {
  it('a refused connection: a GET goes on to the next origin, a POST (which may have arrived) is a 502', async () => {
    const before = await failures('refused', 'refused');
    const get = await send('refused.test', '/');
    expect(get).toMatchObject({ status: 200, complete: true });
    expect(get.body).toContain('Response from healthy');
    const post = await send('refused.test', '/form', { method: 'POST', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(post.status).toBe(502);
    expect(await failures('refused', 'refused')).toBe(before + 2);
    await settle();
    expect(watch.exceptions).toEqual([]);
  });

  it('a reset before the headers, a death inside a small body, a stall before the headers or inside a small body: 502 or 504, nothing sent before', async () => {
    const before = await failures('rude', 'rude');
    const answers = [];
    for (const path of ['/reset', '/cut-fixed', '/stall-headers', '/stall-fixed']) answers.push(await send('rude.test', path));
    expect(answers.map((a) => a.status)).toEqual([502, 502, 504, 504]);
    expect(answers.every((a) => a.complete && a.body.includes('"error"'))).toBe(true);
    expect(await failures('rude', 'rude')).toBe(before + 4);
    await settle();
    expect(watch.exceptions).toEqual([]);
  });

  it('a death inside a body passed on untouched (read_timeout_ms 0): the client sees it cut', async () => {
    const cut = await send('untimed.test', '/cut-stream');
    expect(cut).toEqual({ status: 200, body: 'first part\n', complete: false });
    await settle();
    expect(watch.exceptions).toEqual([]);
  });

  it('active checks of refused, TLS-mismatched, reset, slow, cut and stalled origins mark each one down; the refused health notices are logged', async () => {
    const res = await send('localhost', '/__lb/api/health/check', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const probed = (JSON.parse(res.body) as { pools: { id: string; healthy: boolean }[] }).pools.filter((p) => p.id.startsWith('probe-'));
    expect(probed).toHaveLength(7);
    for (const pool of probed) expect(pool, pool.id).toMatchObject({ healthy: false });
    // The health notices go out beside the checks, each tried twice, then logged.
    const notices = () => watch.logged.filter((line) => line.startsWith('health webhook ') && line.includes(' failed twice '));
    for (let waited = 0; notices().length < 7 && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(notices()).toHaveLength(7);
    await settle();
    expect(watch.exceptions).toEqual([]);
  });

  it('a body cut after its headers went out (the origin died, or stayed silent for read_timeout_ms) is the only thing workerd reports, as the response failing', async () => {
    // The client must see such a body cut, and a response body can only be cut by
    // erroring it, which workerd reports as the request's exception. Nothing else may be.
    const died = await send('rude.test', '/cut-stream');
    expect(died).toEqual({ status: 200, body: 'first part\n', complete: false });
    await settle();
    for (const text of watch.exceptions) expect(text).toMatch(/Network connection lost/);
    watch.clear();
    const silent = await send('rude.test', '/stall-stream');
    expect(silent).toEqual({ status: 200, body: 'first part\n', complete: false });
    await settle();
    for (const text of watch.exceptions) expect(text).toMatch(/origin sent nothing for 400 ms/);
  });
});
