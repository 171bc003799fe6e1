import type { Snapshot } from './snapshot';

// The PoP-local tier between isolates and the ControlPlane (SPEC §5): two entries in the
// Cache API, which keeps its contents in the data centre that wrote them, so every
// isolate of a PoP sees what one of them put there. Keys, shapes and lifetimes:
// docs/storage-schema.md.
//
// - revision: `{ revision, checkedAt, claim? }`, the revision the PoP last heard from the
//   Durable Object and when. Fresh for SNAPSHOT_TTL_MS; past that, one isolate claims the
//   refresh by writing its token here, and the others see the claim as fresh.
// - snapshot: the snapshot of that revision, written before the revision entry so that a
//   reader that sees a revision finds its snapshot.
//
// The Cache API has no compare-and-set, so a claim is write, wait, read back: every
// isolate that found the entry stale writes its own token, waits CLAIM_SETTLE_MS, and
// reads the entry again; the last write wins for all of them alike. Two isolates both
// win only when a cache write takes longer than CLAIM_SETTLE_MS to land.

/** What the PoP knows about the Durable Object's state. */
export interface PopRevision {
  revision: number;
  /** When the Durable Object last answered for this PoP, or when an isolate claimed the refresh. */
  checkedAt: number;
  /** The token of the isolate that claimed the refresh, until its answer lands. */
  claim?: string;
}

/** How often per SNAPSHOT_TTL_MS an isolate looks at its PoP's copy: a change reaches it at most a quarter TTL after it reached the PoP. */
export const POP_LOOKS_PER_TTL = 4;
/** How long a claim waits for other isolates' claims to land before reading back which one won. */
export const CLAIM_SETTLE_MS = 100;
/** How long the cache keeps the snapshot; its freshness is the revision entry's. */
const SNAPSHOT_MAX_AGE_S = 86_400;
/** How long past its freshness the revision entry is kept, so that a claim can see the old one. */
const REVISION_KEPT_S = 60;

/** The outcome of a claim: this isolate refreshes, another one does, or the cache kept nothing (a cache that does not work, such as on workers.dev). */
export type Claim = 'won' | 'lost' | 'unkept';

/** The URLs the PoP's entries are kept under. */
export function popCacheKeys(host: string): { revision: string; snapshot: string } {
  return { revision: `https://${host}/__lb/pop/revision`, snapshot: `https://${host}/__lb/pop/snapshot` };
}

export class PopCache {
  private readonly revisionKey: string;
  private readonly snapshotKey: string;

  /** `host`: a host of the Worker's zone for the cache keys (the Cache API keys entries by URL). */
  constructor(
    private readonly cache: Cache,
    host: string,
  ) {
    ({ revision: this.revisionKey, snapshot: this.snapshotKey } = popCacheKeys(host));
  }

  /** The PoP's revision entry; undefined when there is none (or it is not ours to read). */
  async revision(): Promise<PopRevision | undefined> {
    const res = await this.cache.match(this.revisionKey);
    if (res === undefined) return undefined;
    const entry = (await res.json().catch(() => undefined)) as Partial<PopRevision> | undefined;
    if (typeof entry?.revision !== 'number' || typeof entry.checkedAt !== 'number') return undefined;
    return { revision: entry.revision, checkedAt: entry.checkedAt, ...(typeof entry.claim === 'string' ? { claim: entry.claim } : {}) };
  }

  /** The PoP's snapshot, when it holds one of at least revision `atLeast`. */
  async snapshot(atLeast: number): Promise<Snapshot | undefined> {
    const res = await this.cache.match(this.snapshotKey);
    if (res === undefined) return undefined;
    if (Number(res.headers.get('x-revision')) < atLeast) {
      await res.body?.cancel();
      return undefined;
    }
    const snapshot = (await res.json().catch(() => undefined)) as Snapshot | undefined;
    return typeof snapshot?.revision === 'number' && snapshot.revision >= atLeast ? snapshot : undefined;
  }

  /** The revision of the snapshot the PoP holds; -1 when it holds none. */
  async snapshotRevision(): Promise<number> {
    const res = await this.cache.match(this.snapshotKey);
    if (res === undefined) return -1;
    await res.body?.cancel();
    const revision = Number(res.headers.get('x-revision'));
    return Number.isFinite(revision) ? revision : -1;
  }

  async putRevision(entry: PopRevision, ttlMs: number): Promise<void> {
    const maxAge = Math.ceil(ttlMs / 1000) + REVISION_KEPT_S;
    await this.cache.put(this.revisionKey, Response.json(entry, { headers: { 'cache-control': `max-age=${maxAge}` } }));
  }

  /** Stores the snapshot for the PoP; call before putRevision with its revision. */
  async putSnapshot(snapshot: Snapshot): Promise<void> {
    const headers = { 'cache-control': `max-age=${SNAPSHOT_MAX_AGE_S}`, 'x-revision': String(snapshot.revision) };
    await this.cache.put(this.snapshotKey, Response.json(snapshot, { headers }));
  }

  /**
   * Claims the PoP's refresh after finding its entry stale (`stale`, undefined when there
   * was none). The claim keeps the old revision and counts as fresh to other isolates
   * until the winner's answer replaces it, or until it goes stale in turn when the
   * winner never answers.
   */
  async claim(stale: PopRevision | undefined, now: number, ttlMs: number): Promise<Claim> {
    const token = crypto.randomUUID();
    await this.putRevision({ revision: stale?.revision ?? 0, checkedAt: now, claim: token }, ttlMs);
    await scheduler.wait(CLAIM_SETTLE_MS);
    const back = await this.revision();
    if (back === undefined) return 'unkept';
    return back.claim === token ? 'won' : 'lost';
  }
}
