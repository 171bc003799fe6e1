import type { Env } from '../env';
import { settings } from '../env';
import { importAffinityKey } from '../steering/affinity-token';
import { Plan } from '../steering/plan';
import { controlPlane } from './locator';
import { REVISION_KEY, SNAPSHOT_KEY, type Snapshot } from './snapshot';

/** A snapshot compiled for the request path. */
export interface Loaded {
  snapshot: Snapshot;
  /** Undefined while nothing is configured. */
  plan: Plan | undefined;
  affinityKey: CryptoKey;
  loadedAt: number;
}

// The isolate's copy of the snapshot. The request path reads it from memory; when it
// is older than SNAPSHOT_TTL_MS a refresh runs in the background (one at a time), and
// a failed refresh leaves the last snapshot in service.

let current: Loaded | undefined;
let first: Promise<Loaded> | undefined;
let refreshing: Promise<void> | undefined;

export async function currentSnapshot(env: Env, ctx: ExecutionContext, now = Date.now()): Promise<Loaded> {
  const loaded = current;
  if (loaded === undefined) {
    // Cold isolate: the first requests wait for one shared load.
    first ??= loadSnapshot(env).then(install, (error) => {
      first = undefined;
      throw error;
    });
    return first;
  }
  if (now - loaded.loadedAt >= settings(env).snapshotTtlMs && refreshing === undefined) {
    refreshing = refresh(env, loaded).finally(() => {
      refreshing = undefined;
    });
    ctx.waitUntil(refreshing);
  }
  return loaded;
}

/** Installs a snapshot the control plane just returned, so this isolate sees a change at once. */
export async function adoptSnapshot(env: Env, snapshot: Snapshot): Promise<Loaded> {
  // A revision always has the same content: recompiling it would only reset round robins.
  if (current !== undefined && current.snapshot.revision >= snapshot.revision) return current;
  return install(await compile(env, snapshot));
}

/** Forgets the isolate's copy (tests). */
export function resetSnapshotCache(): void {
  current = undefined;
  first = undefined;
  refreshing = undefined;
}

async function refresh(env: Env, loaded: Loaded): Promise<void> {
  try {
    const revision = Number(await env.SNAPSHOTS.get(REVISION_KEY));
    if (revision === loaded.snapshot.revision) {
      loaded.loadedAt = Date.now();
      return;
    }
    install(await loadSnapshot(env));
  } catch (error) {
    // Keep serving the last snapshot; the next request past the TTL tries again.
    loaded.loadedAt = Date.now();
    console.error('snapshot refresh failed; serving the last snapshot', error);
  }
}

async function loadSnapshot(env: Env): Promise<Loaded> {
  const stored = await env.SNAPSHOTS.get<Snapshot>(SNAPSHOT_KEY, 'json');
  // Nothing in KV yet: the control plane seeds and publishes one.
  const snapshot = stored ?? (await controlPlane(env).snapshot());
  return compile(env, snapshot);
}

async function compile(env: Env, snapshot: Snapshot): Promise<Loaded> {
  const plan = snapshot.config === null ? undefined : new Plan(snapshot.version, snapshot.config, snapshot.health, new Set(snapshot.withdrawn));
  const affinityKey = await importAffinityKey(env.AFFINITY_SECRET || snapshot.affinitySecret);
  return { snapshot, plan, affinityKey, loadedAt: Date.now() };
}

function install(loaded: Loaded): Loaded {
  if (current === undefined || loaded.snapshot.revision >= current.snapshot.revision) current = loaded;
  else current.loadedAt = loaded.loadedAt;
  return current;
}
