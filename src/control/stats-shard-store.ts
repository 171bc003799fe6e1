import { ACTIVE_SENDER_MS, flushAfterMs, SENDER_RETENTION_MS, STATS_FLUSH_MS, type BatchReceipt, type StatsBatch } from '../stats/hand-over';
import { emptyDelta, mergeStats, type StatsTotals } from '../stats/traffic';

// A stats shard's SQLite storage: one row per origin, pool and PoP it has counts for,
// so that a batch writes the rows it touches and nothing else, and one row per sender
// with the number of its last batch applied. The totals are read once into memory and
// kept in step with every write. Tables and shapes: docs/storage-schema.md.

const KINDS = ['origins', 'pools', 'pops'] as const;
/** How often the senders not heard from in SENDER_RETENTION_MS are forgotten. */
const PRUNE_EVERY_MS = 3600_000;
const MAX_SENDER_LENGTH = 200;

export class ShardStore {
  private readonly sql: SqlStorage;
  private totalsCache: StatsTotals | undefined;
  /** Whether the first batch's time is stored as `since` (read with the totals). */
  private sinceStored = false;
  private activeSenders: { count: number; at: number } | undefined;
  private prunedAt = 0;
  /** SQLite rows written since this object started (what Durable Object storage bills). */
  rowsWritten = 0;

  constructor(private readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS counts (kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS senders (sender TEXT PRIMARY KEY, seq INTEGER NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    `);
  }

  /** Applies a batch unless its sender's batch `seq` (or a later one) was applied already. */
  apply(batch: StatsBatch, now: number): BatchReceipt {
    checkBatch(batch);
    const last = this.sql.exec<{ seq: number }>('SELECT seq FROM senders WHERE sender = ?', batch.sender).toArray()[0]?.seq;
    if (last !== undefined && batch.seq <= last) return { applied: false, flush_after_ms: this.flushAfter(now) };
    const totals = this.load(now);
    try {
      this.storage.transactionSync(() => {
        mergeStats(totals, batch.delta);
        for (const kind of KINDS) {
          for (const key of Object.keys(batch.delta[kind])) {
            this.write('INSERT INTO counts (kind, key, value) VALUES (?, ?, ?) ON CONFLICT(kind, key) DO UPDATE SET value = excluded.value', kind, key, JSON.stringify(totals[kind][key]));
          }
        }
        this.write('INSERT INTO senders (sender, seq, at) VALUES (?, ?, ?) ON CONFLICT(sender) DO UPDATE SET seq = excluded.seq, at = excluded.at', batch.sender, batch.seq, now);
        if (!this.sinceStored) this.write("INSERT OR IGNORE INTO meta (key, value) VALUES ('since', ?)", String(totals.since));
      });
      this.sinceStored = true;
    } catch (error) {
      // Storage rolled back; the totals in memory may be half merged: read them again.
      this.totalsCache = undefined;
      throw error;
    }
    this.prune(now);
    return { applied: true, flush_after_ms: this.flushAfter(now) };
  }

  /** Everything this shard has counted; null before its first batch. */
  totals(): StatsTotals | null {
    const totals = this.load(Date.now());
    return this.sinceStored ? totals : null;
  }

  private load(now: number): StatsTotals {
    if (this.totalsCache !== undefined) return this.totalsCache;
    const since = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'since'").toArray()[0]?.value;
    const totals: StatsTotals = { ...emptyDelta(), since: since === undefined ? now : Number(since) };
    this.sinceStored = since !== undefined;
    for (const row of this.sql.exec<{ kind: string; key: string; value: string }>('SELECT kind, key, value FROM counts')) {
      const kind = KINDS.find((k) => k === row.kind);
      if (kind !== undefined) (totals[kind] as Record<string, unknown>)[row.key] = JSON.parse(row.value);
    }
    this.totalsCache = totals;
    return totals;
  }

  private write(query: string, ...bindings: (string | number)[]): void {
    this.rowsWritten += this.sql.exec(query, ...bindings).rowsWritten;
  }

  /** The wait this shard asks of its senders; the count of active senders is taken again at most every STATS_FLUSH_MS. */
  private flushAfter(now: number): number {
    if (this.activeSenders === undefined || now - this.activeSenders.at >= STATS_FLUSH_MS) {
      const count = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM senders WHERE at >= ?', now - ACTIVE_SENDER_MS).one().n;
      this.activeSenders = { count, at: now };
    }
    return flushAfterMs(this.activeSenders.count);
  }

  private prune(now: number): void {
    if (now - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now;
    this.write('DELETE FROM senders WHERE at < ?', now - SENDER_RETENTION_MS);
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
