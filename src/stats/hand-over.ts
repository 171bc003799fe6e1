import type { StatsDelta, TrafficCounter } from './traffic';

// How an isolate's counts reach the stats shards, pure. Each isolate is a sender with
// an id of its own and numbers its batches 1, 2, 3…; a shard applies a (sender, seq)
// once and answers a resend of one it has applied without applying it again. A batch
// whose hand-over failed is kept as it is and sent again before anything newer, so a
// lost answer cannot double counts and a lost request cannot lose them. While one waits,
// new counts gather in the TrafficCounter: an isolate holds at most one batch in flight
// and one pending delta, each at most one entry per origin, pool and PoP.

/** Shard Durable Objects the counts are spread over (`stats:0` … `stats:15`). May grow, never shrink: reads cover 0 … STATS_SHARDS - 1. */
export const STATS_SHARDS = 16;
/** The shortest time between an isolate's hand-overs. */
export const STATS_FLUSH_MS = 10_000;
/** The longest a shard asks an isolate to wait. */
export const MAX_FLUSH_MS = 300_000;
/** Hand-overs one shard is meant to take per second; with more senders it asks each to wait longer. */
export const SHARD_WRITES_PER_SECOND = 50;
/** A sender is counted as active this long after its last batch. */
export const ACTIVE_SENDER_MS = MAX_FLUSH_MS + STATS_FLUSH_MS;
/** How long a shard remembers a sender's last batch number. */
export const SENDER_RETENTION_MS = 7 * 24 * 3600_000;
/**
 * A batch still unacknowledged after this long is given up: well inside
 * SENDER_RETENTION_MS, so that a resend can never reach a shard that has forgotten
 * whether it applied it.
 */
export const MAX_UNACKED_MS = 24 * 3600_000;

/** One sender's counts on their way to its shard. */
export interface StatsBatch {
  sender: string;
  /** 1 for the sender's first batch, one more for each next one. */
  seq: number;
  delta: StatsDelta;
}

/** A shard's answer to a batch. */
export interface BatchReceipt {
  /** false: the shard had applied this batch already (a resend after a lost answer). */
  applied: boolean;
  /** How long the sender should wait before its next batch (flushAfterMs). */
  flush_after_ms: number;
}

export interface FlushOutcome {
  /** The last receipt, when anything was sent. */
  receipt: BatchReceipt | undefined;
  /** A batch given up after MAX_UNACKED_MS; its counts are lost. */
  gaveUp: StatsBatch | undefined;
}

export class StatsOutbox {
  private seq = 0;
  private unacked: { batch: StatsBatch; since: number } | undefined;

  constructor(
    readonly sender: string,
    private readonly counter: TrafficCounter,
  ) {}

  /** Is there a batch to send again or counts not yet sent? */
  get hasWork(): boolean {
    return this.unacked !== undefined || this.counter.pendingCount > 0;
  }

  /** The batch sent and not yet acknowledged, if any. */
  get waiting(): StatsBatch | undefined {
    return this.unacked?.batch;
  }

  /**
   * Sends the unacknowledged batch again, if there is one, then the pending counts as
   * the next batch. Throws what `send` throws; whatever was not acknowledged is kept
   * for the next flush.
   */
  async flush(send: (batch: StatsBatch) => Promise<BatchReceipt>, now: number): Promise<FlushOutcome> {
    let receipt: BatchReceipt | undefined;
    let gaveUp: StatsBatch | undefined;
    if (this.unacked !== undefined && now - this.unacked.since > MAX_UNACKED_MS) {
      gaveUp = this.unacked.batch;
      this.unacked = undefined;
    }
    if (this.unacked !== undefined) {
      receipt = await send(this.unacked.batch);
      this.unacked = undefined;
    }
    if (this.counter.pendingCount > 0) {
      const batch: StatsBatch = { sender: this.sender, seq: ++this.seq, delta: this.counter.take() };
      this.unacked = { batch, since: now };
      receipt = await send(batch);
      this.unacked = undefined;
    }
    return { receipt, gaveUp };
  }
}

/** The shard a sender hands its counts to: FNV-1a of its id, so a resend goes where the first try went. */
export function shardOf(sender: string, shards = STATS_SHARDS): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < sender.length; i++) {
    hash ^= sender.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/**
 * How long a shard asks each sender to wait, given how many senders it has heard from
 * within ACTIVE_SENDER_MS: STATS_FLUSH_MS while they fit in SHARD_WRITES_PER_SECOND,
 * longer in proportion beyond that, so the shard's write rate stays at the budget
 * whatever the number of isolates (up to MAX_FLUSH_MS).
 */
export function flushAfterMs(activeSenders: number, writesPerSecond = SHARD_WRITES_PER_SECOND): number {
  const spread = Math.ceil((activeSenders * 1000) / writesPerSecond);
  return Math.min(MAX_FLUSH_MS, Math.max(STATS_FLUSH_MS, spread));
}
