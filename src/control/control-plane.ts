import { DurableObject } from 'cloudflare:workers';
import type { Config } from '../config/schema';
import { settings, type Env } from '../env';
import type { Region } from '../geo/regions';
import { emptyDelta, mergeStats, type StatsDelta, type StatsTotals } from '../stats/traffic';
import { editResource, recordCheckRound, recordRegionalRound, replaceConfig, rollbackTo, seedState, withdrawPop, type EditResult, type PutConfigResult, type RollbackResult } from './changes';
import { CheckRunner } from './check-runner';
import type { ConfigEdit } from './config-edit';
import { healthReport, type HealthReport } from './health-report';
import { dueTargets, nextAlarm, type CheckTarget, type HealthChange } from './health-schedule';
import { prober } from './locator';
import { bumpsRevision, changed, publishes, republish, type Mutated, type MutationOutcome } from './mutation';
import { PopRefreshLog, type PopRefreshCount } from './pop-refreshes';
import type { ProbeOutcome } from '../health/probe';
import { assignmentFor, regionsInUse, type RegionalReport } from './regional-checks';
import type { PopRefresh, Snapshot } from './snapshot';
import { MAX_EVENTS, StateStore, type EventRecord, type VersionRecord } from './store';
import { postHealthChanges } from './webhook';

export type { EditResult, PutConfigResult, RollbackResult } from './changes';
export type { EventRecord, VersionRecord } from './store';
export type { PopRefreshCount } from './pop-refreshes';

// The source of truth: one Durable Object (SQLite storage) holds the versioned
// configuration, health, PoP withdrawals and events. Its RPC methods run each change
// through mutate, inside blockConcurrencyWhile, so changes are serialized and each
// publish to KV carries the newest state. The store is store.ts, the changes
// changes.ts, the check schedule health-schedule.ts; storage layout:
// docs/storage-schema.md. Pools with check_regions are probed by the probers of their
// regions (prober.ts), which this object keeps supplied with their part of the
// configuration and whose reports it records.

export { PROBE_CONCURRENCY } from './check-runner';

export interface StoredConfig {
  version: number;
  config: Config | null;
  /** While nothing is configured: why (LB_CONFIG could not be used, or a damaged stored configuration had nothing valid to go back to). */
  config_error?: string;
}

export class ControlPlane extends DurableObject<Env> {
  private readonly store: StateStore;
  private readonly runner: CheckRunner;
  private healthPublishedAt = 0;
  /** The snapshot last published to KV: what PoPs are handed (pop-cache.ts). */
  private published: Snapshot | undefined;
  private readonly popRefreshLog = new PopRefreshLog();
  /** The probers' assignments, one hand-out after the other. */
  private assigning: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new StateStore(ctx.storage.sql, env.SNAPSHOTS);
    this.runner = new CheckRunner(env);
  }

  /**
   * The current snapshot, published to KV again (a reader found KV empty, or the cron
   * keeps it fresh). Seeds the configuration from LB_CONFIG on first use.
   */
  async snapshot(): Promise<Snapshot> {
    const { snapshot } = await this.mutate(() => {
      if (this.store.seeded()) return republish();
      seedState(this.store, this.env.LB_CONFIG);
      return changed();
    });
    return snapshot;
  }

  /**
   * A PoP's refresh (the PoP tier, SPEC §5): the revision last published, with its
   * snapshot when the PoP's revision `have` is older. Counted per PoP. Served from
   * memory: one answer per PoP and SNAPSHOT_TTL_MS is the object's load from isolates.
   */
  async refresh(colo: string, have: number): Promise<PopRefresh> {
    this.popRefreshLog.record(colo, Date.now());
    if (this.published === undefined) await this.snapshot();
    const published = this.published;
    // Nothing publishable (a damaged configuration with nothing valid to go back to): the PoP keeps what it has.
    if (published === undefined) return { revision: have };
    return published.revision > have ? { revision: published.revision, snapshot: published } : { revision: published.revision };
  }

  /** The refreshes served to each PoP since the object started. */
  async popRefreshes(): Promise<PopRefreshCount[]> {
    return this.popRefreshLog.report();
  }

  async getConfig(): Promise<StoredConfig> {
    await this.ensureSeeded();
    const config = this.store.config() ?? null;
    const error = config === null ? this.store.read('config_error') : undefined;
    return { version: this.store.currentVersion(), config, ...(error === undefined ? {} : { config_error: error }) };
  }

  /** Replaces the configuration; `ifMatch` is the version the caller last saw. */
  async putConfig(input: unknown, ifMatch: number | undefined, actor: string): Promise<PutConfigResult> {
    await this.ensureSeeded();
    const { result, snapshot } = await this.mutate(() => replaceConfig(this.store, input, ifMatch, actor));
    if (!result.ok) return result;
    await this.scheduleAll();
    return { ...result, snapshot };
  }

  /**
   * One change to one resource (create, replace, patch or delete), checked against
   * `If-Match` and validated as part of the whole configuration.
   */
  async edit(edit: ConfigEdit, ifMatch: string | undefined, actor: string): Promise<EditResult> {
    await this.ensureSeeded();
    const { result, snapshot } = await this.mutate(() => editResource(this.store, edit, ifMatch, actor));
    if (!result.ok) return result;
    await this.scheduleAll();
    return { ...result, snapshot };
  }

  /** Withdraws a PoP from (or restores it to) the anycast simulation. */
  async setWithdrawn(colo: string, withdrawn: boolean, actor: string): Promise<{ version: number; snapshot: Snapshot; changed: boolean }> {
    await this.ensureSeeded();
    const { result, snapshot } = await this.mutate(() => withdrawPop(this.store, colo, withdrawn, actor));
    return { version: snapshot.version, snapshot, changed: result };
  }

  /**
   * Adds traffic counts handed over the way releases before the stats shards did: by
   * isolates still running such a release while a deploy rolls out. Isolates of this
   * release hand theirs to the shards (control/stats-shards.ts).
   */
  async recordStats(delta: StatsDelta): Promise<void> {
    this.store.write('stats', mergeStats(this.statsTotals(), delta));
  }

  /** The counts this object holds from before the stats shards; every stats read merges them with the shards'. */
  async stats(): Promise<StatsTotals> {
    return this.statsTotals();
  }

  /** The current state as a snapshot, without publishing it (admin reads). */
  async current(): Promise<Snapshot> {
    await this.ensureSeeded();
    return this.store.snapshot(Date.now());
  }

  /**
   * POST /health/check: every probe now; the health document once they have all
   * finished, including those another round was already running (which this round
   * skips: a check of an origin never overlaps the previous one).
   */
  async checkNow(): Promise<{ report: HealthReport; snapshot: Snapshot }> {
    await this.ensureSeeded();
    const running = this.runner.running();
    await Promise.all([this.runChecks(true, Date.now(), true), this.checkRegionsNow()]);
    await Promise.allSettled(running);
    await this.scheduleChecks();
    const snapshot = await this.current();
    return { report: healthReport(snapshot.config, snapshot.health), snapshot };
  }

  /**
   * The cron trigger, every minute: due checks, the snapshot republished, the alarm
   * (re)armed, and every prober handed its part again (which re-arms its alarm).
   */
  async tick(): Promise<Snapshot> {
    await this.ensureSeeded();
    await this.runChecks(false, Date.now());
    await this.scheduleChecks();
    await this.assignProbers();
    const { snapshot } = await this.mutate(() => republish());
    return snapshot;
  }

  /**
   * The alarm is set to the next due probe; it drives intervals below the cron's minute.
   * While a round's slow probes are still out, the origins that come due meanwhile
   * start rounds of their own, from the same subrequest budget: one origin that holds
   * its probe's connection open cannot hold back the other origins' checks.
   */
  override async alarm(): Promise<void> {
    await this.runChecks(false, Date.now());
    await this.scheduleChecks();
  }

  /** A check region's prober reports a round: its results, and the verdict over each pool's regions, stored in one change. */
  async recordRegionalChecks(report: RegionalReport): Promise<void> {
    await this.ensureSeeded();
    const { result: changes } = await this.mutate(() => {
      const at = Date.now();
      const outcome = recordRegionalRound(this.store, report, at, this.healthPublishedAt);
      if (publishes(outcome.effect)) this.healthPublishedAt = at;
      return outcome;
    });
    this.notify(changes);
  }

  async health(): Promise<HealthReport> {
    const snapshot = await this.current();
    return healthReport(snapshot.config, snapshot.health);
  }

  /** The kept configuration versions, newest first. */
  async versions(): Promise<VersionRecord[]> {
    await this.ensureSeeded();
    return this.store.versions();
  }

  /** One kept version with its configuration; undefined when it is not kept, `damaged` when its stored copy does not validate. */
  async version(n: number): Promise<(VersionRecord & { config: Config }) | 'damaged' | undefined> {
    await this.ensureSeeded();
    return this.store.keptVersion(n);
  }

  /** Makes kept version `n` current again, as a new version. */
  async rollback(n: number, actor: string): Promise<RollbackResult> {
    await this.ensureSeeded();
    const { result, snapshot } = await this.mutate(() => rollbackTo(this.store, n, actor));
    if (!result.ok) return result;
    await this.scheduleAll();
    return { ...result, snapshot };
  }

  /** The newest events first; `kind` narrows them to one kind (config, pop, health). */
  async events(limit = MAX_EVENTS, kind?: string): Promise<EventRecord[]> {
    return this.store.events(limit, kind);
  }

  private statsTotals(): StatsTotals {
    return this.store.read('stats') ?? { ...emptyDelta(), since: Date.now() };
  }

  /**
   * Runs a change serialized with every other change; then, as its outcome asks,
   * moves the revision on and publishes the new snapshot to KV (mutation.ts).
   */
  private mutate<T>(change: () => MutationOutcome<T>): Promise<Mutated<T>> {
    return this.ctx.blockConcurrencyWhile(async () => {
      const { effect, result } = change();
      if (bumpsRevision(effect)) this.store.bumpRevision();
      const snapshot = this.store.snapshot(Date.now());
      if (publishes(effect)) await this.publish(snapshot);
      return { result, snapshot };
    });
  }

  /**
   * Publishes to KV, and hands PoPs the snapshot from now on. A failed KV write (KV takes
   * one write a second per key; health batches, probers' reports and admin changes can
   * come closer) is logged and left to the next change or the cron's republish, never
   * thrown: an exception inside blockConcurrencyWhile would reset the object, and the
   * change is already stored. PoPs get the snapshot from memory all the same; only a
   * cold isolate, which reads KV, sees it that much later.
   */
  private async publish(snapshot: Snapshot): Promise<void> {
    let handed: boolean;
    try {
      handed = await this.store.publish(snapshot);
    } catch (error) {
      console.error(`the snapshot of revision ${snapshot.revision} could not be published to KV; the next change or the cron publishes it`, error);
      handed = true;
    }
    if (handed) this.published = snapshot;
  }

  /**
   * Probes the origins that are due (or all, for `all`), and those that come due while
   * they are out (CheckRunner.runRounds), outside the serialized section so admin calls
   * go on meanwhile; each batch of outcomes is stored as it comes in (recordOutcomes).
   * `drain`: return only once every round started here has ended (POST /health/check
   * answers with all its outcomes).
   */
  private runChecks(all: boolean, now: number, drain = false): Promise<void> {
    const due = (everyOne: boolean, at: number) => dueTargets(this.store.config(), this.store.read('health') ?? {}, at, { all: everyOne, busy: this.runner.busy });
    return this.runner.track(this.runner.runRounds(due(all, now), () => due(false, Date.now()), (batch, outcomes) => this.recordOutcomes(batch, outcomes), undefined, drain));
  }

  /** A batch of a round's outcomes, stored in one change; transitions told to the webhook. */
  private async recordOutcomes(targets: CheckTarget[], outcomes: ProbeOutcome[]): Promise<void> {
    const { result: changes } = await this.mutate(() => {
      const at = Date.now();
      const outcome = recordCheckRound(this.store, targets, outcomes, at, this.healthPublishedAt);
      if (publishes(outcome.effect)) this.healthPublishedAt = at;
      return outcome;
    });
    this.notify(changes);
  }

  /** HEALTH_WEBHOOK_URL: each transition posted, beside the checks. */
  private notify(changes: readonly HealthChange[]): void {
    const webhook = this.env.HEALTH_WEBHOOK_URL?.trim();
    if (webhook && changes.length > 0) this.ctx.waitUntil(postHealthChanges(webhook, settings(this.env).lbName, changes));
  }

  /** Every check region's probes now, each region's prober side by side; done when all have reported (or failed). */
  private async checkRegionsNow(): Promise<void> {
    const config = this.store.config();
    const version = this.store.currentVersion();
    const regions = regionsInUse(config);
    // Held before the hand-out, so a later configuration without the region stops its prober.
    this.holdRegions(regions);
    const outcomes = await Promise.allSettled(regions.map((region) => prober(this.env, region).checkNow(assignmentFor(config, region, version))));
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'rejected') console.error(`the prober of ${regions[i]} could not check`, outcome.reason);
    });
  }

  /**
   * Hands every prober in use its part of the configuration, and those no longer in use
   * an empty one (which clears their alarm); one hand-out at a time, each reading the
   * configuration as it is then. A prober that cannot be reached is tried again by the
   * next hand-out (the cron's, at the latest).
   */
  private assignProbers(): Promise<void> {
    const next = this.assigning.then(async () => {
      const config = this.store.config();
      const version = this.store.currentVersion();
      const used = regionsInUse(config);
      const held = this.holdRegions(used);
      const regions = held;
      const outcomes = await Promise.allSettled(regions.map((region) => prober(this.env, region).assign(assignmentFor(config, region, version))));
      const kept = regions.filter((region, i) => used.includes(region) || outcomes[i].status === 'rejected');
      outcomes.forEach((outcome, i) => {
        if (outcome.status === 'rejected') console.error(`the prober of ${regions[i]} could not be given its checks`, outcome.reason);
      });
      if (JSON.stringify(kept) !== JSON.stringify(held)) {
        if (kept.length === 0) this.store.remove('probe_regions');
        else this.store.write('probe_regions', kept);
      }
    });
    this.assigning = next.catch(() => {});
    return next;
  }

  /**
   * Records `regions` among those whose probers have been handed checks, before the
   * hand-out: a prober given checks is always told when its region is no longer used,
   * even if this object restarts between the hand-out and the record. Answers them all.
   */
  private holdRegions(regions: readonly Region[]): Region[] {
    const held = this.store.read('probe_regions') ?? [];
    const all = [...new Set<Region>([...held, ...regions])];
    if (all.length !== held.length) this.store.write('probe_regions', all);
    return all;
  }

  /** After a change of the configuration: the alarm, and the probers' parts. */
  private async scheduleAll(): Promise<void> {
    await this.scheduleChecks();
    await this.assignProbers();
  }

  /** Sets the alarm to the next due probe, or clears it when nothing is monitored. */
  private async scheduleChecks(): Promise<void> {
    const next = nextAlarm(this.store.config(), this.store.read('health') ?? {}, Date.now());
    if (next === undefined) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
  }

  /**
   * Seeds the store on first use; brings a store from before the version history into
   * it; and, when the stored configuration turns out damaged, repairs it as a change of
   * its own (a new version and revision, published), before anything reads it.
   */
  private async ensureSeeded(): Promise<void> {
    if (!this.store.seeded()) await this.snapshot();
    this.store.keepUnversionedConfig();
    if (this.store.configDamaged()) {
      await this.mutate(() => {
        this.store.config();
        return changed();
      });
    }
  }
}
