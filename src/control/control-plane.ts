import { DurableObject } from 'cloudflare:workers';
import { compactJson, expandStored, oversize, storedText } from '../config/compact';
import type { Config, Monitor, Origin, Pool } from '../config/schema';
import { validateConfig, type Issue } from '../config/validate';
import type { Env } from '../env';
import { popByColo } from '../geo/anycast';
import { mapBounded, probe, type ProbeOutcome } from '../health/probe';
import { healthReport, type HealthReport } from './health-report';
import { nextHealth, type Transition } from '../health/rise-fall';
import { bindingOf, settings } from '../env';
import { emptyDelta, mergeStats, type StatsDelta, type StatsTotals } from '../stats/traffic';
import { postHealthNotice } from './webhook';
import { applyEdit, describeChange, describeDiff, diffConfigs, getAt, issuesFor, resourceTag, type ConfigEdit } from './config-edit';
import type { HealthMap, OriginHealth } from '../health/state';
import { REVISION_KEY, SNAPSHOT_KEY, type Snapshot } from './snapshot';

// The source of truth: one Durable Object (SQLite storage) holds the versioned
// configuration, health, PoP withdrawals and events. Every mutation runs inside
// blockConcurrencyWhile, so mutations are serialized and each publish to KV carries
// the newest state. Storage layout: docs/storage-schema.md.

const MAX_EVENTS = 1000;
/** Configuration versions kept for history and rollback (SPEC §5). */
export const MAX_VERSIONS = 50;
/** Workers allow six open connections per invocation. */
export const PROBE_CONCURRENCY = 6;
/** Without a transition, new check results (RTTs for dynamic_latency) are published at most this often. */
const HEALTH_PUBLISH_MS = 60_000;
/** A check counts as due this early, so an alarm that fires a little late or early does not skip a round. */
const DUE_SLACK_MS = 1000;

interface CheckTarget {
  pool: Pool;
  origin: Origin;
  monitor: Monitor;
  key: string;
}

export interface StoredConfig {
  version: number;
  config: Config | null;
}

export type PutConfigResult =
  | { ok: true; version: number; snapshot: Snapshot }
  | { ok: false; code: 'version_mismatch'; version: number }
  | { ok: false; code: 'invalid_config'; issues: Issue[] }
  | { ok: false; code: 'config_too_large'; message: string };

export type EditResult =
  | { ok: true; version: number; snapshot: Snapshot; resource: unknown; tag: string | undefined }
  | { ok: false; status: 400 | 404 | 409 | 412 | 413; code: string; message: string; issues?: Issue[] };

export interface VersionRecord {
  version: number;
  at: string;
  actor: string;
  summary: string;
}

export type RollbackResult =
  | { ok: true; version: number; snapshot: Snapshot }
  | { ok: false; status: 404 | 409; code: string; message: string };

export interface EventRecord {
  id: number;
  at: string;
  kind: string;
  message: string;
  detail: unknown;
}

export class ControlPlane extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Origins being probed now ("pool\0origin"): a check never overlaps the previous one. */
  private readonly probing = new Set<string>();
  /** Check rounds running now, for POST /health/check to wait for. */
  private readonly rounds = new Set<Promise<Snapshot>>();
  private healthPublishedAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS versions (
        version INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        summary TEXT NOT NULL,
        config TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        message TEXT NOT NULL,
        detail TEXT NOT NULL
      );
    `);
  }

  /**
   * The current snapshot, published to KV again (a reader found KV empty, or the cron
   * keeps it fresh). Seeds the configuration from LB_CONFIG on first use.
   */
  async snapshot(): Promise<Snapshot> {
    return this.mutate(() => {
      if (this.read<number>('revision') !== undefined) return 'republish';
      this.seed();
    });
  }

  async getConfig(): Promise<StoredConfig> {
    await this.ensureSeeded();
    const config = this.config() ?? null;
    return { version: this.read<number>('version') ?? 0, config };
  }

  /** Replaces the configuration; `ifMatch` is the version the caller last saw. */
  async putConfig(input: unknown, ifMatch: number | undefined, actor: string): Promise<PutConfigResult> {
    await this.ensureSeeded();
    let refused: PutConfigResult | undefined;
    let version = 0;
    const snapshot = await this.mutate(() => {
      const previous = this.config() ?? null;
      const current = this.read<number>('version') ?? 0;
      if (ifMatch !== undefined && ifMatch !== current) {
        refused = { ok: false, code: 'version_mismatch', version: current };
        return 'unchanged';
      }
      const validation = validateConfig(input);
      if (!validation.ok) {
        refused = { ok: false, code: 'invalid_config', issues: validation.issues };
        return 'unchanged';
      }
      const compact = compactJson(validation.config);
      const tooLarge = oversize(validation.config, compact);
      if (tooLarge !== undefined) {
        refused = { ok: false, code: 'config_too_large', message: tooLarge };
        return 'unchanged';
      }
      version = current + 1;
      const changes = diffConfigs(previous, validation.config);
      const summary = `configuration replaced: ${describeDiff(changes)}`;
      this.commitConfig(validation.config, version, actor, summary, compact);
      this.record('config', `configuration replaced (version ${version}): ${describeDiff(changes)}`, {
        actor,
        resource: 'config',
        action: 'replace',
        from: { version: current },
        to: { version },
        changes,
        version,
      });
    });
    if (refused === undefined) await this.scheduleChecks();
    return refused ?? { ok: true, version, snapshot };
  }

  /**
   * One change to one resource (create, replace, patch or delete), checked against
   * `If-Match` and validated as part of the whole configuration.
   */
  async edit(edit: ConfigEdit, ifMatch: string | undefined, actor: string): Promise<EditResult> {
    await this.ensureSeeded();
    let result: EditResult | undefined;
    const snapshot = await this.mutate(() => {
      const stored = this.config() ?? null;
      const current = this.read<number>('version') ?? 0;
      const outcome = applyEdit(stored, edit, current, ifMatch);
      if (!outcome.ok) {
        result = { ok: false, status: outcome.status, code: outcome.code, message: outcome.message };
        return 'unchanged';
      }
      const validation = validateConfig(outcome.document);
      if (!validation.ok) {
        const message = `the ${edit.kind.replace('_', ' ')} would make the configuration invalid`;
        result = { ok: false, status: 400, code: 'invalid_config', message, issues: issuesFor(validation.issues, outcome.ref) };
        return 'unchanged';
      }
      const resource = outcome.ref === undefined ? undefined : getAt(validation.config, outcome.ref.path);
      if (JSON.stringify(validation.config) === JSON.stringify(stored)) {
        result = { ok: true, version: current, resource, tag: resource === undefined ? undefined : resourceTag(resource) } as EditResult;
        return 'unchanged';
      }
      const compact = compactJson(validation.config);
      const tooLarge = oversize(validation.config, compact);
      if (tooLarge !== undefined) {
        result = { ok: false, status: 413, code: 'config_too_large', message: `the ${edit.kind.replace('_', ' ')} would make it too large: ${tooLarge}` };
        return 'unchanged';
      }
      const version = current + 1;
      const change = outcome.change.action === 'patch' || resource === undefined ? outcome.change : { ...outcome.change, to: resource };
      const summary = describeChange(change, version);
      const suffix = ` (version ${version})`;
      this.commitConfig(validation.config, version, actor, summary.endsWith(suffix) ? summary.slice(0, -suffix.length) : summary, compact);
      this.record('config', summary, { actor, ...change, version });
      result = { ok: true, version, resource, tag: resource === undefined ? undefined : resourceTag(resource) } as EditResult;
    });
    if (result!.ok) {
      result!.snapshot = snapshot;
      await this.scheduleChecks();
    }
    return result!;
  }

  /** Withdraws a PoP from (or restores it to) the anycast simulation. */
  async setWithdrawn(colo: string, withdrawn: boolean, actor: string): Promise<{ version: number; snapshot: Snapshot; changed: boolean }> {
    await this.ensureSeeded();
    let changed = false;
    const snapshot = await this.mutate(() => {
      const list = new Set(this.read<string[]>('withdrawn') ?? []);
      if (list.has(colo) === withdrawn) return 'unchanged';
      if (withdrawn) list.add(colo);
      else list.delete(colo);
      changed = true;
      const version = (this.read<number>('version') ?? 0) + 1;
      this.write('withdrawn', [...list].sort());
      this.write('version', version);
      const pop = popByColo(colo);
      const where = pop === undefined ? colo : `${colo} (${pop.city})`;
      this.record('pop', `PoP ${where} ${withdrawn ? 'withdrawn' : 'restored'} (version ${version})`, {
        actor,
        resource: 'pop',
        id: colo,
        action: withdrawn ? 'withdraw' : 'restore',
        from: { withdrawn: !withdrawn },
        to: { withdrawn },
        version,
      });
    });
    return { version: snapshot.version, snapshot, changed };
  }

  /** Adds an isolate's traffic counts (flushed in the background, see proxy/isolate.ts). */
  async recordStats(delta: StatsDelta): Promise<void> {
    const totals = this.read<StatsTotals>('stats') ?? { ...emptyDelta(), since: Date.now() };
    this.write('stats', mergeStats(totals, delta));
  }

  async stats(): Promise<StatsTotals> {
    return this.read<StatsTotals>('stats') ?? { ...emptyDelta(), since: Date.now() };
  }

  /** The current state as a snapshot, without publishing it (admin reads). */
  async current(): Promise<Snapshot> {
    await this.ensureSeeded();
    return this.buildSnapshot();
  }

  /**
   * POST /health/check: every probe now; the health document once they have all
   * finished, including those another round was already running (which this round
   * skips: a check of an origin never overlaps the previous one).
   */
  async checkNow(): Promise<{ report: HealthReport; snapshot: Snapshot }> {
    await this.ensureSeeded();
    const running = [...this.rounds];
    await this.runChecks(true, Date.now());
    await Promise.allSettled(running);
    await this.scheduleChecks();
    const snapshot = await this.current();
    return { report: healthReport(snapshot.config, snapshot.health), snapshot };
  }

  /** The cron trigger, every minute: due checks, the snapshot republished, the alarm (re)armed. */
  async tick(): Promise<Snapshot> {
    await this.ensureSeeded();
    await this.runChecks(false, Date.now());
    await this.scheduleChecks();
    return this.mutate(() => 'republish');
  }

  /** The alarm is set to the next due probe; it drives intervals below the cron's minute. */
  override async alarm(): Promise<void> {
    await this.runChecks(false, Date.now());
    await this.scheduleChecks();
  }

  async health(): Promise<HealthReport> {
    const snapshot = await this.current();
    return healthReport(snapshot.config, snapshot.health);
  }

  /**
   * Probes the origins that are due (or all, for `all`), at most PROBE_CONCURRENCY at
   * once, outside the serialized section so admin calls go on meanwhile; then applies
   * the results in one serialized change, records transitions and tells the webhook.
   */
  private runChecks(all: boolean, now: number): Promise<Snapshot> {
    const round = this.runRound(all, now);
    this.rounds.add(round);
    const done = (): void => void this.rounds.delete(round);
    round.then(done, done);
    return round;
  }

  private async runRound(all: boolean, now: number): Promise<Snapshot> {
    const targets = this.dueTargets(all, now);
    for (const target of targets) this.probing.add(target.key);
    let outcomes: ProbeOutcome[];
    try {
      outcomes = await mapBounded(targets, PROBE_CONCURRENCY, (t) => probe(t.monitor, t.origin, { network: (name) => bindingOf(this.env, name), zones: settings(this.env).zones }), (error) => ({
        ok: false,
        rtt_ms: 0,
        reason: `probe failed: ${(error as Error)?.message ?? String(error)}`,
        attempts: 1,
      }));
    } finally {
      for (const target of targets) this.probing.delete(target.key);
    }

    const transitions: { pool: string; origin: string; transition: Transition; at: number; rtt_ms: number | undefined }[] = [];
    const snapshot = await this.mutate(() => {
      const config = this.config();
      if (config === undefined) return 'unchanged';
      const health = pruneHealth(this.read<HealthMap>('health') ?? {}, config);
      const at = Date.now();
      targets.forEach((target, i) => {
        // The configuration may have changed while the probe ran: apply only what still holds.
        const pool = config.pools.find((p) => p.id === target.pool.id);
        const origin = pool?.origins.find((o) => o.name === target.origin.name);
        if (pool?.monitor !== target.monitor.id || origin?.address !== target.origin.address) return;
        const monitor = config.monitors.find((m) => m.id === pool.monitor) ?? target.monitor;
        const next = nextHealth(health[pool.id]?.[origin.name], outcomes[i]!, monitor, at);
        (health[pool.id] ??= {})[origin.name] = next.health;
        if (next.transition !== undefined) transitions.push({ pool: pool.id, origin: origin.name, transition: next.transition, at, rtt_ms: next.health.rtt_ms });
      });
      this.write('health', health);
      for (const { pool, origin, transition, at, rtt_ms } of transitions) {
        this.record('health', `origin ${pool}/${origin} ${transition.from} -> ${transition.to}: ${transition.reason}`, {
          pool,
          origin,
          from: transition.from,
          to: transition.to,
          reason: transition.reason,
          rtt_ms: rtt_ms ?? null,
          at: new Date(at).toISOString(),
        });
      }
      if (transitions.length === 0 && at - this.healthPublishedAt < HEALTH_PUBLISH_MS) return 'unpublished';
      this.healthPublishedAt = at;
    });

    const webhook = this.env.HEALTH_WEBHOOK_URL?.trim();
    if (webhook && transitions.length > 0) {
      const balancer = settings(this.env).lbName;
      this.ctx.waitUntil(
        Promise.all(
          transitions.map(({ pool, origin, transition, at, rtt_ms }) =>
            postHealthNotice(webhook, {
              event: 'health_transition',
              balancer,
              pool,
              origin,
              from: transition.from,
              to: transition.to,
              reason: transition.reason,
              at: new Date(at).toISOString(),
              rtt_ms: rtt_ms ?? null,
            }),
          ),
        ),
      );
    }
    return snapshot;
  }

  /** Monitored origins of enabled pools, enabled, not being probed, and due (or all). */
  private dueTargets(all: boolean, now: number): CheckTarget[] {
    const config = this.config();
    if (config === undefined) return [];
    const health = this.read<HealthMap>('health') ?? {};
    const monitors = new Map(config.monitors.map((m) => [m.id, m]));
    const targets: CheckTarget[] = [];
    for (const pool of config.pools) {
      const monitor = pool.monitor === undefined ? undefined : monitors.get(pool.monitor);
      if (!pool.enabled || monitor === undefined) continue;
      for (const origin of pool.origins) {
        const key = `${pool.id}\u0000${origin.name}`;
        if (!origin.enabled || this.probing.has(key)) continue;
        if (all || now + DUE_SLACK_MS >= nextDue(health[pool.id]?.[origin.name], monitor, now)) targets.push({ pool, origin, monitor, key });
      }
    }
    return targets;
  }

  /** Sets the alarm to the next due probe, or clears it when nothing is monitored. */
  private async scheduleChecks(): Promise<void> {
    const config = this.config();
    const health = this.read<HealthMap>('health') ?? {};
    const now = Date.now();
    let next = Infinity;
    for (const pool of config?.pools ?? []) {
      const monitor = config!.monitors.find((m) => m.id === pool.monitor);
      if (!pool.enabled || monitor === undefined) continue;
      for (const origin of pool.origins) if (origin.enabled) next = Math.min(next, nextDue(health[pool.id]?.[origin.name], monitor, now));
    }
    if (next === Infinity) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(Math.max(next, now + DUE_SLACK_MS));
  }

  /**
   * Seeds the store on first use; brings a store from before the version history into
   * it; and, when the stored configuration turns out damaged, repairs it as a change of
   * its own (a new version and revision, published), before anything reads it.
   */
  private async ensureSeeded(): Promise<void> {
    if (this.read<number>('revision') === undefined) await this.snapshot();
    if (this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM versions').one().n === 0) {
      const raw = this.sql.exec<{ value: string }>("SELECT value FROM state WHERE key = 'config'").toArray()[0]?.value;
      if (raw !== undefined) {
        this.sql.exec(
          "INSERT INTO versions (version, at, actor, summary, config) VALUES (?, ?, 'migration', 'the configuration stored before the version history', ?)",
          this.read<number>('version') ?? 0,
          new Date().toISOString(),
          raw,
        );
      }
    }
    if (this.configDamaged()) await this.mutate(() => void this.config());
  }

  /** Is the stored configuration's text one that does not validate (not yet repaired)? */
  private configDamaged(): boolean {
    const raw = this.sql.exec<{ value: string }>("SELECT value FROM state WHERE key = 'config'").toArray()[0]?.value;
    return raw !== undefined && raw !== this.configRaw && !this.checkStored(raw).ok;
  }

  /** The last stored text checked and its outcome: a damaged text is validated once, not once per look. */
  private lastChecked: { raw: string; result: StoredCheck } | undefined;

  private checkStored(raw: string): StoredCheck {
    if (this.lastChecked?.raw !== raw) this.lastChecked = { raw, result: checkStoredConfig(raw) };
    return this.lastChecked.result;
  }

  /** The kept configuration versions, newest first. */
  async versions(): Promise<VersionRecord[]> {
    await this.ensureSeeded();
    return this.sql.exec<{ version: number; at: string; actor: string; summary: string }>('SELECT version, at, actor, summary FROM versions ORDER BY version DESC').toArray();
  }

  /** One kept version with its configuration; undefined when it is not kept, `damaged` when its stored copy does not validate. */
  async version(n: number): Promise<(VersionRecord & { config: Config }) | 'damaged' | undefined> {
    await this.ensureSeeded();
    const row = this.sql.exec<{ version: number; at: string; actor: string; summary: string; config: string }>('SELECT * FROM versions WHERE version = ?', n).toArray()[0];
    if (row === undefined) return undefined;
    const config = validStoredConfig(row.config);
    return config === undefined ? 'damaged' : { version: row.version, at: row.at, actor: row.actor, summary: row.summary, config };
  }

  /** Makes kept version `n` current again, as a new version. */
  async rollback(n: number, actor: string): Promise<RollbackResult> {
    await this.ensureSeeded();
    let result: RollbackResult | undefined;
    const snapshot = await this.mutate(() => {
      this.config();
      const target = this.sql.exec<{ config: string }>('SELECT config FROM versions WHERE version = ?', n).toArray()[0];
      if (target === undefined) {
        result = { ok: false, status: 404, code: 'not_found', message: `version ${n} is not kept (the last ${MAX_VERSIONS} are)` };
        return 'unchanged';
      }
      const config = validStoredConfig(target.config);
      if (config === undefined) {
        result = { ok: false, status: 409, code: 'invalid_version', message: `the stored copy of version ${n} is damaged and cannot be restored` };
        return 'unchanged';
      }
      const current = this.read<number>('version') ?? 0;
      const version = current + 1;
      this.commitConfig(config, version, actor, `rollback to version ${n}`);
      this.record('config', `configuration rolled back to version ${n} (version ${version})`, {
        actor,
        resource: 'config',
        action: 'rollback',
        from: { version: current },
        to: { version, restored: n },
        version,
      });
      result = { ok: true, version, snapshot: undefined as unknown as Snapshot };
    });
    if (result!.ok) {
      result!.snapshot = snapshot;
      await this.scheduleChecks();
    }
    return result!;
  }

  /** The newest events first; `kind` narrows them to one kind (config, pop, health). */
  async events(limit = MAX_EVENTS, kind?: string): Promise<EventRecord[]> {
    return this.sql
      .exec<{ id: number; at: string; kind: string; message: string; detail: string }>(
        'SELECT id, at, kind, message, detail FROM events WHERE ?1 IS NULL OR kind = ?1 ORDER BY id DESC LIMIT ?2',
        kind ?? null,
        Math.min(limit, MAX_EVENTS),
      )
      .toArray()
      .map((row) => ({ ...row, detail: JSON.parse(row.detail) }));
  }

  /**
   * Runs a change serialized with every other change, then publishes the new
   * snapshot to KV. The change returns 'unchanged' when it changed nothing,
   * 'republish' to publish the current state again, and 'unpublished' for a change
   * that may wait for the next publish (the revision still moves on, so a snapshot
   * with a given revision always has the same content).
   */
  private async mutate(change: () => void | 'unchanged' | 'republish' | 'unpublished'): Promise<Snapshot> {
    let snapshot: Snapshot | undefined;
    await this.ctx.blockConcurrencyWhile(async () => {
      const outcome = change();
      if (outcome === undefined || outcome === 'unpublished') this.write('revision', (this.read<number>('revision') ?? 0) + 1);
      snapshot = this.buildSnapshot();
      if (outcome === undefined || outcome === 'republish') await this.publish(snapshot);
    });
    return snapshot!;
  }

  private async publish(snapshot: Snapshot): Promise<void> {
    // A damaged configuration with nothing valid to replace it is never published as
    // "nothing configured": the snapshot already in KV goes on serving.
    if (snapshot.config === null && this.read<string>('config_damaged') !== undefined) return;
    // The snapshot first: a reader that sees the new revision must find the new snapshot.
    await this.env.SNAPSHOTS.put(SNAPSHOT_KEY, JSON.stringify(snapshot));
    await this.env.SNAPSHOTS.put(REVISION_KEY, String(snapshot.revision));
  }

  private seed(): void {
    if (this.read<string>('affinity_secret') === undefined) {
      const bytes = crypto.getRandomValues(new Uint8Array(32));
      this.write('affinity_secret', [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(''));
    }
    this.write('version', 0);
    const seed = this.env.LB_CONFIG?.trim();
    if (!seed) return;
    let document: unknown;
    try {
      document = JSON.parse(seed);
    } catch (error) {
      this.write('config_error', `LB_CONFIG is not JSON: ${(error as Error).message}`);
      return;
    }
    const validation = validateConfig(document);
    if (!validation.ok) {
      const first = validation.issues.slice(0, 3).map((i) => `${i.path || '(root)'}: ${i.message}`);
      this.write('config_error', `LB_CONFIG is not a valid configuration: ${first.join('; ')}`);
      return;
    }
    this.commitConfig(validation.config, 1, 'LB_CONFIG', 'configuration seeded from LB_CONFIG');
    this.record('config', 'configuration seeded from LB_CONFIG (version 1)', { actor: 'LB_CONFIG', resource: 'config', action: 'replace', from: 0, to: 1, version: 1 });
  }

  private buildSnapshot(): Snapshot {
    const config = this.config() ?? null;
    return {
      revision: this.read<number>('revision') ?? 0,
      version: this.read<number>('version') ?? 0,
      config,
      configError: this.read<string>('config_error'),
      health: this.read<HealthMap>('health') ?? {},
      withdrawn: this.read<string[]>('withdrawn') ?? [],
      affinitySecret: this.read<string>('affinity_secret') ?? '',
      publishedAt: Date.now(),
    };
  }

  /** Stores `config` as version `version` and keeps it in the history (the newest MAX_VERSIONS). */
  private commitConfig(config: Config, version: number, actor: string, summary: string, compact = compactJson(config)): void {
    // Stored compact, with the defaults it leaves out: a third of the size, and a later
    // release's defaults never change what was stored.
    const text = storedText(compact);
    this.sql.exec('INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', 'config', text);
    this.remove('config_damaged');
    this.configRaw = text;
    this.configParsed = config;
    this.write('version', version);
    this.remove('config_error');
    this.sql.exec(
      'INSERT OR REPLACE INTO versions (version, at, actor, summary, config) VALUES (?, ?, ?, ?, ?)',
      version,
      new Date().toISOString(),
      actor,
      summary,
      text,
    );
    this.sql.exec('DELETE FROM versions WHERE version NOT IN (SELECT version FROM versions ORDER BY version DESC LIMIT ?)', MAX_VERSIONS);
  }

  /**
   * The stored configuration, validated as it is read (SPEC §5): a damaged one is never
   * served or built upon. The newest kept version that is valid takes its place, as a
   * new version, and a `storage` event says so; with none, nothing is configured.
   */
  private config(): Config | undefined {
    const raw = this.sql.exec<{ value: string }>('SELECT value FROM state WHERE key = ?', 'config').toArray()[0]?.value;
    if (raw === undefined) return undefined;
    if (raw === this.configRaw) return this.configParsed;
    const checked = this.checkStored(raw);
    if (checked.ok) {
      this.configRaw = raw;
      this.configParsed = checked.config;
      return checked.config;
    }
    return this.repairConfig(raw, checked.why);
  }

  private configRaw: string | undefined;
  private configParsed: Config | undefined;

  private repairConfig(raw: string, why: string): Config | undefined {
    const current = this.read<number>('version') ?? 0;
    for (const row of this.sql.exec<{ version: number; config: string }>('SELECT version, config FROM versions ORDER BY version DESC').toArray()) {
      const config = validStoredConfig(row.config);
      if (config === undefined) continue;
      const version = current + 1;
      this.commitConfig(config, version, 'storage', `restored version ${row.version}: the stored configuration was damaged`);
      this.record('storage', `the stored configuration was damaged (${why}); version ${row.version} restored as version ${version}`, {
        actor: 'storage',
        resource: 'config',
        action: 'restore',
        reason: why,
        from: { version: current },
        to: { version, restored: row.version },
        version,
      });
      return config;
    }
    // Nothing valid to go back to: keep the damaged text aside (never delete an
    // operator's document) and stop publishing, so isolates keep serving the last
    // snapshot they have until a valid configuration is stored.
    this.write('config_damaged', raw);
    this.remove('config');
    this.write('config_error', `the stored configuration was damaged (${why}) and no valid earlier version is kept; it is kept aside as config_damaged: store a valid one`);
    this.record('storage', `the stored configuration was damaged (${why}) and no valid earlier version is kept: isolates keep the last published snapshot`, {
      actor: 'storage',
      resource: 'config',
      action: 'set_aside',
      reason: why,
    });
    return undefined;
  }

  private record(kind: string, message: string, detail: Record<string, unknown>): void {
    this.sql.exec(
      'INSERT INTO events (at, kind, message, detail) VALUES (?, ?, ?, ?)',
      new Date().toISOString(),
      kind,
      message,
      eventDetail(detail),
    );
    this.sql.exec('DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?', MAX_EVENTS);
  }

  private read<T>(key: string): T | undefined {
    const row = this.sql.exec<{ value: string }>('SELECT value FROM state WHERE key = ?', key).toArray()[0];
    return row === undefined ? undefined : (JSON.parse(row.value) as T);
  }

  private remove(key: string): void {
    this.sql.exec('DELETE FROM state WHERE key = ?', key);
  }

  private write(key: string, value: unknown): void {
    this.sql.exec('INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', key, JSON.stringify(value));
  }
}


/** When an origin's next probe is due: now if never checked, else its last check plus the interval. */
function nextDue(health: OriginHealth | undefined, monitor: Monitor, now: number): number {
  const last = health?.last_check_at === undefined ? NaN : Date.parse(health.last_check_at);
  return Number.isNaN(last) ? now : last + monitor.interval * 1000;
}

/** Drops results of origins that are gone or no longer monitored. */
function pruneHealth(health: HealthMap, config: Config): HealthMap {
  const kept: HealthMap = {};
  for (const pool of config.pools) {
    const results = health[pool.id];
    if (results === undefined || pool.monitor === undefined) continue;
    for (const origin of pool.origins) {
      const result = results[origin.name];
      if (result !== undefined) (kept[pool.id] ??= {})[origin.name] = result;
    }
  }
  return kept;
}

type StoredCheck = { ok: true; config: Config } | { ok: false; why: string };

/** A stored configuration's text, parsed and validated, or briefly what is wrong with it. */
function checkStoredConfig(raw: string): StoredCheck {
  let document: unknown;
  try {
    document = JSON.parse(raw);
  } catch (error) {
    return { ok: false, why: `not JSON: ${(error as Error).message}` };
  }
  const validation = validateConfig(expandStored(document));
  if (validation.ok) return { ok: true, config: validation.config };
  const [first] = validation.issues;
  return { ok: false, why: `${first.path || '(root)'}: ${first.message}` };
}

/** The most an event's detail holds; a larger `from`/`to` (a 10,000-origin pool replaced) is left out. */
const MAX_EVENT_DETAIL_BYTES = 64 * 1024;

/** An event's detail as stored: whole when small, else with its `from` and `to` summarised (the version history keeps them). */
function eventDetail(detail: Record<string, unknown>): string {
  const text = JSON.stringify(detail);
  if (text.length <= MAX_EVENT_DETAIL_BYTES / 4 || new TextEncoder().encode(text).byteLength <= MAX_EVENT_DETAIL_BYTES) return text;
  const omitted = (value: unknown) =>
    value === undefined || value === null ? value : { omitted: `${new TextEncoder().encode(JSON.stringify(value)).byteLength} bytes; see the version history` };
  return JSON.stringify({ ...detail, from: omitted(detail.from), to: omitted(detail.to), changes: detail.changes === undefined ? undefined : omitted(detail.changes) });
}

/** A stored configuration's text, parsed and validated; undefined when it is damaged. */
function validStoredConfig(raw: string): Config | undefined {
  const checked = checkStoredConfig(raw);
  return checked.ok ? checked.config : undefined;
}
