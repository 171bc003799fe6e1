// Requests only a real HTTP client can send, to the built Worker on workerd itself
// (Miniflare, and so wrangler dev, drops a GET body before the Worker sees it; workerd
// and Cloudflare hand it over), with node:http as the client (a Request cannot even be
// built with a GET body inside workerd).
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Origin } from '../../scripts/lib/origins.mjs';
import { buildSwitchyard, startWorkerd } from '../../scripts/lib/workerd.mjs';

const TOKEN = 'http-test-token';
let origin: Origin;
let worker: { url: string; stop(): void };
let work: string;
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

function send(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    // node:http sends a GET's body without framing unless told its length.
    const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const req = request(new URL(path, worker.url), { method, agent, headers: { host: 'app.example.com', ...length, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  origin = await new Origin({ name: 'client-body' }).start();
  work = mkdtempSync(join(tmpdir(), 'switchyard-http-test-'));
  const config = {
    pools: [{ id: 'p', origins: [{ name: 'only', address: origin.url }] }],
    load_balancers: [{ id: 'main', hostname: '*', default_pools: ['p'], passive_health: { max_fails: 1, fail_timeout: 60, max_ejection_percent: 100 } }],
  };
  worker = await startWorkerd({
    dir: join(work, 'workerd'),
    scriptPath: buildSwitchyard(join(work, 'build')),
    bindings: { ADMIN_TOKEN: TOKEN, LB_CONFIG: JSON.stringify(config), SNAPSHOT_TTL_MS: '60000' },
    switchyard: true,
    ready: { path: '/__lb/healthz' },
  });
}, 120_000);

afterAll(async () => {
  agent.destroy();
  worker?.stop();
  await origin?.stop();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('a GET or HEAD with a body (SPEC §3, §8)', () => {
  it('100 GETs with a body from one client: 100 × 400 body_not_allowed, no origin hit, no ejection', async () => {
    const answers = [];
    for (let i = 0; i < 100; i++) answers.push(await send('GET', `/search?q=${i}`, 'x'));
    expect(answers.map((a) => a.status)).toEqual(Array(100).fill(400));
    for (const a of answers.slice(0, 3)) expect(JSON.parse(a.body).error.code).toBe('body_not_allowed');
    const head = await send('HEAD', '/', 'x');
    expect(head.status).toBe(400);
    expect(origin.log).toHaveLength(0);

    // The origin was never charged: with max_fails 1 a single charge would have ejected it.
    const stats = JSON.parse((await send('GET', '/__lb/api/stats', undefined, { host: 'localhost', authorization: `Bearer ${TOKEN}` })).body);
    const only = stats.origins.find((o: { origin: string }) => o.origin === 'only');
    expect(only).toMatchObject({ failures: 0, ejections: 0 });
    const ok = await send('GET', '/after');
    expect(ok.status).toBe(200);
    expect(ok.headers['x-lb-attempts']).toBe('1');
    expect(ok.body).toContain('Response from client-body');
  });

  it('a GET with an empty body (Content-Length: 0) is an ordinary GET', async () => {
    const res = await send('GET', '/empty', '', { 'content-length': '0' });
    expect(res.status).toBe(200);
  });
});
