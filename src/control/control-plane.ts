import { DurableObject } from 'cloudflare:workers';
import type { Config } from '../config/schema';
import { validateConfig, type Issue } from '../config/validate';
import type { Env } from '../env';
import { popByColo } from '../geo/anycast';
import { applyEdit, describeChange, describeDiff, diffConfigs, issuesFor, resourceTag, type ConfigEdit } from './config-edit';
import type { HealthMap } from '../steering/plan';
import { REVISION_KEY, SNAPSHOT_KEY, type Snapshot } from './snapshot';

// The source of truth: one Durable Object (SQLite storage) holds the versioned
// configuration, health, PoP withdrawals and events. Every mutation runs inside
// blockConcurrencyWhile, so mutations are serialized and each publish to KV carries
// the newest state. Storage layout: docs/storage-schema.md.

const MAX_EVENTS = 1000;

export interface StoredConfig {
  version: number;
  config: Config | null;
}

export type PutConfigResult =
  | { ok: true; version: number; snapshot: Snapshot }
  | { ok: false; code: 'version_mismatch'; version: number }
  | { ok: false; code: 'invalid_config'; issues: Issue[] };

export type EditResult =
  | { ok: true; version: number; snapshot: Snapshot; resource: unknown; tag: string | undefined }
  | { ok: false; status: 400 | 404 | 409 | 412; code: string; message: string; issues?: Issue[] };

export interface EventRecord {
  id: number;
  at: string;
  kind: string;
  message: string;
  detail: unknown;
}

export class ControlPlane extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
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
    return { version: this.read<number>('version') ?? 0, config: this.read<Config>('config') ?? null };
  }

  /** Replaces the configuration; `ifMatch` is the version the caller last saw. */
  async putConfig(input: unknown, ifMatch: number | undefined, actor: string): Promise<PutConfigResult> {
    await this.ensureSeeded();
    let refused: PutConfigResult | undefined;
    let version = 0;
    const snapshot = await this.mutate(() => {
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
      version = current + 1;
      const changes = diffConfigs(this.read<Config>('config') ?? null, validation.config);
      this.write('config', validation.config);
      this.write('version', version);
      this.remove('config_error');
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
      const stored = this.read<Config>('config') ?? null;
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
      const resource = outcome.ref === undefined ? undefined : valueAt(validation.config, outcome.ref.path);
      if (JSON.stringify(validation.config) === JSON.stringify(stored)) {
        result = { ok: true, version: current, resource, tag: resource === undefined ? undefined : resourceTag(resource) } as EditResult;
        return 'unchanged';
      }
      const version = current + 1;
      this.write('config', validation.config);
      this.write('version', version);
      this.remove('config_error');
      const change = outcome.change.action === 'patch' || resource === undefined ? outcome.change : { ...outcome.change, to: resource };
      this.record('config', describeChange(change, version), { actor, ...change, version });
      result = { ok: true, version, resource, tag: resource === undefined ? undefined : resourceTag(resource) } as EditResult;
    });
    if (result!.ok) result!.snapshot = snapshot;
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

  /** The current state as a snapshot, without publishing it (admin reads). */
  async current(): Promise<Snapshot> {
    await this.ensureSeeded();
    return this.buildSnapshot();
  }

  private async ensureSeeded(): Promise<void> {
    if (this.read<number>('revision') === undefined) await this.snapshot();
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
   * snapshot to KV. The change returns 'unchanged' when it changed nothing, and
   * 'republish' to publish the current state again.
   */
  private async mutate(change: () => void | 'unchanged' | 'republish'): Promise<Snapshot> {
    let snapshot: Snapshot | undefined;
    await this.ctx.blockConcurrencyWhile(async () => {
      const outcome = change();
      if (outcome === undefined) this.write('revision', (this.read<number>('revision') ?? 0) + 1);
      snapshot = this.buildSnapshot();
      if (outcome !== 'unchanged') await this.publish(snapshot);
    });
    return snapshot!;
  }

  private async publish(snapshot: Snapshot): Promise<void> {
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
    this.write('config', validation.config);
    this.write('version', 1);
    this.record('config', 'configuration seeded from LB_CONFIG (version 1)', { actor: 'LB_CONFIG', resource: 'config', action: 'replace', from: 0, to: 1, version: 1 });
  }

  private buildSnapshot(): Snapshot {
    return {
      revision: this.read<number>('revision') ?? 0,
      version: this.read<number>('version') ?? 0,
      config: this.read<Config>('config') ?? null,
      configError: this.read<string>('config_error'),
      health: this.read<HealthMap>('health') ?? {},
      withdrawn: this.read<string[]>('withdrawn') ?? [],
      affinitySecret: this.read<string>('affinity_secret') ?? '',
      publishedAt: Date.now(),
    };
  }

  private record(kind: string, message: string, detail: unknown): void {
    this.sql.exec(
      'INSERT INTO events (at, kind, message, detail) VALUES (?, ?, ?, ?)',
      new Date().toISOString(),
      kind,
      message,
      JSON.stringify(detail),
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

function valueAt(root: unknown, path: (string | number)[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown> | undefined)?.[key], root);
}
