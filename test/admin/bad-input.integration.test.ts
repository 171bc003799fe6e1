import { beforeEach, describe, expect, it } from 'vitest';
import { admin, configure, lb } from '../support/worker';

// SPEC §8's bad-input table, row by row, for every admin route that takes input.
// Each refusal answers in the error shape and leaves the stored state as it was.

const base = () => ({
  monitors: [{ id: 'root' }],
  pools: [
    { id: 'eu', monitor: 'root', origins: [{ name: 'e1', address: 'http://127.0.0.1:9' }, { name: 'e2', address: 'http://127.0.0.1:10' }] },
    { id: 'us', origins: [{ name: 'u1', address: 'http://127.0.0.1:11' }] },
  ],
  load_balancers: [{ id: 'main', hostname: '*', default_pools: ['eu', 'us'] }],
});

/** Routes that take a JSON body, with a valid body and one with a schema violation at a known path. */
const BODY_ROUTES: { route: string; valid: unknown; invalid: unknown; path: string }[] = [
  { route: 'PUT /config', valid: base(), invalid: { ...base(), pools: [{ id: 'eu', origins: [] }] }, path: 'pools.0.origins' },
  { route: 'POST /pools', valid: { id: 'ap', origins: [{ name: 'a', address: '127.0.0.1:1' }] }, invalid: { id: 'ap', origins: [{ name: 'a', address: '127.0.0.1:1', weight: 'heavy' }] }, path: 'origins.0.weight' },
  { route: 'PUT /pools/us', valid: { origins: [{ name: 'u1', address: '127.0.0.1:1' }] }, invalid: { origins: [{ name: 'u1', address: '' }] }, path: 'origins.0.address' },
  { route: 'POST /pools/us/origins', valid: { name: 'u2', address: '127.0.0.1:2' }, invalid: { name: 'U 2', address: '127.0.0.1:2' }, path: 'name' },
  { route: 'PUT /pools/us/origins/u1', valid: { address: '127.0.0.1:3' }, invalid: { address: '127.0.0.1:3', enabled: 'yes' }, path: 'enabled' },
  { route: 'PATCH /pools/eu/origins/e1', valid: { weight: 2 }, invalid: { weight: -1 }, path: 'weight' },
  { route: 'POST /monitors', valid: { id: 'deep' }, invalid: { id: 'deep', interval: 1 }, path: 'interval' },
  { route: 'PUT /monitors/root', valid: { path: '/ok' }, invalid: { path: 'no-slash' }, path: 'path' },
  { route: 'POST /load_balancers', valid: { id: 'api', hostname: 'api.test', default_pools: ['us'] }, invalid: { id: 'api', hostname: 'api.test', default_pools: [] }, path: 'default_pools' },
  { route: 'PUT /load_balancers/main', valid: { hostname: '*', default_pools: ['us'] }, invalid: { hostname: '*', default_pools: ['us'], retries: 99 }, path: 'retries' },
  { route: 'PUT /pops/FRA', valid: { withdrawn: true }, invalid: { withdrawn: 1 }, path: 'withdrawn' },
  { route: 'POST /import/cloudflare', valid: { pools: [] }, invalid: 7, path: '' },
];

/** Routes whose body can name something that does not exist. */
const DANGLING: { route: string; body: unknown; path: string }[] = [
  { route: 'PUT /config', body: { ...base(), load_balancers: [{ id: 'main', hostname: '*', default_pools: ['nowhere'] }] }, path: 'load_balancers.0.default_pools.0' },
  { route: 'POST /pools', body: { id: 'ap', monitor: 'nowhere', origins: [{ name: 'a', address: '127.0.0.1:1' }] }, path: 'monitor' },
  { route: 'PUT /pools/eu', body: { monitor: 'nowhere', origins: [{ name: 'e1', address: '127.0.0.1:1' }] }, path: 'monitor' },
  { route: 'POST /load_balancers', body: { id: 'api', hostname: 'api.test', default_pools: ['us'], fallback_pool: 'nowhere' }, path: 'fallback_pool' },
  { route: 'PUT /load_balancers/main', body: { hostname: '*', default_pools: ['us'], country_pools: { BR: ['nowhere'] } }, path: 'country_pools.BR.0' },
];

/** Routes that change something and honour If-Match. */
const GUARDED: { route: string; body?: unknown }[] = [
  { route: 'PUT /config', body: base() },
  { route: 'PUT /pools/us', body: { origins: [{ name: 'u1', address: '127.0.0.1:1' }] } },
  { route: 'DELETE /load_balancers/main' },
  { route: 'POST /pools/us/origins', body: { name: 'u2', address: '127.0.0.1:2' } },
  { route: 'PATCH /pools/eu/origins/e1', body: { weight: 2 } },
  { route: 'DELETE /pools/eu/origins/e2' },
  { route: 'PUT /load_balancers/main', body: { hostname: '*', default_pools: ['us'] } },
];

const split = (route: string) => route.split(' ') as [string, string];

async function state(): Promise<string> {
  const config = await (await admin('GET', '/config')).text();
  const pops = (await (await admin('GET', '/pops')).json()) as { pops: { colo: string; withdrawn: boolean }[] };
  return config + JSON.stringify(pops.pops.filter((p) => p.withdrawn));
}

async function refused(res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as { error: { code: string; message: string; issues?: { path: string; message: string }[] } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.message).not.toBe('');
  return body.error;
}

beforeEach(async () => {
  await configure(base());
  await admin('PUT', '/pops/FRA', { withdrawn: false });
});

describe('row: body not JSON -> 400 with issues or invalid_json, nothing changed', () => {
  it.each(BODY_ROUTES)('$route', async ({ route }) => {
    const [method, path] = split(route);
    const before = await state();
    for (const [body, type] of [
      ['{"truncated": ', 'application/json'],
      ['not json at all', 'application/json'],
      ['{}', 'text/plain'],
      ['', 'application/json'],
    ] as const) {
      const error = await refused(await admin(method, path, body, { 'content-type': type }), 400);
      expect(error.code).toBe('invalid_json');
    }
    expect(await state()).toBe(before);
  });
});

describe('row: schema violation -> 400 with issues naming the field, nothing changed', () => {
  it.each(BODY_ROUTES)('$route', async ({ route, invalid, path: field }) => {
    const [method, path] = split(route);
    const before = await state();
    const error = await refused(await admin(method, path, invalid), 400);
    expect(error.code).toMatch(/^invalid_(config|request|import)$/);
    if (field !== '') expect(error.issues?.map((i) => i.path)).toContain(field);
    // An unknown field is a violation too (typos are errors, not ignored settings).
    if (typeof invalid === 'object' && route !== 'POST /import/cloudflare') {
      const unknown = await admin(method, path, { ...(BODY_ROUTES.find((r) => r.route === route)!.valid as object), colour: 'blue' });
      expect((await refused(unknown, 400)).issues?.[0]?.message).toMatch(/colour/);
    }
    expect(await state()).toBe(before);
  });
});

describe('an own "__proto__" key is refused like any unknown key, nothing changed', () => {
  /** The code a route gives a bad body: configuration routes say invalid_config, the others invalid_request. */
  const bodyCode = (route: string) => (/ \/(pops|import)\//.test(route) ? 'invalid_request' : 'invalid_config');
  /** `text` (a JSON object) with `key` as its first member. */
  const withFirst = (text: string, key: string, value = '{"polluted":true}') => `{"${key}":${value}${text === '{}' ? '' : `,${text.slice(1)}`}`;

  it.each(BODY_ROUTES)('$route', async ({ route, valid }) => {
    const [method, path] = split(route);
    const text = JSON.stringify(valid);
    const before = await state();
    // Plain, escaped as JSON allows (it parses to the same key), and beside "constructor".
    for (const key of ['__proto__', '\\u005f_proto__', '__pr\\u006Fto__']) {
      const error = await refused(await admin(method, path, withFirst(text, key)), 400);
      expect(error.code, key).toBe(bodyCode(route));
      expect(error.issues, key).toContainEqual({ path: '__proto__', message: expect.stringMatching(/__proto__/) });
    }
    if (route !== 'POST /import/cloudflare') {
      const constructor = await refused(await admin(method, path, withFirst(text, 'constructor')), 400);
      expect(constructor.code).toBe(bodyCode(route));
    }
    expect(await state()).toBe(before);
    // The same body without it is taken.
    expect((await admin(method, path, text)).status).toBeLessThan(300);
  });

  it('deep in a configuration, in an object or a map, with the path of the key', async () => {
    const before = await state();
    const config = base();
    const text = JSON.stringify({
      ...config,
      pools: [{ ...config.pools[0], origins: [{ ...config.pools[0]!.origins[0], header: { Host: ['a.test'] } }] }, config.pools[1]],
      load_balancers: [{ ...config.load_balancers[0], request_headers: { 'x-a': '1' } }],
    })
      .replace('"header":{', '"header":{"__proto__":["x"],')
      .replace('"request_headers":{', '"request_headers":{"\\u005f\\u005fproto__":"x",')
      .replace('"origins":[{', '"origins":[{"__proto__":{"weight":5},');
    const error = await refused(await admin('PUT', '/config', text), 400);
    expect(error.code).toBe('invalid_config');
    expect(error.issues?.map((i) => i.path)).toEqual([
      'pools.0.origins.0.__proto__',
      'pools.0.origins.0.header.__proto__',
      'load_balancers.0.request_headers.__proto__',
    ]);
    expect(await state()).toBe(before);
    // A value spelled "__proto__" is only a string.
    const named = base();
    named.pools[1]!.origins[0]!.name = 'proto';
    expect((await admin('PUT', '/config', JSON.stringify(named).replace('"name":"proto"', '"name":"proto","header":{"x-note":["__proto__"]}'))).status).toBe(200);
  });

  it('a body nested 400,000 deep is looked through without a 500', async () => {
    const before = await state();
    const deep = `{"__proto__":${'['.repeat(400_000)}"\\u0041"${']'.repeat(400_000)}}`;
    const error = await refused(await admin('PUT', '/config', deep), 400);
    expect(error.issues?.map((i) => i.path)).toContain('__proto__');
    expect(await state()).toBe(before);
  });
});

describe('row: dangling reference -> 400 with issues, nothing changed', () => {
  it.each(DANGLING)('$route', async ({ route, body, path: field }) => {
    const [method, path] = split(route);
    const before = await state();
    const error = await refused(await admin(method, path, body), 400);
    expect(error.code).toBe('invalid_config');
    expect(error.issues).toContainEqual({ path: field, message: expect.stringMatching(/^unknown (pool|monitor) "nowhere"$/) });
    expect(await state()).toBe(before);
  });
});

describe('row: stale If-Match -> 412, nothing changed', () => {
  it.each(GUARDED)('$route', async ({ route, body }) => {
    const [method, path] = split(route);
    const { version } = (await (await admin('GET', '/config')).json()) as { version: number };
    const before = await state();
    expect((await refused(await admin(method, path, body, { 'if-match': `"${version - 1}"` }), 412)).code).toBe('version_mismatch');
    if (route !== 'PUT /config') {
      expect((await refused(await admin(method, path, body, { 'if-match': '"r0123456789abcdef"' }), 412)).code).toBe('version_mismatch');
    }
    expect(await state()).toBe(before);
    // The current version is accepted.
    expect((await admin(method, path, body, { 'if-match': `"${version}"` })).status).toBeLessThan(300);
  });
});

describe('row: body over 1 MiB -> 413, nothing changed', () => {
  it.each(BODY_ROUTES)('$route', async ({ route, valid }) => {
    const [method, path] = split(route);
    const before = await state();
    const huge = JSON.stringify(typeof valid === 'object' && valid !== null ? { ...valid, padding: 'x'.repeat(1024 * 1024) } : 'x'.repeat(1024 * 1024 + 1));
    expect((await refused(await admin(method, path, huge), 413)).code).toBe('payload_too_large');
    expect(await state()).toBe(before);
  });
});

describe('row: unknown path under /__lb/ -> 404 JSON', () => {
  // GET /__lb/ is the dashboard; every other method there is unknown.
  it.each(['/__lb/nope', '/__lb/api', '/__lb/api/', '/__lb/api/nope', '/__lb/api/pools/eu/nope', '/__lb/api/config/x'])(
    '%s',
    async (path) => {
      for (const method of ['GET', 'POST', 'DELETE']) {
        const res = await lb(path, { method, headers: { authorization: 'Bearer test-admin-token' } });
        expect((await refused(res, 404)).code).toBe('not_found');
      }
    },
  );
});

describe('row: unknown ids -> 404 JSON, nothing changed', () => {
  it.each([
    'GET /pools/nope',
    'DELETE /pools/nope',
    'GET /monitors/nope',
    'DELETE /monitors/nope',
    'GET /load_balancers/nope',
    'DELETE /load_balancers/nope',
    'GET /pools/nope/origins',
    'GET /pools/eu/origins/nope',
    'DELETE /pools/eu/origins/nope',
  ])('%s', async (route) => {
    const [method, path] = split(route);
    const before = await state();
    expect((await refused(await admin(method, path), 404)).code).toBe('not_found');
    expect(await state()).toBe(before);
  });
});
