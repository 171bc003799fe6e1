import { beforeEach, describe, expect, it } from 'vitest';
import { admin, configure } from '../support/worker';

// The resource routes of SPEC §7 against the real Durable Object and KV.

interface ErrorBody {
  error: { code: string; message: string; issues?: { path: string; message: string }[] };
}

const base = () => ({
  monitors: [{ id: 'root', path: '/health' }],
  pools: [
    { id: 'eu', monitor: 'root', origins: [{ name: 'e1', address: 'http://127.0.0.1:9' }, { name: 'e2', address: 'http://127.0.0.1:10' }] },
    { id: 'us', origins: [{ name: 'u1', address: 'http://127.0.0.1:11' }] },
    { id: 'spare', origins: [{ name: 's1', address: 'http://127.0.0.1:12' }] },
  ],
  load_balancers: [{ id: 'main', hostname: '*', default_pools: ['eu'], fallback_pool: 'us' }],
});

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

async function storedConfig(): Promise<{ version: number; config: ReturnType<typeof base> }> {
  return json(await admin('GET', '/config'));
}

/** Asserts a refused call: status, error code, and a configuration left exactly as it was. */
async function expectRefused(call: () => Promise<Response>, status: number, code: string): Promise<ErrorBody['error']> {
  const before = await storedConfig();
  const res = await call();
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = await json<ErrorBody>(res);
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(await storedConfig()).toEqual(before);
  return body.error;
}

beforeEach(async () => {
  await configure(base());
});

describe('pools', () => {
  it('lists, creates, gets, replaces and deletes, each change bumping the version', async () => {
    const { version } = await storedConfig();
    const list = await json<{ version: number; pools: { id: string }[] }>(await admin('GET', '/pools'));
    expect(list.pools.map((p) => p.id)).toEqual(['eu', 'us', 'spare']);

    const created = await admin('POST', '/pools', { id: 'ap', origins: [{ name: 'a1', address: '127.0.0.1:13' }] });
    expect(created.status).toBe(201);
    const body = await json<{ version: number; pool: { id: string; enabled: boolean; origins: { weight: number }[] } }>(created);
    expect(body.version).toBe(version + 1);
    // Stored with defaults filled in.
    expect(body.pool).toMatchObject({ id: 'ap', enabled: true, origins: [{ weight: 1 }] });
    expect(created.headers.get('etag')).toMatch(/^"r[0-9a-f]{16}"$/);

    const got = await admin('GET', '/pools/ap');
    expect(got.status).toBe(200);
    expect(got.headers.get('etag')).toBe(created.headers.get('etag'));

    // PUT takes the id from the path when the body leaves it out.
    const replaced = await admin('PUT', '/pools/ap', { origins: [{ name: 'a2', address: '127.0.0.1:14', weight: 3 }] });
    expect(replaced.status).toBe(200);
    expect((await json<{ pool: { origins: { name: string; weight: number }[] } }>(replaced)).pool.origins).toEqual([
      expect.objectContaining({ name: 'a2', weight: 3 }),
    ]);
    expect(replaced.headers.get('etag')).not.toBe(created.headers.get('etag'));

    const deleted = await admin('DELETE', '/pools/ap');
    expect(deleted.status).toBe(200);
    expect((await json<{ version: number }>(deleted)).version).toBe(version + 3);
    expect((await admin('GET', '/pools/ap')).status).toBe(404);
  });

  it('refuses to delete a pool a load balancer uses (409 in_use, naming where) and changes nothing', async () => {
    const error = await expectRefused(() => admin('DELETE', '/pools/us'), 409, 'in_use');
    expect(error.message).toContain('main (fallback_pool)');
  });

  it('refuses a duplicate id, a renaming PUT, and unknown ids', async () => {
    await expectRefused(() => admin('POST', '/pools', { id: 'eu', origins: [{ name: 'x', address: '127.0.0.1:1' }] }), 409, 'already_exists');
    await expectRefused(() => admin('PUT', '/pools/eu', { id: 'renamed', origins: [{ name: 'x', address: '127.0.0.1:1' }] }), 400, 'id_mismatch');
    await expectRefused(() => admin('PUT', '/pools/nope', { origins: [{ name: 'x', address: '127.0.0.1:1' }] }), 404, 'not_found');
    await expectRefused(() => admin('DELETE', '/pools/nope'), 404, 'not_found');
    const res = await admin('GET', '/pools/nope');
    expect(res.status).toBe(404);
    expect((await json<ErrorBody>(res)).error.code).toBe('not_found');
  });

  it('reports a dangling monitor reference relative to the pool', async () => {
    const error = await expectRefused(
      () => admin('POST', '/pools', { id: 'ap', monitor: 'missing', origins: [{ name: 'a1', address: '127.0.0.1:13' }] }),
      400,
      'invalid_config',
    );
    expect(error.issues).toContainEqual({ path: 'monitor', message: 'unknown monitor "missing"' });
  });

  it('validates the body against the pool schema with field paths', async () => {
    const error = await expectRefused(
      () => admin('POST', '/pools', { id: 'ap', origins: [{ name: 'a1', address: 'ftp://x', weight: -2 }] }),
      400,
      'invalid_config',
    );
    expect(error.issues?.map((i) => i.path)).toEqual(expect.arrayContaining(['origins.0.address', 'origins.0.weight']));
  });
});

describe('monitors and load balancers', () => {
  it('manages monitors, refusing to delete one a pool uses', async () => {
    const created = await admin('POST', '/monitors', { id: 'deep', path: '/deep', expected_codes: '200' });
    expect(created.status).toBe(201);
    expect((await json<{ monitor: { interval: number } }>(created)).monitor.interval).toBe(60);
    expect((await json<{ monitors: { id: string }[] }>(await admin('GET', '/monitors'))).monitors.map((m) => m.id)).toEqual(['root', 'deep']);
    const replaced = await admin('PUT', '/monitors/deep', { path: '/deeper', interval: 10 });
    expect((await json<{ monitor: { path: string; interval: number } }>(replaced)).monitor).toMatchObject({ path: '/deeper', interval: 10 });
    expect((await admin('DELETE', '/monitors/deep')).status).toBe(200);
    const error = await expectRefused(() => admin('DELETE', '/monitors/root'), 409, 'in_use');
    expect(error.message).toContain('pool eu');
  });

  it('manages load balancers, checking pool references and hostnames', async () => {
    const created = await admin('POST', '/load_balancers', { id: 'api', hostname: 'API.example.com', default_pools: ['us', 'eu'] });
    expect(created.status).toBe(201);
    expect((await json<{ load_balancer: { hostname: string } }>(created)).load_balancer.hostname).toBe('api.example.com');
    const dangling = await expectRefused(
      () => admin('PUT', '/load_balancers/api', { hostname: 'api.example.com', default_pools: ['us', 'gone'] }),
      400,
      'invalid_config',
    );
    expect(dangling.issues).toContainEqual({ path: 'default_pools.1', message: 'unknown pool "gone"' });
    const clash = await expectRefused(
      () => admin('POST', '/load_balancers', { id: 'dup', hostname: 'api.example.com', default_pools: ['us'] }),
      400,
      'invalid_config',
    );
    expect(clash.issues?.[0]?.path).toBe('hostname');
    expect((await admin('DELETE', '/load_balancers/api')).status).toBe(200);
    // With the load balancer gone, its pool may go too.
    expect((await admin('DELETE', '/pools/spare')).status).toBe(200);
  });
});

describe('origins', () => {
  it('adds, patches each run-time field, and removes an origin', async () => {
    const added = await admin('POST', '/pools/us/origins', { name: 'u2', address: 'http://127.0.0.1:15' });
    expect(added.status).toBe(201);
    for (const patch of [{ weight: 5 }, { enabled: false }, { drain: true }, { backup: true }, { address: '127.0.0.1:16' }, { header: { Host: ['u2.internal'] } }]) {
      const res = await admin('PATCH', '/pools/us/origins/u2', patch);
      expect(res.status).toBe(200);
      expect((await json<{ origin: Record<string, unknown> }>(res)).origin).toMatchObject(patch);
    }
    const got = await json<{ origin: Record<string, unknown> }>(await admin('GET', '/pools/us/origins/u2'));
    expect(got.origin).toEqual({
      name: 'u2',
      address: '127.0.0.1:16',
      weight: 5,
      enabled: false,
      drain: true,
      backup: true,
      header: { Host: ['u2.internal'] },
      network: '',
    });
    expect((await admin('DELETE', '/pools/us/origins/u2')).status).toBe(200);
    expect((await json<{ origins: { name: string }[] }>(await admin('GET', '/pools/us/origins'))).origins.map((o) => o.name)).toEqual(['u1']);
  });

  it('refuses bad patches, unknown origins, duplicates and removing the last origin', async () => {
    const weight = await expectRefused(() => admin('PATCH', '/pools/eu/origins/e1', { weight: -1 }), 400, 'invalid_config');
    expect(weight.issues?.[0]?.path).toBe('weight');
    await expectRefused(() => admin('PATCH', '/pools/eu/origins/e1', {}), 400, 'invalid_config');
    await expectRefused(() => admin('PATCH', '/pools/eu/origins/e1', { name: 'renamed' }), 400, 'invalid_config');
    await expectRefused(() => admin('PATCH', '/pools/eu/origins/nope', { weight: 2 }), 404, 'not_found');
    await expectRefused(() => admin('PATCH', '/pools/nope/origins/e1', { weight: 2 }), 404, 'not_found');
    await expectRefused(() => admin('POST', '/pools/eu/origins', { name: 'e1', address: '127.0.0.1:1' }), 409, 'already_exists');
    await expectRefused(() => admin('DELETE', '/pools/us/origins/u1'), 409, 'in_use');
  });

  it('a PATCH that changes nothing keeps the version and records no event', async () => {
    const { version } = await storedConfig();
    const res = await admin('PATCH', '/pools/eu/origins/e1', { weight: 1 });
    expect(res.status).toBe(200);
    expect((await json<{ version: number }>(res)).version).toBe(version);
    const events = await json<{ events: { detail: { version?: number } }[] }>(await admin('GET', '/events?limit=1'));
    expect(events.events[0]?.detail.version).toBe(version);
  });
});

describe('concurrency', () => {
  it('applies twenty concurrent PATCHes to twenty origins, none lost', async () => {
    const origins = Array.from({ length: 20 }, (_, i) => ({ name: `o${i}`, address: `http://127.0.0.1:${2000 + i}` }));
    await configure({ pools: [{ id: 'big', origins }], load_balancers: [{ id: 'main', hostname: '*', default_pools: ['big'] }] });
    const { version } = await storedConfig();

    const results = await Promise.all(origins.map((o, i) => admin('PATCH', `/pools/big/origins/${o.name}`, { weight: i + 2 })));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const versions = await Promise.all(results.map((r) => json<{ version: number }>(r).then((b) => b.version)));
    expect(new Set(versions).size).toBe(20);

    const after = await storedConfig();
    expect(after.version).toBe(version + 20);
    const weights = (after.config.pools[0]!.origins as unknown as { weight: number }[]).map((o) => o.weight);
    expect(weights).toEqual(origins.map((_, i) => i + 2));
  });

  it('honours If-Match with the resource ETag: a stale tag gets 412 and changes nothing', async () => {
    const read = await admin('GET', '/pools/eu/origins/e1');
    const tag = read.headers.get('etag')!;
    const first = await admin('PATCH', '/pools/eu/origins/e1', { weight: 4 }, { 'if-match': tag });
    expect(first.status).toBe(200);
    const error = await expectRefused(() => admin('PATCH', '/pools/eu/origins/e1', { weight: 9 }, { 'if-match': tag }), 412, 'version_mismatch');
    expect(error.message).toContain('If-Match');
    // The new tag works; a change to another origin does not invalidate it.
    const fresh = first.headers.get('etag')!;
    expect((await admin('PATCH', '/pools/eu/origins/e2', { weight: 2 })).status).toBe(200);
    expect((await admin('PATCH', '/pools/eu/origins/e1', { weight: 9 }, { 'if-match': fresh })).status).toBe(200);
  });

  it('honours If-Match with a configuration version on resources and on the config', async () => {
    const { version } = await storedConfig();
    await expectRefused(() => admin('DELETE', '/pools/spare', undefined, { 'if-match': `"${version - 1}"` }), 412, 'version_mismatch');
    await expectRefused(() => admin('PUT', '/config', base(), { 'if-match': `"${version - 1}"` }), 412, 'version_mismatch');
    await expectRefused(() => admin('PATCH', '/pools/eu/origins/e1', { weight: 2 }, { 'if-match': 'not a tag' }), 400, 'invalid_if_match');
    const res = await admin('PUT', '/pools/spare', { origins: [{ name: 's1', address: '127.0.0.1:12' }] }, { 'if-match': `"${version}"` });
    expect(res.status).toBe(200);
  });
});

describe('events', () => {
  it('lists admin changes newest first with what changed, from what, to what and when', async () => {
    await admin('PATCH', '/pools/eu/origins/e1', { weight: 3, drain: true });
    await admin('DELETE', '/pools/spare');
    const { events } = await json<{ events: { at: string; kind: string; message: string; detail: Record<string, unknown> }[] }>(
      await admin('GET', '/events?limit=2&kind=config'),
    );
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ kind: 'config', message: expect.stringContaining('pool spare deleted') });
    expect(events[0]!.detail).toMatchObject({ resource: 'pool', id: 'spare', action: 'delete', to: null, from: { id: 'spare' } });
    expect(events[1]!.detail).toMatchObject({
      resource: 'origin',
      id: 'eu/e1',
      action: 'patch',
      from: { weight: 1, drain: false },
      to: { weight: 3, drain: true },
      actor: expect.stringContaining('admin-api'),
    });
    expect(events[1]!.message).toBe(`origin eu/e1 changed: weight 1 -> 3, drain false -> true (version ${events[1]!.detail.version})`);
    expect(Date.parse(events[0]!.at)).toBeGreaterThanOrEqual(Date.parse(events[1]!.at));
  });

  it('rejects a bad limit or kind with 400', async () => {
    for (const query of ['limit=0', 'limit=5000', 'limit=abc', 'kind=nope']) {
      const res = await admin('GET', `/events?${query}`);
      expect(res.status, query).toBe(400);
      expect((await json<ErrorBody>(res)).error.code).toBe('invalid_request');
    }
  });
});
