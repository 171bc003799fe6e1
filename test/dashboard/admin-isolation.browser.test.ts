import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevWorker } from '../../scripts/lib/dev-worker.mjs';
import { haveChromium, launchChromium } from '../support/chromium';
import type { ConfigInput } from '../../src/config/schema';

// Issue 12: with ADMIN_HOSTNAME set, a page served through a balanced host cannot reach
// the admin. A balanced origin serves a page that registers a service worker which
// records every request it sees; signing in to the dashboard on the admin host sends
// nothing through it, and the admin API on the balanced host is 404 even with the token.

const TOKEN = 'isolation-test-token';
const APP_HOST = 'app.test';
const ADMIN_HOST = 'admin.test';

const chromiumThere = haveChromium("the admin isolation browser test");

type Worker = Awaited<ReturnType<typeof startDevWorker>>;
/** What the page scripts below use of the browser's navigator (tsconfig has no DOM lib). */
type BrowserGlobal = { navigator: { serviceWorker: { ready: Promise<unknown>; controller: unknown } } };

interface Seen {
  url: string;
  authorization: string | null;
}

/** The balanced site's page: registers /sw.js for the whole origin and says when it is active. */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>balanced site</title></head>
<body><p id="state">registering</p>
<script>
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).then(
    () => navigator.serviceWorker.ready.then(() => { document.getElementById('state').textContent = 'active'; }),
    (error) => { document.getElementById('state').textContent = 'failed: ' + error; },
  );
</script></body></html>`;

/** The service worker: reports every request it intercepts (URL and Authorization), then lets it through. */
const SERVICE_WORKER = `
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  const seen = { url: event.request.url, authorization: event.request.headers.get('authorization') };
  event.waitUntil(fetch('/report', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(seen) }));
  event.respondWith(fetch(event.request));
});
`;

function isolationConfig(originUrl: string): ConfigInput {
  return {
    pools: [{ id: 'web', origins: [{ name: 'site', address: originUrl }] }],
    load_balancers: [{ id: 'all', hostname: '*', default_pools: ['web'] }],
  };
}

/** A request to the Worker on loopback, with the Host header a browser would send for `host`. */
function requestAs(port: number, host: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET', headers: { host: `${host}:${port}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!chromiumThere)('the admin host, isolated from balanced pages, in Chromium', () => {
  const seen: Seen[] = [];
  const pageErrors: string[] = [];
  let origin: Server | undefined;
  let persist: string | undefined;
  let worker: Worker | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let port: number;

  beforeAll(async () => {
    origin = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://origin').pathname;
      if (req.method === 'POST' && path === '/report') {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          seen.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Seen);
          res.writeHead(204).end();
        });
        return;
      }
      if (path === '/sw.js') {
        res.writeHead(200, { 'content-type': 'application/javascript', 'cache-control': 'no-store' }).end(SERVICE_WORKER);
      } else if (path === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(PAGE);
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`origin saw ${path}`);
      }
    });
    await new Promise<void>((resolve) => origin!.listen(0, '127.0.0.1', resolve));
    const originPort = (origin.address() as { port: number }).port;

    persist = mkdtempSync(join(tmpdir(), 'switchyard-isolation-'));
    worker = await startDevWorker({
      persist,
      secrets: { ADMIN_TOKEN: TOKEN },
      vars: {
        ADMIN_HOSTNAME: ADMIN_HOST,
        LB_CONFIG: JSON.stringify(isolationConfig(`http://127.0.0.1:${originPort}`)),
      },
    });
    await worker.ready;
    port = Number(new URL(await worker.url).port);

    browser = await launchChromium([
        `--host-resolver-rules=MAP ${APP_HOST} 127.0.0.1, MAP ${ADMIN_HOST} 127.0.0.1`,
        `--unsafely-treat-insecure-origin-as-secure=http://${APP_HOST}:${port},http://${ADMIN_HOST}:${port}`,
    ]);
    context = await browser.newContext();
    context.setDefaultTimeout(15_000);
    context.on('page', (page) => page.on('pageerror', (error) => pageErrors.push(error.message)));
  });

  afterAll(async () => {
    const steps = [
      () => browser?.close(),
      () => worker?.dispose(),
      () => (origin === undefined ? undefined : new Promise<void>((resolve) => origin!.close(() => resolve()))),
    ];
    for (const step of steps) await step()?.catch((error: unknown) => console.error('isolation test cleanup:', error));
    if (persist !== undefined) rmSync(persist, { recursive: true, force: true });
  });

  it('lets a balanced page register a service worker that sees its own requests', async () => {
    const page = await context.newPage();
    await page.goto(`http://${APP_HOST}:${port}/`);
    expect(await page.title()).toBe('balanced site');
    await page.evaluate(() => (globalThis as unknown as BrowserGlobal).navigator.serviceWorker.ready.then(() => undefined));
    await expect.poll(() => page.locator('#state').textContent()).toBe('active');

    // The worker now controls the page: a request the page makes goes through it.
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as BrowserGlobal).navigator.serviceWorker.controller !== null)).toBe(true);
    expect(await page.evaluate(() => fetch('/probe').then((r) => r.text()))).toBe('origin saw /probe');
    await expect.poll(() => seen.map((s) => new URL(s.url).pathname)).toContain('/probe');
    expect(seen.every((s) => new URL(s.url).host === `${APP_HOST}:${port}`)).toBe(true);
  });

  it('signs in to the dashboard on the admin host without sending anything through that service worker', async () => {
    const before = seen.length;
    const page = await context.newPage();
    await page.goto(`http://${ADMIN_HOST}:${port}/__lb/`);
    await page.getByTestId('token-input').fill(TOKEN);
    await page.getByTestId('token-submit').click();
    await page.getByTestId('origin-web-site').waitFor();
    expect(await page.getByTestId('token-form').isVisible()).toBe(false);
    // Let the dashboard refresh at least once more, then ask the balanced page's worker once more.
    await page.waitForTimeout(1_500);

    // The balanced origin's service worker still works, and the report channel is still open...
    const app = context.pages()[0];
    expect(await app.evaluate(() => fetch('/after').then((r) => r.text()))).toBe('origin saw /after');
    await expect.poll(() => seen.map((s) => new URL(s.url).pathname)).toContain('/after');
    // ...but it saw nothing from the dashboard: no admin path, no token, no admin host.
    const sinceSignIn = seen.slice(before);
    expect(sinceSignIn.map((s) => new URL(s.url).pathname)).toEqual(['/after']);
    for (const s of seen) {
      expect(new URL(s.url).pathname.startsWith('/__lb')).toBe(false);
      expect(new URL(s.url).hostname).not.toBe(ADMIN_HOST);
      expect(s.authorization).toBeNull();
    }
    expect(pageErrors).toEqual([]);
  });

  it('answers the admin API only on the admin host, even with the right token', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const balanced = await requestAs(port, APP_HOST, '/__lb/api/config', auth);
    expect(balanced.status).toBe(404);
    expect(JSON.parse(balanced.body).error.code).toBe('not_found');
    expect((await requestAs(port, APP_HOST, '/__lb/', auth)).status).toBe(404);
    expect((await requestAs(port, APP_HOST, '/__lb/metrics', auth)).status).toBe(404);

    const admin = await requestAs(port, ADMIN_HOST, '/__lb/api/config', auth);
    expect(admin.status).toBe(200);
    expect(JSON.parse(admin.body).config.pools[0].id).toBe('web');
    // The admin host proxies nothing.
    expect((await requestAs(port, ADMIN_HOST, '/', auth)).status).toBe(404);

    // And from the balanced page itself, in the browser: 404 too.
    const app = context.pages()[0];
    const fromPage = await app.evaluate(
      (token) => fetch('/__lb/api/config', { headers: { authorization: `Bearer ${token}` } }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error: { code: string } } })),
      TOKEN,
    );
    expect(fromPage.status).toBe(404);
    expect(fromPage.body.error.code).toBe('not_found');
  });
});
