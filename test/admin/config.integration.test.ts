import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../../src/index';
import type { Env } from '../../src/env';
import { admin, configure, lb, startOrigin } from '../support/worker';

const valid = (address: string) => ({
  pools: [{ id: 'cfg', origins: [{ name: 'a', address }, { name: 'b', address, weight: 2 }] }],
  load_balancers: [{ id: 'main', hostname: '*', default_pools: ['cfg'] }],
});

async function storedVersion(): Promise<number> {
  const res = await admin('GET', '/config');
  expect(res.status).toBe(200);
  return ((await res.json()) as { version: number }).version;
}

async function errorOf(res: Response) {
  return ((await res.json()) as { error: { code: string; message: string; issues?: { path: string; message: string }[] } }).error;
}

describe('GET and PUT /__lb/api/config', () => {
  it('replaces the configuration, bumps the version and returns it with an ETag', async () => {
    const before = await storedVersion();
    const version = await configure(valid('http://127.0.0.1:9'));
    expect(version).toBe(before + 1);
    const res = await admin('GET', '/config');
    expect(res.headers.get('etag')).toBe(`"${version}"`);
    const body = (await res.json()) as { version: number; config: { pools: { origins: { weight: number; enabled: boolean }[] }[] } };
    expect(body.version).toBe(version);
    // Defaults are filled in.
    expect(body.config.pools[0].origins[0]).toMatchObject({ weight: 1, enabled: true });
  });

  it('rejects a bad weight with 400, the field path, and no change', async () => {
    await configure(valid('http://127.0.0.1:9'));
    const before = await storedVersion();
    const bad = valid('http://127.0.0.1:9');
    (bad.pools[0].origins[1] as { weight: number }).weight = -1;
    const res = await admin('PUT', '/config', bad);
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe('invalid_config');
    expect(error.issues).toContainEqual(expect.objectContaining({ path: 'pools.0.origins.1.weight' }));
    expect(await storedVersion()).toBe(before);
  });

  it('rejects a dangling pool reference and unknown fields', async () => {
    const before = await storedVersion();
    const dangling = { ...valid('http://127.0.0.1:9'), load_balancers: [{ id: 'main', hostname: '*', default_pools: ['cfg', 'nope'] }] };
    const res = await admin('PUT', '/config', dangling);
    expect(res.status).toBe(400);
    expect((await errorOf(res)).issues).toContainEqual(expect.objectContaining({ path: 'load_balancers.0.default_pools.1' }));
    const unknown = await admin('PUT', '/config', { ...valid('http://127.0.0.1:9'), colour: 'blue' });
    expect(unknown.status).toBe(400);
    expect(await storedVersion()).toBe(before);
  });

  it('answers 400 invalid_json for a body that is not JSON', async () => {
    const before = await storedVersion();
    const res = await admin('PUT', '/config', '{"pools": [', {});
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('invalid_json');
    const plain = await lb('/__lb/api/config', {
      method: 'PUT',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(plain.status).toBe(400);
    expect((await errorOf(plain)).code).toBe('invalid_json');
    expect(await storedVersion()).toBe(before);
  });

  it('answers 412 version_mismatch on a stale If-Match and applies a current one', async () => {
    const version = await configure(valid('http://127.0.0.1:9'));
    const stale = await admin('PUT', '/config', valid('http://127.0.0.1:10'), { 'if-match': `"${version - 1}"` });
    expect(stale.status).toBe(412);
    expect((await errorOf(stale)).code).toBe('version_mismatch');
    expect(await storedVersion()).toBe(version);
    const current = await admin('PUT', '/config', valid('http://127.0.0.1:10'), { 'if-match': `"${version}"` });
    expect(current.status).toBe(200);
    expect(await storedVersion()).toBe(version + 1);
  });

  it('answers 413 for a body over 1 MiB', async () => {
    const before = await storedVersion();
    const huge = JSON.stringify({ pools: [], padding: 'x'.repeat(1024 * 1024) });
    const res = await admin('PUT', '/config', huge);
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe('payload_too_large');
    expect(await storedVersion()).toBe(before);
  });

  it('a change is seen by the next request at once', async () => {
    const [a, b] = await Promise.all([startOrigin('before'), startOrigin('after')]);
    await configure({ pools: [{ id: 'chg', origins: [{ name: 'x', address: a.url }] }], load_balancers: [{ id: 'main', hostname: '*', default_pools: ['chg'] }] });
    expect(await (await lb('/')).text()).toContain('before');
    await configure({ pools: [{ id: 'chg', origins: [{ name: 'x', address: b.url }] }], load_balancers: [{ id: 'main', hostname: '*', default_pools: ['chg'] }] });
    expect(await (await lb('/')).text()).toContain('after');
  });
});

describe('admin authentication', () => {
  it('401 with WWW-Authenticate without a token or with a wrong one', async () => {
    const missing = await lb('/__lb/api/config');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await errorOf(missing)).code).toBe('unauthorized');
    const wrong = await lb('/__lb/api/config', { headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const malformed = await lb('/__lb/api/config', { headers: { authorization: 'Basic abc' } });
    expect(malformed.status).toBe(401);
  });

  it('a PUT without a token changes nothing', async () => {
    const before = await storedVersion();
    const res = await lb('/__lb/api/config', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(await storedVersion()).toBe(before);
  });

  /** Calls the Worker with ADMIN_TOKEN set to `token`. */
  async function withToken(token: string, path: string, headers: Record<string, string> = {}): Promise<Response> {
    const ctx = createExecutionContext();
    const res = await worker.fetch(new Request(`http://localhost${path}`, { headers }), { ...(env as Env), ADMIN_TOKEN: token } as Env, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  }

  it('any printable-ASCII token without spaces signs in, whatever the scheme case; a wrong or malformed one is 401', async () => {
    const token = 'p@ss:w0rd!$#%^&*()"\\\'<>,;[]{}|`~?';
    for (const authorization of [`Bearer ${token}`, `bearer ${token}`, `BEARER  ${token}`]) {
      const res = await withToken(token, '/__lb/api/config', { authorization });
      expect(res.status, authorization).toBe(200);
    }
    // The dashboard's own call: `authorization: 'Bearer ' + token`, the token as typed.
    expect((await withToken(token, '/__lb/api/pops', { authorization: 'Bearer ' + token })).status).toBe(200);
    expect((await withToken(token, '/__lb/metrics', { authorization: `Bearer ${token}` })).status).toBe(200);

    for (const authorization of [`Bearer ${token}x`, `Bearer ${token.slice(0, -1)}`, 'Bearer p@ss:w0rd!$', `Bearer ${token.toUpperCase()}`]) {
      const res = await withToken(token, '/__lb/api/config', { authorization });
      expect(res.status, authorization).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="switchyard", error="invalid_token"');
      expect((await errorOf(res)).code).toBe('unauthorized');
    }
    for (const authorization of [`Basic ${token}`, `Bearer${token}`, `Bearer ${token} extra`, `Bearer ${token}, Bearer ${token}`, 'Bearer', `Bearer t\tst`]) {
      const res = await withToken(token, '/__lb/api/config', { authorization });
      expect(res.status, authorization).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="switchyard", error="invalid_request"');
      expect((await errorOf(res)).message).toMatch(/^malformed Authorization header/);
    }
    const missing = await withToken(token, '/__lb/api/config');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="switchyard"');
  });

  it.each([
    ['two words', /a space or other whitespace inside it/],
    ['trailing-newline\n', /leading or trailing whitespace/],
    ['bell\x07', /a control character/],
    ['caf\u00e9', /a non-ASCII character/],
  ])('an ADMIN_TOKEN no header can carry (%j): 503 admin_disabled saying why, proxying unaffected', async (token, why) => {
    const res = await withToken(token, '/__lb/api/config', { authorization: 'Bearer two' });
    expect(res.status).toBe(503);
    const error = await errorOf(res);
    expect(error.code).toBe('admin_disabled');
    expect(error.message).toMatch(why);
    expect(error.message).toMatch(/printable ASCII without spaces/);
    expect(error.message).not.toContain(token.trim());
    expect((await withToken(token, '/__lb/healthz')).status).toBe(200);
  });

  it('503 admin_disabled without ADMIN_TOKEN, while proxying keeps working', async () => {
    const a = await startOrigin('no-admin');
    await configure({ pools: [{ id: 'noadm', origins: [{ name: 'x', address: a.url }] }], load_balancers: [{ id: 'main', hostname: '*', default_pools: ['noadm'] }] });
    const withoutToken = { ...(env as Env), ADMIN_TOKEN: undefined } as Env;
    const call = async (path: string, headers: Record<string, string> = {}) => {
      const ctx = createExecutionContext();
      const res = await worker.fetch(new Request(`http://localhost${path}`, { headers }), withoutToken, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };
    const res = await call('/__lb/api/config', { authorization: 'Bearer test-admin-token' });
    expect(res.status).toBe(503);
    expect((await errorOf(res)).code).toBe('admin_disabled');
    const proxied = await call('/');
    expect(proxied.status).toBe(200);
    expect((await call('/__lb/healthz')).status).toBe(200);
  });
});
