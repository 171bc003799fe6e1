import type { Env } from '../env';
import { settings } from '../env';
import { importAffinityKey } from '../steering/affinity-token';
import { Plan } from '../steering/plan';
import { controlPlane } from './locator';
import { POP_LOOKS_PER_TTL, PopCache } from './pop-cache';
import { REVISION_KEY, SNAPSHOT_KEY, type PopRefresh, type Snapshot } from './snapshot';

/** A snapshot compiled for the request path. */
export interface Loaded {
  snapshot: Snapshot;
  /** Undefined while nothing is configured. */
  plan: Plan | undefined;
  affinityKey: CryptoKey;
  loadedAt: number;
}

/** Where an isolate runs: the cache it shares with the other isolates of its PoP. */
export interface PopSite {
  cache(): Promise<Cache>;
}

export interface IsolateOptions {
  site: PopSite;
  /** The isolate's clock (tests pass a fake one). */
  clock?: () => number;
}

/** How long the Durable Object may take to answer a PoP's refresh before KV answers instead. */
const REFRESH_TIMEOUT_MS = 3000;
/** After the PoP cache kept nothing (the Cache API does nothing on workers.dev) or failed, the isolate reads KV alone for this long. */
const POP_RETRY_MS = 60_000;
/** The cache keys' host when ADMIN_HOSTNAME is unset: a name that never resolves. */
export const LOCAL_CACHE_HOST = 'switchyard.invalid';

// An isolate's copy of the snapshot (SPEC §5). The request path reads it from memory and
// never waits for a refresh. Every quarter of SNAPSHOT_TTL_MS a request starts one in
// the background (one at a time): it looks at the PoP's copy in the Cache API; when that
// copy is older than SNAPSHOT_TTL_MS, one isolate of the PoP claims the refresh (see
// pop-cache.ts) and asks the ControlPlane, or KV when the Durable Object does not answer,
// and puts the answer in the PoP's cache for the others. A cold isolate starts from the
// PoP's copy when it is fresh, else from KV. Where the Cache API keeps nothing the isolate
// reads KV itself, at most once per SNAPSHOT_TTL_MS. A failed refresh leaves the last
// snapshot in service.

export class IsolateSnapshots {
  private current: Loaded | undefined;
  private first: Promise<Loaded> | undefined;
  private refreshing: Promise<void> | undefined;
  /** When this isolate last looked for a newer snapshot. */
  private lookedAt = 0;
  private kvReadAt = -Infinity;
  /** Until when the PoP cache is left alone after it kept nothing or failed. */
  private popOffUntil = -Infinity;
  private readonly clock: () => number;

  constructor(private readonly options: IsolateOptions) {
    this.clock = options.clock ?? Date.now;
  }

  /**
   * The snapshot to serve a request with; past a quarter TTL, a look for a newer one
   * starts in the background. Returned as it is when the isolate has one (no promise on
   * the request path), else the promise of the first load.
   */
  snapshot(env: Env, ctx: ExecutionContext, colo: string, now = this.clock()): Loaded | Promise<Loaded> {
    const loaded = this.current;
    if (loaded === undefined) {
      // Cold isolate: the first requests wait for one shared load.
      this.first ??= this.loadCold(env).then(
        (cold) => {
          this.lookedAt = this.clock();
          return this.install(cold);
        },
        (error) => {
          this.first = undefined;
          throw error;
        },
      );
      return this.first;
    }
    if (now - this.lookedAt >= settings(env).snapshotTtlMs / POP_LOOKS_PER_TTL && this.refreshing === undefined) {
      this.refreshing = this.refresh(env, colo).finally(() => {
        this.lookedAt = this.clock();
        this.refreshing = undefined;
      });
      ctx.waitUntil(this.refreshing);
    }
    return loaded;
  }

  /** Installs a snapshot the control plane just returned, so this isolate sees a change at once. */
  async adopt(env: Env, snapshot: Snapshot): Promise<Loaded> {
    // A revision always has the same content: recompiling it would only reset round robins.
    if (this.current !== undefined && this.current.snapshot.revision >= snapshot.revision) return this.current;
    const loaded = this.install(await compile(env, snapshot));
    // Straight from the Durable Object: nothing newer to look for yet.
    this.lookedAt = this.clock();
    return loaded;
  }

  /** Forgets the isolate's copy (tests). */
  reset(): void {
    this.current = undefined;
    this.first = undefined;
    this.refreshing = undefined;
    this.lookedAt = 0;
    this.kvReadAt = -Infinity;
    this.popOffUntil = -Infinity;
  }

  private get revision(): number {
    return this.current?.snapshot.revision ?? -1;
  }

  private async refresh(env: Env, colo: string): Promise<void> {
    const ttl = settings(env).snapshotTtlMs;
    const now = this.clock();
    if (now >= this.popOffUntil) {
      try {
        if (await this.refreshThroughPop(env, colo, ttl)) return;
      } catch (error) {
        console.error('the PoP cache failed; reading KV for a while', error);
      }
      this.popOffUntil = now + POP_RETRY_MS;
    }
    if (now - this.kvReadAt < ttl) return;
    this.kvReadAt = now;
    try {
      await this.installNewer(env, (await answerFromKv(env, this.revision)).snapshot);
    } catch (error) {
      // Keep serving the last snapshot; a later request tries again.
      console.error('snapshot refresh failed; serving the last snapshot', error);
    }
  }

  /** One look at the PoP's copy, and the PoP's refresh when this isolate claims it; false when the cache kept nothing. */
  private async refreshThroughPop(env: Env, colo: string, ttl: number): Promise<boolean> {
    const pop = await this.popCache(env);
    const entry = await pop.revision();
    const now = this.clock();
    if (entry !== undefined && now - entry.checkedAt < ttl) {
      await this.adoptFromPop(env, pop, entry.revision);
      return true;
    }
    const claim = await pop.claim(entry, now, ttl);
    if (claim === 'unkept') return false;
    // What the PoP holds is its snapshot entry's revision, not the revision entry's: the
    // snapshot may have been evicted, or left older by two claims' interleaved writes.
    if (claim === 'won') await this.refreshPop(env, pop, await pop.snapshotRevision(), colo, ttl);
    return true;
  }

  /** The claimed refresh: the Durable Object's answer (KV's when it does not give one) into the PoP's cache, snapshot first. */
  private async refreshPop(env: Env, pop: PopCache, have: number, colo: string, ttl: number): Promise<void> {
    let answer: PopRefresh;
    try {
      answer = await withTimeout(controlPlane(env).refresh(colo, have), REFRESH_TIMEOUT_MS);
    } catch (error) {
      console.error('the control plane did not answer the PoP refresh; reading KV', error);
      try {
        answer = await answerFromKv(env, have);
      } catch (kvError) {
        // Nothing to hand the PoP: its claim goes stale and another isolate tries after SNAPSHOT_TTL_MS.
        console.error('KV did not answer either; serving the last snapshot', kvError);
        return;
      }
    }
    if (answer.snapshot !== undefined) await pop.putSnapshot(answer.snapshot);
    await pop.putRevision({ revision: answer.revision, checkedAt: this.clock() }, ttl);
    if (answer.snapshot !== undefined) await this.installNewer(env, answer.snapshot);
    else await this.adoptFromPop(env, pop, answer.revision);
  }

  /** Installs the PoP's snapshot when it is newer than this isolate's (from KV when the cache has lost it). */
  private async adoptFromPop(env: Env, pop: PopCache, revision: number): Promise<void> {
    if (revision <= this.revision) return;
    let snapshot = await pop.snapshot(revision);
    if (snapshot === undefined) {
      try {
        snapshot = (await answerFromKv(env, this.revision)).snapshot;
      } catch (error) {
        console.error('the PoP cache lost its snapshot and KV did not answer; serving the last snapshot', error);
      }
    }
    await this.installNewer(env, snapshot);
  }

  /** Compiles and installs `snapshot` when it is newer than this isolate's: the same revision again would only reset round robins. */
  private async installNewer(env: Env, snapshot: Snapshot | undefined): Promise<void> {
    if (snapshot !== undefined && snapshot.revision > this.revision) this.install(await compile(env, snapshot));
  }

  private async loadCold(env: Env): Promise<Loaded> {
    try {
      const pop = await this.popCache(env);
      const entry = await pop.revision();
      // A claim's entry carries the old revision (0 for a PoP that woke up): not an answer to trust.
      if (entry !== undefined && entry.claim === undefined && entry.revision > 0 && this.clock() - entry.checkedAt < settings(env).snapshotTtlMs) {
        const snapshot = await pop.snapshot(entry.revision);
        if (snapshot !== undefined) return compile(env, snapshot);
      }
    } catch (error) {
      console.error('the PoP cache failed; loading from KV', error);
    }
    const stored = await env.SNAPSHOTS.get<Snapshot>(SNAPSHOT_KEY, 'json');
    // Nothing in KV yet: the control plane seeds and publishes one.
    const snapshot = stored ?? (await controlPlane(env).snapshot());
    return compile(env, snapshot);
  }

  private async popCache(env: Env): Promise<PopCache> {
    return new PopCache(await this.options.site.cache(), settings(env).adminHostname ?? LOCAL_CACHE_HOST);
  }

  private install(loaded: Loaded): Loaded {
    if (this.current === undefined || loaded.snapshot.revision >= this.current.snapshot.revision) this.current = loaded;
    return this.current;
  }
}

/** KV's revision, with its snapshot when that is newer than `have`. */
async function answerFromKv(env: Env, have: number): Promise<PopRefresh> {
  const revision = Number(await env.SNAPSHOTS.get(REVISION_KEY));
  if (!(revision > have)) return { revision: Math.max(have, 0) };
  const snapshot = await env.SNAPSHOTS.get<Snapshot>(SNAPSHOT_KEY, 'json');
  return snapshot !== null && snapshot.revision > have ? { revision: snapshot.revision, snapshot } : { revision: Math.max(have, 0) };
}

async function compile(env: Env, snapshot: Snapshot): Promise<Loaded> {
  const plan = snapshot.config === null ? undefined : new Plan(snapshot.version, snapshot.config, snapshot.health, new Set(snapshot.withdrawn));
  const affinityKey = await importAffinityKey(env.AFFINITY_SECRET || snapshot.affinitySecret);
  return { snapshot, plan, affinityKey, loadedAt: Date.now() };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

let colo: string | undefined;
let coloMisses = 0;
/** Requests in a row without a colo after which an isolate stops looking (bare workerd has no request.cf). */
const COLO_LOOKS = 64;

/**
 * The PoP this isolate runs in (Cloudflare's colo code of its data centre), "unknown"
 * without one: read from `request.cf` until a request names one, as an isolate never
 * moves and reading `request.cf` costs CPU on every request that does. A request
 * without one (a service binding's) does not settle it, unless COLO_LOOKS of them come
 * in a row.
 */
export function isolateColo(request: Request): string {
  if (colo !== undefined) return colo;
  const named = (request.cf as { colo?: unknown } | undefined)?.colo;
  if (typeof named === 'string' && named !== '') return (colo = named);
  if (++coloMisses >= COLO_LOOKS) colo = 'unknown';
  return 'unknown';
}

/**
 * The PoP tier's cache: one of its own, not `caches.default`. A named cache is a
 * namespace of the zone's cache that only code opening it by name reads, so the
 * snapshot (configuration, origin addresses, the affinity secret) can never be served
 * to a visitor's request for its URL, whatever the zone's cache rules or the route's
 * failure mode.
 */
export const POP_CACHE_NAME = 'switchyard:pop';

// The Worker's isolate: its PoP's cache is in the Cache API, local to the data centre.
const isolate = new IsolateSnapshots({ site: { cache: () => caches.open(POP_CACHE_NAME) } });

export function currentSnapshot(env: Env, ctx: ExecutionContext, now: number, colo: string): Loaded | Promise<Loaded> {
  return isolate.snapshot(env, ctx, colo, now);
}

/** Installs a snapshot the control plane just returned, so this isolate sees a change at once. */
export function adoptSnapshot(env: Env, snapshot: Snapshot): Promise<Loaded> {
  return isolate.adopt(env, snapshot);
}

/** Forgets the isolate's copy (tests). */
export function resetSnapshotCache(): void {
  isolate.reset();
}
