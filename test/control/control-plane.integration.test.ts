import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi, type MockInstance } from 'vitest';
import type { Config } from '../../src/config/schema';
import type { ControlPlane } from '../../src/control/control-plane';
import { seedState } from '../../src/control/changes';
import { changed, republish, unchanged, unpublished } from '../../src/control/mutation';
import type { Snapshot } from '../../src/control/snapshot';
import type { Loaded } from '../../src/control/snapshot-cache';
import type { LbError } from '../../src/errors';
import { steer } from '../../src/proxy/steer';
import { MAX_VERSIONS, type StateStore } from '../../src/control/store';
import type { Env } from '../../src/env';
import { loadBalancer, pool, validConfig } from '../support/configs';

// The Durable Object's internals, read and driven inside it: the store's tables, the
// repair of a damaged configuration, and what mutate does for each outcome. Every test
// has an object of its own, and publishing is watched (and kept off KV) with a spy.

const testEnv = env as Env;
let objects = 0;
/** A ControlPlane of its own for one test. */
const freshStub = () => testEnv.CONTROL.get(testEnv.CONTROL.idFromName(`internals-${++objects}`));

/** A snapshot with nothing configured, as an isolate holds it. */
const compileForTest = async (snapshot: Snapshot): Promise<Loaded> => ({ snapshot, plan: undefined, affinityKey: undefined as never, loadedAt: Date.now() });

const doc = (weight: number): Config => validConfig({ pools: [pool('p', [{ name: 'a', address: 'https://a.example.com', weight }])], load_balancers: [loadBalancer({ default_pools: ['p'] })] });
const weightOf = (config: Config | undefined) => config?.pools[0].origins[0].weight;

/** Runs `fn` inside a fresh ControlPlane with its store, publishing spied on and kept off KV. */
function inside<R>(fn: (parts: { instance: ControlPlane; state: DurableObjectState; store: StateStore; sql: SqlStorage; publish: MockInstance<StateStore['publish']> }) => Promise<R> | R): Promise<R> {
  return runInDurableObject(freshStub(), async (instance, state) => {
    const store = instance['store'];
    const publish = vi.spyOn(store, 'publish').mockResolvedValue(true);
    return fn({ instance, state, store, sql: state.storage.sql, publish });
  });
}

describe('the state store', () => {
  it(`keeps the newest ${MAX_VERSIONS} configuration versions`, async () => {
    await inside(({ store }) => {
      for (let v = 1; v <= 60; v++) store.commitConfig(doc(v), v, 'test', `version ${v}`);
      const versions = store.versions();
      expect(versions).toHaveLength(MAX_VERSIONS);
      expect(versions[0]).toMatchObject({ version: 60, actor: 'test', summary: 'version 60' });
      expect(versions.at(-1)!.version).toBe(11);
      expect(store.keptVersion(10)).toBeUndefined();
      const kept = store.keptVersion(11);
      expect(kept !== undefined && kept !== 'damaged' && weightOf(kept.config)).toBe(11);
      expect(store.currentVersion()).toBe(60);
      expect(weightOf(store.config())).toBe(60);
    });
  });

  it('stores the configuration compact with its $defaults, as the history does, and reads back the same', async () => {
    await inside(({ store, sql }) => {
      store.commitConfig(doc(2), 1, 'test', 'first');
      const raw = sql.exec<{ value: string }>("SELECT value FROM state WHERE key = 'config'").one().value;
      expect(JSON.parse(raw)).toHaveProperty('$defaults');
      expect(sql.exec<{ config: string }>('SELECT config FROM versions WHERE version = 1').one().config).toBe(raw);
      expect(sql.exec<{ value: string }>("SELECT value FROM state WHERE key = 'version'").one().value).toBe('1');
      expect(store.config()).toEqual(doc(2));
    });
  });

  it('reads a configuration stored in the full form, without $defaults, as it is', async () => {
    await inside(({ store, sql }) => {
      sql.exec("INSERT INTO state (key, value) VALUES ('config', ?)", JSON.stringify(doc(5)));
      expect(store.config()).toEqual(doc(5));
      expect(store.configDamaged()).toBe(false);
    });
  });

  it('typed state keys hold JSON values; remove deletes them', async () => {
    await inside(({ store, sql }) => {
      store.write('withdrawn', ['LHR', 'NRT']);
      expect(store.read('withdrawn')).toEqual(['LHR', 'NRT']);
      expect(sql.exec<{ value: string }>("SELECT value FROM state WHERE key = 'withdrawn'").one().value).toBe('["LHR","NRT"]');
      store.remove('withdrawn');
      expect(store.read('withdrawn')).toBeUndefined();
    });
  });

  it('records events newest first, narrowed by kind, with a large from/to left out of the detail', async () => {
    await inside(({ store }) => {
      store.record('config', 'small', { actor: 'a', from: { version: 1 }, to: { version: 2 } });
      store.record('pop', 'withdrawn', { actor: 'b' });
      const big = { origins: Array.from({ length: 5000 }, (_, i) => ({ name: `origin-${i}`, address: `https://o${i}.example.com` })) };
      store.record('config', 'large', { actor: 'c', from: null, to: big, version: 3 });
      expect(store.events(10, undefined).map((e) => e.message)).toEqual(['large', 'withdrawn', 'small']);
      const [large, small] = store.events(10, 'config');
      expect(small.detail).toEqual({ actor: 'a', from: { version: 1 }, to: { version: 2 } });
      expect(large.detail).toMatchObject({ actor: 'c', from: null, version: 3, to: { omitted: expect.stringMatching(/ bytes; see the version history$/) } });
      expect(store.events(1, undefined)).toHaveLength(1);
    });
  });

  it('brings a configuration stored before the version history in as the first kept version', async () => {
    await inside(({ store, sql }) => {
      store.commitConfig(doc(3), 7, 'test', 'seven');
      sql.exec('DELETE FROM versions');
      store.keepUnversionedConfig();
      store.keepUnversionedConfig();
      expect(store.versions()).toEqual([expect.objectContaining({ version: 7, actor: 'migration' })]);
    });
  });
});

describe('a damaged stored configuration, repaired by the store', () => {
  it('is replaced by the newest valid kept version, as a new version, with a storage event', async () => {
    await inside(({ store, sql }) => {
      store.commitConfig(doc(1), 1, 'test', 'one');
      store.commitConfig(doc(2), 2, 'test', 'two');
      store.commitConfig(doc(3), 3, 'test', 'three');
      sql.exec("UPDATE versions SET config = '{' WHERE version = 3");
      sql.exec("UPDATE state SET value = '{\"pools\":5}' WHERE key = 'config'");
      expect(store.configDamaged()).toBe(true);

      expect(weightOf(store.config())).toBe(2);
      expect(store.configDamaged()).toBe(false);
      expect(store.currentVersion()).toBe(4);
      expect(store.versions()[0]).toMatchObject({ version: 4, actor: 'storage', summary: 'restored version 2: the stored configuration was damaged' });
      expect(store.keptVersion(3)).toBe('damaged');
      const [event] = store.events(1, 'storage');
      expect(event.message).toMatch(/^the stored configuration was damaged \(pools: .+\); version 2 restored as version 4$/);
      expect(event.detail).toMatchObject({ actor: 'storage', action: 'restore', from: { version: 3 }, to: { version: 4, restored: 2 } });
    });
  });

  it('with nothing valid kept, is set aside as config_damaged and the snapshot is not published', async () => {
    await testEnv.SNAPSHOTS.put('snapshot:revision', 'before');
    await runInDurableObject(freshStub(), async (instance, state) => {
      const store = instance['store'];
      const sql = state.storage.sql;
      store.commitConfig(doc(1), 1, 'test', 'one');
      sql.exec('DELETE FROM versions');
      sql.exec("UPDATE state SET value = 'not json' WHERE key = 'config'");

      expect(store.config()).toBeUndefined();
      expect(store.read('config_damaged')).toBe('not json');
      expect(store.read('config_error')).toContain('kept aside as config_damaged');
      expect(sql.exec("SELECT value FROM state WHERE key = 'config'").toArray()).toEqual([]);
      expect(store.events(1, 'storage')[0].detail).toMatchObject({ action: 'set_aside' });
      const snapshot = store.snapshot(Date.now());
      expect(snapshot.config).toBeNull();
      await store.publish(snapshot);
      expect(await testEnv.SNAPSHOTS.get('snapshot:revision')).toBe('before');

      // The next stored configuration ends it, and publishing with it.
      store.commitConfig(doc(2), 2, 'test', 'two');
      expect(store.read('config_damaged')).toBeUndefined();
      expect(store.read('config_error')).toBeUndefined();
      await store.publish(store.snapshot(Date.now()));
      expect(await testEnv.SNAPSHOTS.get('snapshot:revision')).toBe(String(store.revision()));
    });
  });
});

describe('a seed LB_CONFIG that cannot be used', () => {
  it("is refused with its reason kept for GET /config; a client's 503 not_configured quotes none of it", async () => {
    // Not JSON: an unquoted address, which the parser's message quotes back.
    const seed = '{"pools":[{"id":"p","origins":[{"name":"a","address":http://10.20.30.40:8080}]}]}';
    await runInDurableObject(freshStub(), async (instance, state) => {
      const store = instance['store'];
      state.storage.sql.exec("DELETE FROM state WHERE key = 'revision'");
      seedState(store, seed);
      expect(store.config()).toBeUndefined();
      const why = store.read('config_error')!;
      expect(why).toMatch(/^LB_CONFIG is not JSON: /);

      const stored = await instance.getConfig();
      expect(stored).toMatchObject({ config: null, config_error: why });

      const loaded = await compileForTest(store.snapshot(Date.now()));
      let refusal: LbError | undefined;
      try {
        steer(new Request('http://app.test/'), loaded, false);
      } catch (error) {
        refusal = error as LbError;
      }
      expect(refusal?.status).toBe(503);
      const body = (await refusal!.getResponse().json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('not_configured');
      expect(body.error.message).toContain('no usable configuration (GET /__lb/api/config says why)');
      expect(body.error.message).not.toContain('10.20.30.40');
      expect(body.error.message).not.toContain(why.slice('LB_CONFIG is not JSON: '.length, 40));
    });
  });
});

describe('mutate', () => {
  it('moves the revision on and publishes as the outcome asks, and returns the typed result with the snapshot after it', async () => {
    await inside(async ({ instance, store, publish }) => {
      const mutate = instance['mutate'].bind(instance);
      const start = store.revision();

      const quiet = await mutate(() => unchanged({ refused: 'no' }));
      expect(quiet.result).toEqual({ refused: 'no' });
      expect(quiet.snapshot.revision).toBe(start);
      expect(store.revision()).toBe(start);
      expect(publish).not.toHaveBeenCalled();

      const again = await mutate(() => republish());
      expect(store.revision()).toBe(start);
      expect(publish).toHaveBeenCalledTimes(1);
      expect(publish).toHaveBeenLastCalledWith(again.snapshot);

      const held = await mutate(() => unpublished(7));
      expect(held.result).toBe(7);
      expect(held.snapshot.revision).toBe(start + 1);
      expect(publish).toHaveBeenCalledTimes(1);

      const moved = await mutate(() => {
        store.write('withdrawn', ['LHR']);
        return changed(['LHR']);
      });
      expect(moved.result).toEqual(['LHR']);
      expect(moved.snapshot).toMatchObject({ revision: start + 2, withdrawn: ['LHR'] });
      expect(publish).toHaveBeenCalledTimes(2);
      expect(publish).toHaveBeenLastCalledWith(moved.snapshot);
    });
  });

  it('a change whose KV write fails is stored all the same, never thrown, handed to PoPs from memory, and the next change publishes', async () => {
    await inside(async ({ instance, store, publish }) => {
      const published = () => instance['published'] as Snapshot | undefined;
      await instance.setWithdrawn('LHR', true, 'test');
      const before = published();
      publish.mockRejectedValueOnce(new Error('KV PUT failed: 429 Too Many Requests'));
      const failed = await instance.setWithdrawn('NRT', true, 'test');
      expect(failed.snapshot.withdrawn).toEqual(['LHR', 'NRT']);
      expect(store.read('withdrawn')).toEqual(['LHR', 'NRT']);
      // PoPs are handed it from memory all the same; KV has it with the next publish.
      expect(published()).not.toBe(before);
      expect(published()?.revision).toBe(failed.snapshot.revision);
      const next = await instance.setWithdrawn('SIN', true, 'test');
      expect(published()?.revision).toBe(next.snapshot.revision);
      expect(publish).toHaveBeenLastCalledWith(next.snapshot);
    });
  });

  it('an RPC change that changes nothing neither moves the revision nor publishes', async () => {
    await inside(async ({ instance, store, publish }) => {
      const first = await instance.setWithdrawn('LHR', true, 'test');
      expect(first.changed).toBe(true);
      const revision = store.revision();
      const published = publish.mock.calls.length;

      const same = await instance.setWithdrawn('LHR', true, 'test');
      expect(same).toMatchObject({ changed: false, version: first.version });
      const mismatch = await instance.putConfig(doc(1), first.version + 5, 'test');
      expect(mismatch).toEqual({ ok: false, code: 'version_mismatch', version: first.version });
      const missing = await instance.rollback(99, 'test');
      expect(missing).toMatchObject({ ok: false, status: 404 });

      expect(store.revision()).toBe(revision);
      expect(publish.mock.calls.length).toBe(published);
    });
  });

  it('a stored configuration moves the revision on and publishes once; an edit that changes nothing does neither; the alarm is armed only when something is monitored', async () => {
    await inside(async ({ instance, state, store, publish }) => {
      await instance.snapshot();
      const revision = store.revision();
      const calls = publish.mock.calls.length;
      const put = await instance.putConfig(doc(4), undefined, 'test');
      expect(put.ok).toBe(true);
      expect(store.revision()).toBe(revision + 1);
      expect(publish.mock.calls.length).toBe(calls + 1);
      if (!put.ok) return;
      expect(put.snapshot).toMatchObject({ revision: revision + 1, version: put.version });
      expect(await state.storage.getAlarm()).toBeNull();

      // The same weight again: succeeds at the current version, nothing moves.
      const same = await instance.edit({ kind: 'origin', action: 'patch', pool: 'p', id: 'a', value: { weight: 4 } }, undefined, 'test');
      expect(same).toMatchObject({ ok: true, version: put.version, tag: expect.any(String) });
      expect(store.revision()).toBe(revision + 1);
      expect(publish.mock.calls.length).toBe(calls + 1);

      const monitored = validConfig({ monitors: [{ id: 'm', interval: 30 }], pools: [pool('p', ['a'], { monitor: 'm' })], load_balancers: [loadBalancer({ default_pools: ['p'] })] });
      const before = Date.now();
      expect((await instance.putConfig(monitored, put.version, 'test')).ok).toBe(true);
      expect(await state.storage.getAlarm()).toBeGreaterThanOrEqual(before + 1000);
    });
  });
});
