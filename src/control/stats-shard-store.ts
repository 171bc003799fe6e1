import { ACTIVE_SENDER_MS, flushAfterMs, SENDER_RETENTION_MS, STATS_FLUSH_MS, type BatchReceipt, type StatsBatch } from '../stats/hand-over';
import { emptyDelta, mergeStats, type StatsDelta, type StatsTotals } from '../stats/traffic';

// A stats shard's SQLite storage. A batch is one row in `journal`, written before it is
// acknowledged: one row written per hand-over, however many origins it counts (Durable
// Object storage bills rows written). Once a minute the journal is folded into
// `counts` (a row per origin, pool and PoP, written only for those that changed) and
// `senders` (each sender's last batch), and emptied. The totals live in memory, read
// once from both tables and kept in step. Tables and shapes: docs/storage-schema.md.

const KINDS = ['origins', 'pools', 'pops'] as const;
type Kind = (typeof KINDS)[number];
/** How long batches stay in the journal before they are folded into the counts. */
export const COMPACT_AFTER_MS = 60_000;
const MAX_SENDER_LENGTH = 200;

export class ShardStore {
  private readonly sql: SqlStorage;
  /** Counts plus journal: everything applied. */
  private totalsCache: StatsTotals | undefined;
  /** Whether the first batch's time is stored as `since`. */
  private sinceStored = false;
  /** Senders in the journal: their last batch's number and time. */
  private readonly journalSenders = new Map<string, { seq: number; at: number }>();
  /** Counts the journal changed: "kind\0key". */
  private readonly dirty = new Set<string>();
  private activeSenders: { count: number; at: number } | undefined;
  /** SQLite rows written since this object started (what Durable Object storage bills). */
  rowsWritten = 0;

  constructor(private readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS journal (sender TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, delta TEXT NOT NULL, PRIMARY KEY (sender, seq)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS counts (kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS senders (sender TEXT PRIMARY KEY, seq INTEGER NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    `);
  }

  /** Applies a batch unless its sender's batch `seq` (or a later one) was applied already. */
  apply(batch: StatsBatch, now: number): BatchReceipt {
    checkBatch(batch);
    const totals = this.load(now);
    const last =
      this.journalSenders.get(batch.sender)?.seq ?? this.sql.exec<{ seq: number }>('SELECT seq FROM senders WHERE sender = ?', batch.sender).toArray()[0]?.seq;
    if (last !== undefined && batch.seq <= last) return { applied: false, flush_after_ms: this.flushAfter(now) };
    this.write('INSERT INTO journal (sender, seq, at, delta) VALUES (?, ?, ?, ?)', batch.sender, batch.seq, now, JSON.stringify(batch.delta));
    if (!this.sinceStored) {
      this.write("INSERT OR IGNORE INTO meta (key, value) VALUES ('since', ?)", String(totals.since));
      this.sinceStored = true;
    }
    this.track(batch.sender, batch.seq, now, batch.delta);
    mergeStats(totals, batch.delta);
    return { applied: true, flush_after_ms: this.flushAfter(now) };
  }

  /** Everything this shard has counted; null before its first batch. */
  totals(): StatsTotals | null {
    const totals = this.load(Date.now());
    return this.sinceStored ? totals : null;
  }

  /**
   * Folds the journal into the counts and the senders' last batches, in one
   * transaction (a failure leaves both as they were, to be tried again), and forgets
   * senders not heard from in SENDER_RETENTION_MS.
   */
  compact(now: number): void {
    const totals = this.load(now);
    this.storage.transactionSync(() => {
      for (const entry of this.dirty) {
        const cut = entry.indexOf('\0');
        const kind = entry.slice(0, cut) as Kind;
        const key = entry.slice(cut + 1);
        this.write('INSERT INTO counts (kind, key, value) VALUES (?, ?, ?) ON CONFLICT(kind, key) DO UPDATE SET value = excluded.value', kind, key, JSON.stringify(totals[kind][key]));
      }
      for (const [sender, { seq, at }] of this.journalSenders) {
        this.write('INSERT INTO senders (sender, seq, at) VALUES (?, ?, ?) ON CONFLICT(sender) DO UPDATE SET seq = excluded.seq, at = excluded.at', sender, seq, at);
      }
      this.write('DELETE FROM journal');
      this.write('DELETE FROM senders WHERE at < ?', now - SENDER_RETENTION_MS);
    });
    this.dirty.clear();
    this.journalSenders.clear();
  }

  private load(now: number): StatsTotals {
    if (this.totalsCache !== undefined) return this.totalsCache;
    const since = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'since'").toArray()[0]?.value;
    const totals: StatsTotals = { ...emptyDelta(), since: since === undefined ? now : Number(since) };
    for (const row of this.sql.exec<{ kind: string; key: string; value: string }>('SELECT kind, key, value FROM counts')) {
      const kind = KINDS.find((k) => k === row.kind);
      if (kind !== undefined) (totals[kind] as Record<string, unknown>)[row.key] = JSON.parse(row.value);
    }
    for (const row of this.sql.exec<{ sender: string; seq: number; at: number; delta: string }>('SELECT sender, seq, at, delta FROM journal ORDER BY sender, seq')) {
      const delta = JSON.parse(row.delta) as StatsDelta;
      this.track(row.sender, row.seq, row.at, delta);
      mergeStats(totals, delta);
    }
    this.sinceStored = since !== undefined;
    this.totalsCache = totals;
    return totals;
  }

  private track(sender: string, seq: number, at: number, delta: StatsDelta): void {
    this.journalSenders.set(sender, { seq, at });
    for (const kind of KINDS) for (const key of Object.keys(delta[kind])) this.dirty.add(`${kind}\0${key}`);
  }

  private write(query: string, ...bindings: (string | number)[]): void {
    this.rowsWritten += this.sql.exec(query, ...bindings).rowsWritten;
  }

  /** The wait this shard asks of its senders; the count of active senders is taken again at most every STATS_FLUSH_MS. */
  private flushAfter(now: number): number {
    if (this.activeSenders === undefined || now - this.activeSenders.at >= STATS_FLUSH_MS) {
      const folded = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM senders WHERE at >= ?', now - ACTIVE_SENDER_MS).one().n;
      // A sender new since the last compaction is only in the journal; most of those are in both.
      this.activeSenders = { count: Math.max(folded, this.journalSenders.size), at: now };
    }
    return flushAfterMs(this.activeSenders.count);
  }
}

function checkBatch(batch: StatsBatch): void {
  const ok =
    typeof batch?.sender === 'string' &&
    batch.sender.length > 0 &&
    batch.sender.length <= MAX_SENDER_LENGTH &&
    Number.isSafeInteger(batch.seq) &&
    batch.seq > 0 &&
    KINDS.every((kind) => typeof batch.delta?.[kind] === 'object' && batch.delta[kind] !== null);
  if (!ok) throw new TypeError('a stats batch needs a sender, a positive seq and origins, pools and pops');
}
