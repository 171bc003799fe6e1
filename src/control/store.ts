import { byteLength, compactJson, exceedsBytes, expandStored, storedText } from '../config/compact';
import type { Config } from '../config/schema';
import { validateConfig } from '../config/validate';
import { readLarge, removeLarge, writeLarge, type Cells } from './large-values';
import type { Region } from '../geo/regions';
import type { HealthMap } from '../health/state';
import type { StatsTotals } from '../stats/traffic';
import { REVISION_KEY, SNAPSHOT_KEY, type Snapshot } from './snapshot';

// The Durable Object's SQLite storage: the state keys, the configuration and its
// version history, the event log, and the snapshot built from them and published to
// KV. Keys, tables and shapes: docs/storage-schema.md.

/** Configuration versions kept for history and rollback (SPEC §5). */
export const MAX_VERSIONS = 50;
/** Events kept. */
export const MAX_EVENTS = 1000;
/** The most an event's detail holds; a larger `from`/`to` (a 10,000-origin pool replaced) is left out. */
const MAX_EVENT_DETAIL_BYTES = 64 * 1024;

/** Each key of table `state` (other than `config`, kept as its own text) and the shape of its JSON value. */
export interface StateValues {
  revision: number;
  version: number;
  config_damaged: string;
  config_error: string;
  health: HealthMap;
  withdrawn: string[];
  stats: StatsTotals;
  affinity_secret: string;
  /** The check regions whose probers were last handed checks to run. */
  probe_regions: Region[];
}

export type StateKey = keyof StateValues;

export interface VersionRecord {
  version: number;
  at: string;
  actor: string;
  summary: string;
}

export interface EventRecord {
  id: number;
  at: string;
  kind: string;
  message: string;
  detail: unknown;
}

type StoredCheck = { ok: true; config: Config } | { ok: false; why: string };

const UPSERT = 'INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value';

export class StateStore {
  /** The stored text last read or written and its configuration: a text is validated once. */
  private configRaw: string | undefined;
  private configParsed: Config | undefined;
  /** The last stored text checked and its outcome: a damaged text is validated once, not once per look. */
  private lastChecked: { raw: string; result: StoredCheck } | undefined;
  /** The rows of `state`; a value longer than one row is kept as parts (large-values.ts). */
  private readonly cells: Cells;

  constructor(
    private readonly sql: SqlStorage,
    private readonly kv: KVNamespace,
  ) {
    sql.exec(`
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
    this.cells = {
      get: (key) => sql.exec<{ value: string }>('SELECT value FROM state WHERE key = ?', key).toArray()[0]?.value,
      put: (key, text) => sql.exec(UPSERT, key, text),
      delete: (key) => sql.exec('DELETE FROM state WHERE key = ?', key),
    };
  }

  read<K extends StateKey>(key: K): StateValues[K] | undefined {
    const raw = this.rawValue(key);
    return raw === undefined ? undefined : (JSON.parse(raw) as StateValues[K]);
  }

  write<K extends StateKey>(key: K, value: StateValues[K]): void {
    writeLarge(this.cells, key, JSON.stringify(value));
  }

  remove(key: StateKey | 'config'): void {
    removeLarge(this.cells, key);
  }

  /** Has the store been seeded (it has a revision)? */
  seeded(): boolean {
    return this.read('revision') !== undefined;
  }

  revision(): number {
    return this.read('revision') ?? 0;
  }

  bumpRevision(): void {
    this.write('revision', this.revision() + 1);
  }

  /** The admin version (`ETag` of GET /config). */
  currentVersion(): number {
    return this.read('version') ?? 0;
  }

  /**
   * The stored configuration, validated as it is read (SPEC §5): a damaged one is never
   * served or built upon. The newest kept version that is valid takes its place, as a
   * new version, and a `storage` event says so; with none, nothing is configured.
   */
  config(): Config | undefined {
    const raw = this.rawValue('config');
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

  /** Is the stored configuration's text one that does not validate (not yet repaired)? */
  configDamaged(): boolean {
    const raw = this.rawValue('config');
    return raw !== undefined && raw !== this.configRaw && !this.checkStored(raw).ok;
  }

  /** Stores `config` as version `version` and keeps it in the history (the newest MAX_VERSIONS). */
  commitConfig(config: Config, version: number, actor: string, summary: string, compact = compactJson(config)): void {
    // Stored compact, with the defaults it leaves out: a third of the size, and a later
    // release's defaults never change what was stored.
    const text = storedText(compact);
    writeLarge(this.cells, 'config', text);
    this.remove('config_damaged');
    this.configRaw = text;
    this.configParsed = config;
    this.write('version', version);
    this.remove('config_error');
    this.sql.exec('INSERT OR REPLACE INTO versions (version, at, actor, summary, config) VALUES (?, ?, ?, ?, ?)', version, new Date().toISOString(), actor, summary, text);
    this.sql.exec('DELETE FROM versions WHERE version NOT IN (SELECT version FROM versions ORDER BY version DESC LIMIT ?)', MAX_VERSIONS);
  }

  /** The kept configuration versions, newest first. */
  versions(): VersionRecord[] {
    return this.sql.exec<{ version: number; at: string; actor: string; summary: string }>('SELECT version, at, actor, summary FROM versions ORDER BY version DESC').toArray();
  }

  /** One kept version with its configuration; undefined when it is not kept, `damaged` when its stored copy does not validate. */
  keptVersion(n: number): (VersionRecord & { config: Config }) | 'damaged' | undefined {
    const row = this.sql.exec<{ version: number; at: string; actor: string; summary: string; config: string }>('SELECT * FROM versions WHERE version = ?', n).toArray()[0];
    if (row === undefined) return undefined;
    const checked = checkStoredConfig(row.config);
    return checked.ok ? { version: row.version, at: row.at, actor: row.actor, summary: row.summary, config: checked.config } : 'damaged';
  }

  /** A store from before the version history keeps its configuration as the first kept version. */
  keepUnversionedConfig(): void {
    if (this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM versions').one().n > 0) return;
    const raw = this.rawValue('config');
    if (raw === undefined) return;
    this.sql.exec(
      "INSERT INTO versions (version, at, actor, summary, config) VALUES (?, ?, 'migration', 'the configuration stored before the version history', ?)",
      this.currentVersion(),
      new Date().toISOString(),
      raw,
    );
  }

  /** Adds an event and drops those beyond the newest MAX_EVENTS. */
  record(kind: string, message: string, detail: Record<string, unknown>): void {
    this.sql.exec('INSERT INTO events (at, kind, message, detail) VALUES (?, ?, ?, ?)', new Date().toISOString(), kind, message, eventDetail(detail));
    this.sql.exec('DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?', MAX_EVENTS);
  }

  /** The newest events first; `kind` narrows them to one kind. */
  events(limit: number, kind: string | undefined): EventRecord[] {
    return this.sql
      .exec<{ id: number; at: string; kind: string; message: string; detail: string }>(
        'SELECT id, at, kind, message, detail FROM events WHERE ?1 IS NULL OR kind = ?1 ORDER BY id DESC LIMIT ?2',
        kind ?? null,
        Math.min(limit, MAX_EVENTS),
      )
      .toArray()
      .map((row) => ({ ...row, detail: JSON.parse(row.detail) }));
  }

  /** The current state as a snapshot (reading the configuration first, which may repair it). */
  snapshot(now: number): Snapshot {
    const config = this.config() ?? null;
    return {
      revision: this.revision(),
      version: this.currentVersion(),
      config,
      configError: this.read('config_error'),
      health: this.read('health') ?? {},
      withdrawn: this.read('withdrawn') ?? [],
      affinitySecret: this.read('affinity_secret') ?? '',
      publishedAt: now,
    };
  }

  /** Publishes the snapshot to KV; false when it is not to be published. */
  async publish(snapshot: Snapshot): Promise<boolean> {
    // A damaged configuration with nothing valid to replace it is never published as
    // "nothing configured": the snapshot already in KV goes on serving.
    if (snapshot.config === null && this.read('config_damaged') !== undefined) return false;
    // The snapshot first: a reader that sees the new revision must find the new snapshot.
    await this.kv.put(SNAPSHOT_KEY, JSON.stringify(snapshot));
    await this.kv.put(REVISION_KEY, String(snapshot.revision));
    return true;
  }

  private rawValue(key: StateKey | 'config'): string | undefined {
    return readLarge(this.cells, key);
  }

  private checkStored(raw: string): StoredCheck {
    if (this.lastChecked?.raw !== raw) this.lastChecked = { raw, result: checkStoredConfig(raw) };
    return this.lastChecked.result;
  }

  private repairConfig(raw: string, why: string): Config | undefined {
    const current = this.currentVersion();
    for (const row of this.sql.exec<{ version: number; config: string }>('SELECT version, config FROM versions ORDER BY version DESC').toArray()) {
      const checked = checkStoredConfig(row.config);
      if (!checked.ok) continue;
      const version = current + 1;
      this.commitConfig(checked.config, version, 'storage', `restored version ${row.version}: the stored configuration was damaged`);
      this.record('storage', `the stored configuration was damaged (${why}); version ${row.version} restored as version ${version}`, {
        actor: 'storage',
        resource: 'config',
        action: 'restore',
        reason: why,
        from: { version: current },
        to: { version, restored: row.version },
        version,
      });
      return checked.config;
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
}

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

/** An event's detail as stored: whole when small, else with its `from` and `to` summarised (the version history keeps them). */
export function eventDetail(detail: Record<string, unknown>): string {
  const text = JSON.stringify(detail);
  if (!exceedsBytes(text, MAX_EVENT_DETAIL_BYTES)) return text;
  const omitted = (value: unknown) =>
    value === undefined || value === null ? value : { omitted: `${byteLength(JSON.stringify(value))} bytes; see the version history` };
  return JSON.stringify({ ...detail, from: omitted(detail.from), to: omitted(detail.to), changes: detail.changes === undefined ? undefined : omitted(detail.changes) });
}
