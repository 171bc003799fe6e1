import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import worker from '../../src/index';
import { ADMIN_TOKEN, configure, startOrigin } from '../support/worker';

// SPEC §7: the admin API, metrics and dashboard answer only on the admin host, and that
// host serves nothing else. A page of a balanced origin must never share a browser
// origin with the dashboard, or its scripts could read the admin token.

async function send(url: string, withEnv: Env, headers: Record<string, string> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(url, { headers }), withEnv, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const codeOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

describe('the admin host (ADMIN_HOSTNAME)', () => {
  it('serves the admin only on its own host, and proxies nothing there, not even for a "*" load balancer', async () => {
    const a = await startOrigin('behind-star');
    await configure({ pools: [{ id: 'star', origins: [{ name: 'a', address: a.url }] }], load_balancers: [{ id: 'main', hostname: '*', default_pools: ['star'] }] });
    const withAdminHost = { ...(env as Env), ADMIN_HOSTNAME: 'Admin.Test' };

    expect((await send('http://admin.test./anything', withAdminHost)).status).toBe(404);
    expect((await send('http://admin.test./__lb/api/config', withAdminHost, auth)).status).toBe(200);
    const anything = await send('http://admin.test/anything', withAdminHost);
    expect(anything.status).toBe(404);
    expect(await codeOf(anything)).toBe('not_found');
    expect((await send('http://admin.test/__lb/api/config', withAdminHost, auth)).status).toBe(200);
    const dashboard = await send('http://admin.test/__lb/', withAdminHost);
    expect(dashboard.status).toBe(200);
    expect(dashboard.headers.get('x-frame-options')).toBe('DENY');

    // Elsewhere every /__lb/ path is 404 with a valid token, percent-encoded or not; the
    // load balancer still serves, and /__lb/healthz still answers.
    for (const path of ['/__lb/api/config', '/%5F%5Flb/api/config', '/__lb/metrics', '/__lb/']) {
      const res = await send(`http://app.test${path}`, withAdminHost, auth);
      expect(res.status, path).toBe(404);
      expect(await codeOf(res), path).toBe('not_found');
    }
    expect((await send('http://localhost/__lb/api/config', withAdminHost, auth)).status).toBe(404);
    expect((await send('http://app.test/__lb/healthz', withAdminHost)).status).toBe(200);
    const proxied = await send('http://app.test/page', withAdminHost);
    expect(proxied.status).toBe(200);
    expect((await a.log()).map((r) => r.url)).toEqual(['/page']);
  });

  it('without ADMIN_HOSTNAME, answers on loopback names only', async () => {
    const plain = env as Env;
    expect((await send('http://localhost/__lb/api/config', plain, auth)).status).toBe(200);
    expect((await send('http://127.0.0.1:8787/__lb/api/config', plain, auth)).status).toBe(200);
    expect((await send('http://[::1]/__lb/api/config', plain, auth)).status).toBe(200);
    const elsewhere = await send('http://app.test/__lb/api/config', plain, auth);
    expect(elsewhere.status).toBe(404);
    expect(await codeOf(elsewhere)).toBe('not_found');
  });
});
