import { describe, expect, it } from 'vitest';
import { admin, configure, lb, startOrigin } from '../support/worker';

// Load balancer rules (SPEC §9) through the Worker, against real origins.

describe('load balancer rules', () => {
  it('sends /api/* to another pool and everything else to the default pools', async () => {
    const [web, api] = await Promise.all([startOrigin('web'), startOrigin('api')]);
    await configure({
      pools: [
        { id: 'web', origins: [{ name: 'web', address: web.url }] },
        { id: 'api', origins: [{ name: 'api', address: api.url }] },
      ],
      load_balancers: [
        {
          id: 'main',
          hostname: '*',
          default_pools: ['web'],
          rules: [{ name: 'api', condition: 'http.request.uri.path wildcard "/api/*"', overrides: { default_pools: ['api'] } }],
        },
      ],
    });
    await api.clearLog();
    await web.clearLog();

    const toApi = await lb('/api/items?x=1');
    expect(toApi.status).toBe(200);
    expect(await toApi.text()).toContain('Response from api');
    expect(toApi.headers.get('x-lb-pool')).toBe('api');

    const toWeb = await lb('/index.html');
    expect(toWeb.status).toBe(200);
    expect(await toWeb.text()).toContain('Response from web');

    expect((await api.log()).map((e) => new URL(e.url, 'http://x').pathname)).toEqual(['/api/items']);
    expect((await web.log()).map((e) => new URL(e.url, 'http://x').pathname)).toEqual(['/index.html']);

    const explained = await admin('GET', '/explain?host=app.test&path=/api/items');
    expect(explained.status).toBe(200);
    const body = (await explained.json()) as { rules: string[]; trace: string[] };
    expect(body.rules).toEqual(['api']);
    expect(body.trace).toContain('rule api: matched; overrides default_pools');
  });

  it('answers a fixed response without asking any origin', async () => {
    const origin = await startOrigin('untouched');
    await configure({
      pools: [{ id: 'p', origins: [{ name: 'untouched', address: origin.url }] }],
      load_balancers: [
        {
          id: 'main',
          hostname: '*',
          default_pools: ['p'],
          rules: [
            {
              name: 'maintenance',
              condition: 'http.request.uri.path eq "/down" or http.request.headers["x-maintenance"] eq "on"',
              fixed_response: { status_code: 503, content_type: 'text/plain', message_body: 'back soon', location: 'https://status.example/' },
            },
          ],
        },
      ],
    });
    await origin.clearLog();

    for (const init of [{ path: '/down' }, { path: '/other', headers: { 'x-maintenance': 'on' } }]) {
      const res = await lb(init.path, { headers: init.headers });
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toBe('text/plain');
      expect(res.headers.get('location')).toBe('https://status.example/');
      expect(await res.text()).toBe('back soon');
    }
    expect(await origin.log()).toEqual([]);

    const served = await lb('/up');
    expect(served.status).toBe(200);
    await served.text();
    expect(await origin.log()).toHaveLength(1);
  });

  it('refuses a condition that does not compile with 400 invalid_config, the path and the column', async () => {
    const res = await admin('PUT', '/config', {
      pools: [{ id: 'p', origins: [{ name: 'o', address: '127.0.0.1:1' }] }],
      load_balancers: [
        {
          id: 'main',
          hostname: '*',
          default_pools: ['p'],
          rules: [
            { name: 'good', condition: 'http.host eq "a"' },
            { name: 'bad', condition: 'http.host eq "a" and' },
          ],
        },
      ],
    });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; issues: { path: string; message: string }[] } };
    expect(error.code).toBe('invalid_config');
    expect(error.issues.map((i) => i.path)).toEqual(['load_balancers.0.rules.1.condition']);
    expect(error.issues[0]!.message).toMatch(/column 21\b/);
  });

  it("reads a simulated client's continent from its country", async () => {
    const [world, europe] = await Promise.all([startOrigin('world'), startOrigin('europe')]);
    await configure({
      pools: [
        { id: 'world', origins: [{ name: 'world', address: world.url }] },
        { id: 'europe', origins: [{ name: 'europe', address: europe.url }] },
      ],
      load_balancers: [
        { id: 'main', hostname: '*', default_pools: ['world'], rules: [{ name: 'eu', condition: 'ip.src.continent eq "EU"', overrides: { default_pools: ['europe'] } }] },
      ],
    });
    for (const [country, pool] of [['DE', 'europe'], ['RU', 'europe'], ['JP', 'world'], ['BR', 'world']] as const) {
      const res = await lb('/', { headers: { 'x-lb-sim-country': country } });
      await res.arrayBuffer();
      expect([country, res.headers.get('x-lb-pool')]).toEqual([country, pool]);
    }
  });

  it('answers a request crafted against a backtracking pattern at once: matches runs in linear time', async () => {
    const origin = await startOrigin('plain');
    await configure({
      pools: [{ id: 'p', origins: [{ name: 'plain', address: origin.url }] }],
      load_balancers: [
        {
          id: 'main',
          hostname: '*',
          default_pools: ['p'],
          rules: [
            { name: 'evil-path', condition: 'http.request.uri.path matches "^/(a+)+$"', fixed_response: { status_code: 403 } },
            { name: 'evil-header', condition: 'http.request.headers["x-q"] matches "(x+x+)+y"', fixed_response: { status_code: 403 } },
          ],
        },
      ],
    });
    // A backtracking engine needs about 2^n steps for these: hours at n = 40, and
    // the header is 8,000 characters long.
    const started = Date.now();
    const path = await lb(`/${'a'.repeat(40)}!`);
    const header = await lb('/', { headers: { 'x-q': 'x'.repeat(8000) } });
    const elapsed = Date.now() - started;
    expect([path.status, header.status]).toEqual([200, 200]);
    await Promise.all([path.arrayBuffer(), header.arrayBuffer()]);
    expect(elapsed).toBeLessThan(2000);
  });
});
