import { describe, expect, it } from 'vitest';
import { admin, configure, lb, startOrigin } from '../support/worker';

// Seed 001's traffic control through the Worker, against real origins: static and API
// apart on one hostname, rule order, the search abuse held off by a rate limit per
// client, and photos redirected to the storage node their id hashes to (SPEC §9).

/** A client address no earlier run of this file has used, so rate limit windows start empty. */
function freshIp(): string {
  const byte = () => Math.floor(Math.random() * 254) + 1;
  return `10.${byte()}.${byte()}.${byte()}`;
}

async function poolOf(res: Response): Promise<string | null> {
  await res.arrayBuffer();
  return res.headers.get('x-lb-pool');
}

describe('static and API apart, and the order of rules', () => {
  it('sends /static/* and /api/* to their pools on one hostname; priority orders the rules, terminates stops them, a disabled rule is skipped', async () => {
    const [web, statics, api, search] = await Promise.all([startOrigin('web'), startOrigin('static'), startOrigin('api'), startOrigin('search')]);
    await configure({
      pools: [
        { id: 'web', origins: [{ name: 'web', address: web.url }] },
        { id: 'static', origins: [{ name: 'static', address: statics.url }] },
        { id: 'api', origins: [{ name: 'api', address: api.url }] },
        { id: 'search', origins: [{ name: 'search', address: search.url }] },
      ],
      load_balancers: [
        {
          id: 'site',
          hostname: 'www.example.test',
          default_pools: ['web'],
          rules: [
            // Listed first, tried last: its priority is the highest number.
            { name: 'late', priority: 30, condition: 'http.request.uri.path wildcard "/api/*"', overrides: { default_pools: ['web'] } },
            { name: 'static', priority: 10, condition: 'starts_with(http.request.uri.path, "/static/")', overrides: { default_pools: ['static'] } },
            { name: 'api', priority: 20, terminates: true, condition: 'http.request.uri.path wildcard "/api/*"', overrides: { default_pools: ['api'] } },
            { name: 'off', priority: 0, disabled: true, condition: 'true', overrides: { default_pools: ['search'] } },
          ],
        },
      ],
    });
    const host = 'www.example.test';
    expect(await poolOf(await lb('/static/app.css', { host }))).toBe('static');
    expect(await poolOf(await lb('/api/items', { host }))).toBe('api');
    expect(await poolOf(await lb('/index.html', { host }))).toBe('web');
    expect(await search.log()).toEqual([]);

    const explained = (await (await admin('GET', `/explain?host=${host}&path=/api/items`)).json()) as { rules: string[]; trace: string[] };
    expect(explained.rules).toEqual(['api']);
    expect(explained.trace).toEqual(expect.arrayContaining(['rule static: no match', 'rule api: matched; overrides default_pools; terminates']));
    expect(explained.trace.join('\n')).not.toContain('rule late');
    expect(explained.trace.join('\n')).not.toContain('rule off');

    // Without terminates the later rule (priority 30) is tried too, and its override wins.
    const stored = (await (await admin('GET', '/load_balancers/site')).json()) as { load_balancer: Record<string, unknown> & { rules: Record<string, unknown>[] } };
    const rules = stored.load_balancer.rules.map((rule) => (rule.name === 'api' ? { ...rule, terminates: false } : rule));
    const put = await admin('PUT', '/load_balancers/site', { ...stored.load_balancer, rules });
    expect(put.status).toBe(200);
    expect(await poolOf(await lb('/api/items', { host }))).toBe('web');
  });
});

describe('rate_limit: seed 001 search abuse', () => {
  it('answers 429 rate_limited with Retry-After to the client hammering search, beyond the binding limit, and to no one else', async () => {
    const [statics, api] = await Promise.all([startOrigin('static'), startOrigin('api')]);
    await configure({
      pools: [
        { id: 'static', origins: [{ name: 'static', address: statics.url }] },
        { id: 'api', origins: [{ name: 'api', address: api.url }] },
      ],
      load_balancers: [
        {
          id: 'site',
          hostname: '*',
          default_pools: ['static'],
          rules: [
            { name: 'api', condition: 'starts_with(http.request.uri.path, "/api/")', overrides: { default_pools: ['api'] } },
            { name: 'search', condition: 'http.request.uri.path eq "/api/search"', overrides: { rate_limit: { binding: 'SEARCH_LIMIT', key: 'ip', period: 10 } } },
          ],
        },
      ],
    });
    const breeder = freshIp();
    const visitor = freshIp();
    const started = Date.now();
    const searches: Response[] = [];
    const visits: Response[] = [];
    // The breeder: 200 searches, 10 at a time, as fast as they are answered. The visitor
    // loads the stylesheet all the while.
    const hammer = (async () => {
      for (let round = 0; round < 20; round++) {
        searches.push(
          ...(await Promise.all(Array.from({ length: 10 }, (_, i) => lb(`/api/search?q=dogs${round * 10 + i}`, { headers: { 'x-lb-sim-ip': breeder } })))),
        );
      }
    })();
    const browse = (async () => {
      for (let i = 0; i < 40; i++) visits.push(await lb('/static/app.css', { headers: { 'x-lb-sim-ip': visitor } }));
    })();
    await Promise.all([hammer, browse]);
    const windows = Math.ceil((Date.now() - started) / 10_000) + 1;

    const statuses = await Promise.all(searches.map(async (res) => ({ status: res.status, retry: res.headers.get('retry-after'), body: await res.text() })));
    // SEARCH_LIMIT (wrangler.toml) allows 20 per 10 s window: the first 20 pass, and no
    // more than 20 per window the run touched.
    expect(statuses.slice(0, 20).every((s) => s.status === 200)).toBe(true);
    const passed = statuses.filter((s) => s.status === 200).length;
    expect(passed).toBeLessThanOrEqual(20 * windows);
    const limited = statuses.filter((s) => s.status === 429);
    expect(limited.length).toBe(200 - passed);
    expect(limited.length).toBeGreaterThanOrEqual(200 - 20 * windows);
    for (const s of limited) {
      expect(s.retry).toBe('10');
      expect(JSON.parse(s.body)).toMatchObject({ error: { code: 'rate_limited' } });
    }
    // The visitor saw no 429, and the static pool served every visit.
    for (const res of visits) {
      expect(res.status).toBe(200);
      expect(res.headers.get('x-lb-pool')).toBe('static');
      await res.arrayBuffer();
    }
    expect(await api.log()).toHaveLength(passed);

    // Another client's first search still passes: the count is per client.
    const other = await lb('/api/search?q=cats', { headers: { 'x-lb-sim-ip': freshIp() } });
    expect(other.status).toBe(200);
    await other.arrayBuffer();
  });

  it('counts by header when told to, falling back to the client address when the header is missing', async () => {
    const api = await startOrigin('api');
    await configure({
      pools: [{ id: 'api', origins: [{ name: 'api', address: api.url }] }],
      load_balancers: [
        {
          id: 'keyed',
          hostname: '*',
          default_pools: ['api'],
          rules: [{ name: 'per-token', condition: 'true', overrides: { rate_limit: { binding: 'SEARCH_LIMIT', key: 'header:x-api-token', period: 10 } } }],
        },
      ],
    });
    const token = `t-${Math.random()}`;
    const ip = freshIp();
    const statuses: number[] = [];
    // One token from many addresses is one key: refused once past the limit (a window
    // that turns over meanwhile starts the count again, so the loop may need 20 more).
    for (let i = 0; i < 60 && !statuses.includes(429); i++) {
      const res = await lb('/api/x', { headers: { 'x-api-token': token, 'x-lb-sim-ip': freshIp() } });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.slice(0, -1).every((s) => s === 200)).toBe(true);
    // Without the header, the client's address is the key: a fresh one passes.
    const bare = await lb('/api/x', { headers: { 'x-lb-sim-ip': ip } });
    expect(bare.status).toBe(200);
    await bare.arrayBuffer();
  });

  it('counts with every matching rule: a later rule keyed on a header the client rotates does not lift an earlier per-client limit', async () => {
    const api = await startOrigin('api');
    await configure({
      pools: [{ id: 'api', origins: [{ name: 'api', address: api.url }] }],
      load_balancers: [
        {
          id: 'layered',
          hostname: '*',
          default_pools: ['api'],
          rules: [
            { name: 'per-client', condition: 'true', overrides: { rate_limit: { binding: 'SEARCH_LIMIT', key: 'ip', period: 10 } } },
            { name: 'per-key', condition: 'http.request.uri.path eq "/api/search"', overrides: { rate_limit: { binding: 'SEARCH_LIMIT', key: 'header:x-key', period: 10 } } },
          ],
        },
      ],
    });
    // The condition sees the path as Cloudflare normalises it: both rules match these.
    const explained = (await (await admin('GET', '/explain?host=app.test&path=/api//%73earch')).json()) as { rules: string[]; rate_limits: { key: string }[] };
    expect(explained.rules).toEqual(['per-client', 'per-key']);
    expect(explained.rate_limits.map((l) => l.key)).toEqual(['client IP', 'header x-key']);

    const ip = freshIp();
    const statuses: number[] = [];
    for (let i = 0; i < 60 && !statuses.includes(429); i++) {
      const res = await lb('/api/search', { headers: { 'x-lb-sim-ip': ip, 'x-key': `rotated-${i}-${Math.random()}` } });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.at(-1)).toBe(429);
  });

  it('lets traffic through a rule naming a binding the Worker does not have, and warns unknown_binding', async () => {
    const api = await startOrigin('api');
    const res = await admin('PUT', '/config', {
      pools: [{ id: 'api', origins: [{ name: 'api', address: api.url }] }],
      load_balancers: [
        {
          id: 'typo',
          hostname: '*',
          default_pools: ['api'],
          rules: [{ name: 'search', condition: 'true', overrides: { rate_limit: { binding: 'SERCH_LIMIT', key: 'ip' } } }],
        },
      ],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { warnings: { path: string; code: string; message: string }[] };
    expect(body.warnings.filter((w) => w.code === 'unknown_binding')).toEqual([
      expect.objectContaining({ path: 'load_balancers.0.rules.0.overrides.rate_limit.binding', code: 'unknown_binding', message: expect.stringContaining('SERCH_LIMIT') }),
    ]);
    const ip = freshIp();
    for (let i = 0; i < 30; i++) {
      const served = await lb('/api/search', { headers: { 'x-lb-sim-ip': ip } });
      expect(served.status).toBe(200);
      await served.arrayBuffer();
    }
  });
});

describe('redirect steering: photos on storage nodes', () => {
  const nodes = ['node1', 'node2', 'node3', 'node4'];
  let origins: Awaited<ReturnType<typeof startOrigin>>[] = [];

  async function storage(redirect: Record<string, unknown>, publicUrls = true) {
    origins = await Promise.all(nodes.map((name) => startOrigin(name)));
    return admin('PUT', '/config', {
      pools: [
        { id: 'web', origins: [{ name: 'web', address: 'web.invalid' }] },
        {
          id: 'photos',
          origin_steering: { policy: 'hash', hash_key: 'path' },
          origins: nodes.map((name, i) => ({
            name,
            address: origins[i]!.url,
            ...(publicUrls || i < 3 ? { public_url: `https://${name}.photos.example/store` } : {}),
          })),
        },
      ],
      load_balancers: [
        {
          id: 'site',
          hostname: '*',
          default_pools: ['web'],
          rules: [{ name: 'photos', condition: 'starts_with(http.request.uri.path, "/photos/")', overrides: { default_pools: ['photos'], redirect } }],
        },
      ],
    });
  }

  it('answers POST /photos/123 with 307 to the node its id hashes to, every time, asking no origin', async () => {
    expect((await storage({ status_code: 307 })).status).toBe(200);
    const locations = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const res = await lb('/photos/123?size=large', { method: 'POST', body: 'new caption', redirect: 'manual' });
      expect(res.status).toBe(307);
      locations.add(res.headers.get('location')!);
    }
    expect(locations.size).toBe(1);
    const [location] = [...locations];
    expect(location).toMatch(/^https:\/\/node\d\.photos\.example\/store\/photos\/123\?size=large$/);

    // Other ids spread over the nodes; each keeps its own.
    const byId = new Map<number, string>();
    for (let id = 0; id < 40; id++) {
      const res = await lb(`/photos/${id}`, { redirect: 'manual' });
      expect(res.status).toBe(307);
      byId.set(id, new URL(res.headers.get('location')!).hostname);
    }
    expect(new Set(byId.values()).size).toBeGreaterThanOrEqual(3);
    for (const [id, host] of byId) {
      const again = await lb(`/photos/${id}`, { redirect: 'manual' });
      expect(new URL(again.headers.get('location')!).hostname).toBe(host);
    }

    const explained = (await (await admin('GET', '/explain?host=app.test&path=/photos/123%3Fsize%3Dlarge&method=POST')).json()) as {
      redirect: { status_code: number; location: string } | null;
    };
    expect(explained.redirect).toEqual({ status_code: 307, location });
    // No origin was asked for any of it.
    for (const node of origins) expect(await node.log()).toEqual([]);
  });

  it('a rule that can redirect to an origin without public_url is 400 invalid_config at the redirect', async () => {
    const res = await storage({ status_code: 308 }, false);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; issues: { path: string; message: string }[] } };
    expect(body.error.code).toBe('invalid_config');
    expect(body.error.issues).toEqual([
      expect.objectContaining({ path: 'load_balancers.0.rules.0.overrides.redirect', message: expect.stringContaining('photos/node4') }),
    ]);
  });

  it("PATCH moves an origin's public_url, and refuses to take away one a redirect needs", async () => {
    expect((await storage({})).status).toBe(200);
    const moved = await admin('PATCH', '/pools/photos/origins/node2', { public_url: 'https://new-node2.photos.example' });
    expect(moved.status).toBe(200);
    const seen = new Set<string>();
    for (let id = 0; id < 40; id++) seen.add(new URL((await lb(`/photos/${id}`, { redirect: 'manual' })).headers.get('location')!).hostname);
    expect(seen).toContain('new-node2.photos.example');
    expect(seen).not.toContain('node2.photos.example');

    const taken = await admin('PATCH', '/pools/photos/origins/node3', { public_url: '' });
    expect(taken.status).toBe(400);
    const body = (await taken.json()) as { error: { code: string; issues: { path: string; message: string }[] } };
    expect(body.error.code).toBe('invalid_config');
    expect(body.error.issues[0]).toMatchObject({ path: 'load_balancers.0.rules.0.overrides.redirect', message: expect.stringContaining('photos/node3') });
  });

  it('a later rule that can send a redirected request to a pool without public_url is refused; one after a terminating redirect is not', async () => {
    const body = (terminates: boolean) => ({
      pools: [
        { id: 'photos', origins: [{ name: 'n1', address: 'n1.invalid', public_url: 'https://n1.photos.example' }] },
        { id: 'web', origins: [{ name: 'w1', address: 'w1.invalid' }] },
      ],
      load_balancers: [
        {
          id: 'site',
          hostname: '*',
          default_pools: ['photos'],
          rules: [
            { name: 'redir', priority: 0, terminates, condition: 'starts_with(http.request.uri.path, "/photos/")', overrides: { redirect: {} } },
            { name: 'private', priority: 1, condition: 'starts_with(http.request.uri.path, "/photos/private/")', overrides: { default_pools: ['web'] } },
          ],
        },
      ],
    });
    const refused = await admin('PUT', '/config', body(false));
    expect(refused.status).toBe(400);
    const error = ((await refused.json()) as { error: { issues: { path: string; message: string }[] } }).error;
    expect(error.issues).toEqual([expect.objectContaining({ path: 'load_balancers.0.rules.0.overrides.redirect', message: expect.stringContaining('web/w1') })]);
    expect((await admin('PUT', '/config', body(true))).status).toBe(200);
    const res = await lb('/photos/private/1', { redirect: 'manual' });
    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toBe('https://n1.photos.example/photos/private/1');
    // Where it points follows health and configuration: no cache may keep it.
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('a client pinned where no rule applied is redirected by the rule all the same, not answered 503: a pin to a pool the rule never steers to is not honoured', async () => {
    const [web, photo] = await Promise.all([startOrigin('pinned-web'), startOrigin('pinned-photo')]);
    const doc = (failover: 'sticky' | 'temporary' | 'none') => ({
      pools: [
        { id: 'web', origins: [{ name: 'web', address: web.url }] },
        { id: 'photos', origins: [{ name: 'n1', address: photo.url, public_url: 'https://n1.photos.example' }] },
      ],
      load_balancers: [
        {
          id: 'site',
          hostname: '*',
          default_pools: ['web'],
          expose_headers: false,
          session_affinity: 'cookie' as const,
          session_affinity_attributes: { zero_downtime_failover: failover },
          rules: [{ name: 'photos', condition: 'starts_with(http.request.uri.path, "/photos/")', overrides: { default_pools: ['photos'], redirect: {} } }],
        },
      ],
    });
    for (const failover of ['sticky', 'temporary', 'none'] as const) {
      await configure(doc(failover));
      const home = await lb('/');
      expect(home.status).toBe(200);
      await home.arrayBuffer();
      const cookie = home.headers.get('set-cookie')!.split(';')[0];
      expect(cookie).toMatch(/^__lb_affinity=/);

      const res = await lb('/photos/1', { headers: { cookie }, redirect: 'manual' });
      expect(res.status).toBe(307);
      expect(res.headers.get('location')).toBe('https://n1.photos.example/photos/1');
      // The pin still holds where the rule does not apply.
      const back = await lb('/', { headers: { cookie } });
      expect(back.status).toBe(200);
      await back.arrayBuffer();
    }
    expect(await photo.log()).toEqual([]);
  });

  it('refuses a status that is not a redirect', async () => {
    const res = await storage({ status_code: 200 });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { issues: { path: string }[] } };
    expect(body.error.issues.map((i) => i.path)).toEqual(['load_balancers.0.rules.0.overrides.redirect.status_code']);
  });
});
