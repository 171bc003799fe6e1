import { DurableObject } from 'cloudflare:workers';
import type { Config } from '../config/schema';
import type { Env } from '../env';
import type { HealthMap } from '../health/state';
import { CheckRunner } from './check-runner';
import { readLarge, removeLarge, writeLarge, type Cells } from './large-values';
import { applyOutcomes, dueTargets, nextAlarm, pruneHealth, targetKey, type CheckTarget } from './health-schedule';
import type { ProbeOutcome } from '../health/probe';
import { controlPlane } from './locator';
import { assignedConfig, type ProbeAssignment, type RegionalResult } from './regional-checks';

// A check region's prober (SPEC §4): one Durable Object per region, named
// "probe:<REGION>" and created with the region's locationHint (locator.ts), so that in
// production its probes leave from that region. It checks the pools that list its
// region with six connections of its own, keeps its own rise/fall state and its own
// schedule (one alarm, set to its next due probe), and reports every round to the
// ControlPlane, the one writer of the snapshot. The ControlPlane hands it its part
// of the configuration whenever that changes, and again every minute.
// Storage: docs/storage-schema.md.

interface ProberValues {
  assignment: ProbeAssignment;
  health: HealthMap;
  /** Results the ControlPlane could not be told about yet: sent with the next report. */
  unreported: RegionalResult[];
}

export class HealthProber extends DurableObject<Env> {
  private runner: CheckRunner | undefined;
  /** The report being sent (reports go one at a time). */
  private reporting: Promise<void> = Promise.resolve();
  /** The assignment's text last read and its configuration: validated once per change. */
  private parsed: { text: string; config: Config | undefined } | undefined;

  /** Takes this region's part of the configuration (unless it holds a newer one) and arms the alarm for it. */
  async assign(assignment: ProbeAssignment): Promise<void> {
    this.take(assignment);
    await this.schedule();
  }

  /**
   * POST /health/check: every probe of this region now, the results reported; returns
   * once they, and any round already running here, are done.
   */
  async checkNow(assignment: ProbeAssignment): Promise<void> {
    this.take(assignment);
    const running = this.runner?.running() ?? [];
    await this.round(true, true);
    await Promise.allSettled(running);
    await this.schedule();
  }

  /** The alarm is set to the next due probe of this region. */
  override async alarm(): Promise<void> {
    await this.round(false);
    await this.schedule();
  }

  /**
   * The key-value storage, every value JSON text; one longer than a row is kept as
   * parts (large-values.ts: a big pool's health map passes 2 MB). A value a release
   * before that kept structured-cloned is read as it was.
   */
  private readonly cells: Cells = {
    get: (key) => {
      const value = this.ctx.storage.kv.get<unknown>(key);
      return value === undefined || typeof value === 'string' ? value : JSON.stringify(value);
    },
    put: (key, text) => this.ctx.storage.kv.put(key, text),
    delete: (key) => void this.ctx.storage.kv.delete(key),
  };

  private read<K extends keyof ProberValues>(key: K): ProberValues[K] | undefined {
    const text = readLarge(this.cells, key);
    return text === undefined ? undefined : (JSON.parse(text) as ProberValues[K]);
  }

  private write<K extends keyof ProberValues>(key: K, value: ProberValues[K]): void {
    writeLarge(this.cells, key, JSON.stringify(value));
  }

  private take(assignment: ProbeAssignment): void {
    const held = this.read('assignment');
    if (held !== undefined && held.version > assignment.version) return;
    if (held?.version === assignment.version && held.config === assignment.config) return;
    this.write('assignment', assignment);
    const config = this.configOf(assignment);
    if (config !== undefined) this.write('health', pruneHealth(this.read('health') ?? {}, config, Date.now(), assignment.region));
  }

  private configOf(assignment: ProbeAssignment | undefined): Config | undefined {
    if (assignment === undefined) return undefined;
    if (this.parsed?.text !== assignment.config) this.parsed = { text: assignment.config, config: assignedConfig(assignment) };
    return this.parsed.config;
  }

  /**
   * The due probes (every one with `all`), and those that come due while they are out
   * (CheckRunner.runRounds), run outside storage; each batch of outcomes applied through
   * rise/fall, stored and reported as it comes in.
   */
  private round(all: boolean, drain = false): Promise<void> {
    const assignment = this.read('assignment');
    const config = this.configOf(assignment);
    if (assignment === undefined || config === undefined) return Promise.resolve();
    const region = assignment.region;
    const runner = (this.runner ??= new CheckRunner(this.env, region));
    const due = (everyOne: boolean): CheckTarget[] => {
      const current = this.configOf(this.read('assignment'));
      return current === undefined ? [] : dueTargets(current, this.read('health') ?? {}, Date.now(), { all: everyOne, busy: runner.busy, from: region });
    };
    const targets = due(all);
    if (targets.length === 0) return Promise.resolve();
    // The reports go on after the last batch is stored: the round ends once they are sent (or held).
    return runner.track(runner.runRounds(targets, () => due(false), (batch, outcomes) => this.recordOutcomes(region, batch, outcomes), undefined, drain).then(() => this.reporting));
  }

  /**
   * A batch of outcomes: applied against this region's part as it is now (it may have
   * changed meanwhile) and stored; its report queued behind the others, so that its
   * origins are free for their next checks without waiting for the ControlPlane.
   */
  private recordOutcomes(region: ProbeAssignment['region'], targets: CheckTarget[], outcomes: ProbeOutcome[]): Promise<void> {
    const latest = this.configOf(this.read('assignment'));
    if (latest === undefined) return Promise.resolve();
    const { health, changes, applied } = applyOutcomes(latest, this.read('health') ?? {}, targets, outcomes, Date.now(), region);
    this.write('health', health);
    const transitions = new Map(changes.map((c) => [targetKey(c.pool, c.origin), c.transition]));
    const results: RegionalResult[] = applied.map(({ pool, origin, monitor, key }) => {
      const result: RegionalResult = { pool: pool.id, origin: origin.name, address: origin.address, monitor: monitor.id, health: health[pool.id]![origin.name]! };
      const transition = transitions.get(key);
      if (transition !== undefined) result.transition = transition;
      return result;
    });
    if (results.length > 0) {
      // One report at a time: what one could not send is held for the next, never lost between two.
      this.reporting = this.reporting
        .then(() => this.report(region, results))
        .catch((error) => console.error(`prober ${region}: a report failed`, error));
    }
    return Promise.resolve();
  }

  /** Tells the ControlPlane; what it could not be told goes with the next report, unless a newer result replaces it. */
  private async report(region: ProbeAssignment['region'], results: RegionalResult[]): Promise<void> {
    const fresh = new Set(results.map((r) => targetKey(r.pool, r.origin)));
    const held = this.read('unreported') ?? [];
    const all = [...held.filter((r) => !fresh.has(targetKey(r.pool, r.origin))), ...results];
    try {
      await controlPlane(this.env).recordRegionalChecks({ region, results: all });
      if (held.length > 0) removeLarge(this.cells, 'unreported');
    } catch (error) {
      console.error(`prober ${region}: the ControlPlane could not be told about ${all.length} result(s); they go with the next report`, error);
      this.write('unreported', all);
    }
  }

  private async schedule(): Promise<void> {
    const assignment = this.read('assignment');
    const next = nextAlarm(this.configOf(assignment), this.read('health') ?? {}, Date.now(), assignment?.region);
    if (next === undefined) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
  }
}
