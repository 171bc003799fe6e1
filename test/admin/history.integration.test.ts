import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema';
import type { Env } from '../../src/env';
import { admin, configure, lb, startOrigin } from '../support/worker';

// SPEC §5 and §7: the last 50 configuration versions are kept, any of them can be made
// current again, and a damaged stored configuration is never served or built upon.

const testEnv = env as Env;
const controlStub = () => testEnv.CONTROL.get(testEnv.CONTROL.idFromName('control'));

const doc = (weight: number, address = 'https://a.example.com'): ConfigInput => ({
  pools: [{ id: 'hist', origins: [{ name: 'a', address, weight }] }],
  load_balancers: [{ id: 'main', hostname: '*', default_pools: ['hist'] }],
});

async function json<T>(res: Response): Promise<T> {
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return (await res.json()) as T;
}

interface Versions {
  versions: { version: number; at: string; actor: string; summary: string }[];
}

describe('versions and rollback', () => {
  it('three PUTs, then a rollback to the first: the first configuration is current, as a new version, and an event names the actor and both versions', async () => {
    const first = await configure(doc(1));
    await configure(doc(2));
    const third = await configure(doc(3));
    const before = await json<{ config: unknown }>(await admin('GET', `/config/versions/${first}`));

    const rolled = await json<{ version: number; restored: number; warnings: unknown[] }>(await admin('POST', '/config/rollback', { version: first }, { 'user-agent': 'ops-cli' }));
    expect(rolled.version).toBe(third + 1);
    expect(rolled.restored).toBe(first);
    const now = await json<{ version: number; config: unknown }>(await admin('GET', '/config'));
    expect(now.version).toBe(third + 1);
    expect(now.config).toEqual(before.config);

    const { events } = await json<{ events: { message: string; detail: { actor: string; action: string; from: { version: number }; to: { version: number; restored: number } } }[] }>(
      await admin('GET', '/events?kind=config&limit=1'),
    );
    expect(events[0].detail).toMatchObject({ action: 'rollback', from: { version: third }, to: { version: third + 1, restored: first } });
    expect(events[0].detail.actor).toContain('ops-cli');
    const { versions } = await json<Versions>(await admin('GET', '/config/versions'));
    expect(versions[0]).toMatchObject({ version: third + 1, summary: `rollback to version ${first}` });
    expect(versions[0].actor).toContain('ops-cli');
  });

  it('keeps the last 50 versions', async () => {
    let last = 0;
    for (let i = 0; i < 51; i++) last = await configure(doc(i + 1));
    const { versions } = await json<Versions>(await admin('GET', '/config/versions'));
    expect(versions).toHaveLength(50);
    expect(versions[0].version).toBe(last);
    expect(versions[49].version).toBe(last - 49);
    expect((await admin('GET', `/config/versions/${last - 50}`)).status).toBe(404);
    const rollback = await admin('POST', '/config/rollback', { version: last - 50 });
    expect(rollback.status).toBe(404);
    expect((await json<{ version: number }>(await admin('GET', '/config'))).version).toBe(last);
  });

  it('refuses a rollback body that is not a version number, and changes nothing', async () => {
    const version = await configure(doc(1));
    for (const body of [{}, { version: 'x' }, { version: 1, extra: true }]) {
      expect((await admin('POST', '/config/rollback', body)).status).toBe(400);
    }
    expect((await json<{ version: number }>(await admin('GET', '/config'))).version).toBe(version);
  });
});

describe('a damaged stored configuration (SPEC §5)', () => {
  it.each([
    ['truncated JSON', (good: string) => good.slice(0, good.length / 2)],
    ['pools: 5', () => JSON.stringify({ pools: 5 })],
    ['a dangling reference', () => JSON.stringify({ pools: [], load_balancers: [{ id: 'main', hostname: '*', default_pools: ['nope'] }] })],
    ['an unknown field', (good: string) => JSON.stringify({ ...JSON.parse(good), colour: 'blue' })],
    ['an empty string', () => ''],
  ])('%s: the newest valid version is served, every admin route works, and a storage event says so', async (_what, damage) => {
    const a = await startOrigin('survivor');
    const good = doc(1, a.url);
    const version = await configure(good);
    await runInDurableObject(controlStub(), async (_instance, state) => {
      const row = state.storage.sql.exec<{ value: string }>("SELECT value FROM state WHERE key = 'config'").one();
      state.storage.sql.exec("UPDATE state SET value = ? WHERE key = 'config'", damage(row.value));
    });

    const health = await admin('GET', '/health');
    expect(health.status).toBe(200);
    const stored = await json<{ version: number; config: { pools: { origins: { address: string }[] }[] } }>(await admin('GET', '/config'));
    expect(stored.version).toBe(version + 1);
    expect(stored.config.pools[0].origins[0].address).toBe(a.url);
    const { events } = await json<{ events: { kind: string; message: string }[] }>(await admin('GET', '/events?kind=storage&limit=1'));
    expect(events[0].message).toContain(`version ${version} restored`);

    expect((await admin('PATCH', '/pools/hist/origins/a', { weight: 3 })).status).toBe(200);
    expect((await admin('POST', '/health/check')).status).toBe(200);
    const res = await lb('/');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Response from survivor');
    expect((await admin('PUT', '/config', doc(2, a.url))).status).toBe(200);
  });
});

describe('a store from before the version history', () => {
  it('keeps its configuration as the first kept version', async () => {
    const version = await configure(doc(4));
    await runInDurableObject(controlStub(), async (_instance, state) => {
      state.storage.sql.exec('DELETE FROM versions');
    });
    const { versions } = await json<Versions>(await admin('GET', '/config/versions'));
    expect(versions).toEqual([expect.objectContaining({ version, actor: 'migration' })]);
  });

  it('damaged with nothing valid kept: the document is set aside, never deleted, and KV goes on serving the last snapshot', async () => {
    const a = await startOrigin('kept-serving');
    await configure(doc(1, a.url));
    const published = await testEnv.SNAPSHOTS.get('snapshot');
    await runInDurableObject(controlStub(), async (_instance, state) => {
      state.storage.sql.exec('DELETE FROM versions');
      state.storage.sql.exec("UPDATE state SET value = '{\"pools\":5}' WHERE key = 'config'");
    });
    const stored = await json<{ config: unknown }>(await admin('GET', '/config'));
    expect(stored.config).toBeNull();
    const { events } = await json<{ events: { message: string }[] }>(await admin('GET', '/events?kind=storage&limit=1'));
    expect(events[0].message).toContain('no valid earlier version');
    expect(await testEnv.SNAPSHOTS.get('snapshot')).toBe(published);
    await runInDurableObject(controlStub(), async (_instance, state) => {
      expect(JSON.parse(state.storage.sql.exec<{ value: string }>("SELECT value FROM state WHERE key = 'config_damaged'").one().value)).toBe('{"pools":5}');
    });
    // A valid configuration ends it.
    expect((await admin('PUT', '/config', doc(2, a.url))).status).toBe(200);
    expect((await lb('/')).status).toBe(200);
  });
});
