import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { popCacheKeys } from '../../src/control/pop-cache';
import { LOCAL_CACHE_HOST, POP_CACHE_NAME, resetSnapshotCache } from '../../src/control/snapshot-cache';
import type { Env } from '../../src/env';
import { configure, startOrigin } from '../support/worker';

/** The env with its KV namespace and Durable Object namespace wrapped to count every call. */
function countingEnv(base: Env) {
  const calls: string[] = [];
  const wrap = <T extends object>(target: T, name: string): T =>
    new Proxy(target, {
      get(obj, prop, receiver) {
        const value = Reflect.get(obj, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(`${name}.${String(prop)}`);
          return (value as (...a: unknown[]) => unknown).apply(obj, args);
        };
      },
    });
  return { env: { ...base, SNAPSHOTS: wrap(base.SNAPSHOTS, 'kv'), CONTROL: wrap(base.CONTROL, 'do') } as Env, calls };
}

async function send(target: Env, path = '/') {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`http://app.test${path}`), target, ctx);
  await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return res;
}

describe('snapshot cache (SPEC §5)', () => {
  it('in steady state a proxied request touches neither KV nor the Durable Object', async () => {
    const a = await startOrigin('steady');
    await configure({ pools: [{ id: 'steady', origins: [{ name: 'x', address: a.url }] }], load_balancers: [{ id: 'main', hostname: '*', default_pools: ['steady'] }] });
    resetSnapshotCache();
    const { env: counted, calls } = countingEnv(env as Env);

    // A cold isolate loads the snapshot once (from KV).
    expect((await send(counted)).status).toBe(200);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((c) => c.startsWith('kv.'))).toBe(true);

    calls.length = 0;
    for (let i = 0; i < 50; i++) expect((await send(counted)).status).toBe(200);
    expect(calls).toEqual([]);
    expect(await a.log()).toHaveLength(51);
  });

  it('refreshes in the background past SNAPSHOT_TTL_MS and keeps serving if the refresh fails', async () => {
    const a = await startOrigin('refresh');
    await configure({ pools: [{ id: 'refresh', origins: [{ name: 'x', address: a.url }] }], load_balancers: [{ id: 'main', hostname: '*', default_pools: ['refresh'] }] });
    resetSnapshotCache();
    const { env: counted, calls } = countingEnv({ ...(env as Env), SNAPSHOT_TTL_MS: '0' });
    expect((await send(counted)).status).toBe(200);
    calls.length = 0;
    expect((await send(counted)).status).toBe(200);
    // Past the TTL, in the background: the PoP's cached copy is missing, so this isolate
    // claims the PoP's refresh and asks the Durable Object once; KV is not read.
    expect(calls).toEqual(['do.idFromName', 'do.get']);
    // The PoP's copy went to a cache of its own: nothing of it is in the zone's default
    // cache, from which a visitor's request for the same URL could be answered.
    const keys = popCacheKeys(LOCAL_CACHE_HOST);
    const held = await (await caches.open(POP_CACHE_NAME)).match(keys.snapshot);
    expect(((await held?.json()) as { revision?: number } | undefined)?.revision).toBeGreaterThan(0);
    expect(await caches.default.match(keys.snapshot)).toBeUndefined();
    expect(await caches.default.match(keys.revision)).toBeUndefined();

    const broken = {
      ...(env as Env),
      SNAPSHOT_TTL_MS: '0',
      SNAPSHOTS: new Proxy((env as Env).SNAPSHOTS, {
        get: () => () => Promise.reject(new Error('KV unavailable')),
      }),
      CONTROL: new Proxy((env as Env).CONTROL, {
        get: () => () => {
          throw new Error('Durable Object unreachable');
        },
      }),
    } as Env;
    for (let i = 0; i < 3; i++) expect((await send(broken)).status).toBe(200);
  });

  it('a cold isolate with an empty KV asks the Durable Object, which publishes the snapshot', async () => {
    await configure({ pools: [{ id: 'cold', origins: [{ name: 'x', address: 'http://127.0.0.1:9' }] }], load_balancers: [{ id: 'main', hostname: '*', default_pools: ['cold'] }] });
    await (env as Env).SNAPSHOTS.delete('snapshot');
    // Nor anything in the PoP's cache, which a cold isolate would read first.
    const popCache = await caches.open(POP_CACHE_NAME);
    for (const key of Object.values(popCacheKeys(LOCAL_CACHE_HOST))) await popCache.delete(key);
    resetSnapshotCache();
    const { env: counted, calls } = countingEnv(env as Env);
    const res = await send(counted, '/__lb/healthz');
    expect(res.status).toBe(200);
    // healthz needs no snapshot; a proxied request does.
    await send(counted);
    expect(calls).toContain('do.get');
    expect(await (env as Env).SNAPSHOTS.get('snapshot')).not.toBeNull();
  });

  it('the cron trigger publishes the snapshot to KV again', async () => {
    const version = await configure({ pools: [{ id: 'cron', origins: [{ name: 'x', address: 'http://127.0.0.1:9' }] }], load_balancers: [{ id: 'main', hostname: '*', default_pools: ['cron'] }] });
    await (env as Env).SNAPSHOTS.delete('snapshot');
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '* * * * *' }), env as Env, ctx);
    await waitOnExecutionContext(ctx);
    const published = await (env as Env).SNAPSHOTS.get<{ version: number }>('snapshot', 'json');
    expect(published?.version).toBe(version);
  });
});
