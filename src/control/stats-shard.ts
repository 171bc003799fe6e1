import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import type { BatchReceipt, StatsBatch } from '../stats/hand-over';
import type { StatsTotals } from '../stats/traffic';
import { COMPACT_AFTER_MS, ShardStore } from './stats-shard-store';

// One of STATS_SHARDS Durable Objects (named `stats:<n>`) that take the isolates' traffic
// counts instead of the ControlPlane: each isolate hands its counts to the shard its
// id hashes to, so no object takes more than its share of the hand-overs, and each
// shard asks its senders to wait longer when more of them than its write budget
// allows are active (hand-over.ts). Reads merge every shard (stats-shards.ts). The
// alarm folds the journal of batches into the counts once a minute.

export class StatsShard extends DurableObject<Env> {
  /** Public for the tests' storage figures (rows written). */
  readonly store: ShardStore;
  /** Known to be set (or to have been checked) since the last compaction. */
  private alarmSet = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new ShardStore(ctx.storage);
  }

  /** Applies a sender's batch once: a resend of one already applied is acknowledged and not counted again. */
  async record(batch: StatsBatch): Promise<BatchReceipt> {
    const now = Date.now();
    const receipt = this.store.apply(batch, now);
    if (receipt.applied && !this.alarmSet) {
      if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(now + COMPACT_AFTER_MS);
      this.alarmSet = true;
    }
    return receipt;
  }

  /** This shard's totals; null before it was handed anything. */
  async totals(): Promise<StatsTotals | null> {
    return this.store.totals();
  }

  override async alarm(): Promise<void> {
    this.alarmSet = false;
    this.store.compact(Date.now());
  }
}
