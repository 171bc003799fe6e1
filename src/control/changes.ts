import { compactJson, oversize } from '../config/compact';
import { validateConfig, type Issue } from '../config/validate';
import { popByColo } from '../geo/anycast';
import type { ProbeResult } from '../health/rise-fall';
import { applyEdit, describeChange, describeDiff, diffConfigs, getAt, issuesFor, resourceTag, type ConfigEdit } from './config-edit';
import type { HealthMap } from '../health/state';
import { applyOutcomes, healthPublishDue, type CheckTarget, type HealthChange } from './health-schedule';
import { changed, unchanged, unpublished, type MutationOutcome } from './mutation';
import { applyRegionalReport, type RegionalReport } from './regional-checks';
import type { Snapshot } from './snapshot';
import { MAX_VERSIONS, type StateStore } from './store';

// The changes ControlPlane's RPC methods make to the store, each run by its mutate:
// what is checked, what is written, which event says so, and what the caller is told.

export type PutConfigResult =
  | { ok: true; version: number; snapshot: Snapshot }
  | { ok: false; code: 'version_mismatch'; version: number }
  | { ok: false; code: 'invalid_config'; issues: Issue[] }
  | { ok: false; code: 'config_too_large'; message: string };

export type EditResult =
  | { ok: true; version: number; snapshot: Snapshot; resource: unknown; tag: string | undefined }
  | { ok: false; status: 400 | 404 | 409 | 412 | 413; code: string; message: string; issues?: Issue[] };

export type RollbackResult =
  | { ok: true; version: number; snapshot: Snapshot }
  | { ok: false; status: 404 | 409; code: string; message: string };

/** A result as its change gives it: the snapshot comes from mutate once the change is done. */
export type WithoutSnapshot<R> = R extends { snapshot: Snapshot } ? Omit<R, 'snapshot'> : R;

/** First use: the affinity secret, version 0, and the configuration LB_CONFIG holds (or why it could not be used). */
export function seedState(store: StateStore, lbConfig: string | undefined): void {
  if (store.read('affinity_secret') === undefined) {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    store.write('affinity_secret', [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(''));
  }
  store.write('version', 0);
  const seed = lbConfig?.trim();
  if (!seed) return;
  let document: unknown;
  try {
    document = JSON.parse(seed);
  } catch (error) {
    seedRefused(store, `LB_CONFIG is not JSON: ${(error as Error).message}`);
    return;
  }
  const validation = validateConfig(document);
  if (!validation.ok) {
    const first = validation.issues.slice(0, 3).map((i) => `${i.path || '(root)'}: ${i.message}`);
    seedRefused(store, `LB_CONFIG is not a valid configuration: ${first.join('; ')}`);
    return;
  }
  store.commitConfig(validation.config, 1, 'LB_CONFIG', 'configuration seeded from LB_CONFIG');
  store.record('config', 'configuration seeded from LB_CONFIG (version 1)', { actor: 'LB_CONFIG', resource: 'config', action: 'replace', from: 0, to: 1, version: 1 });
}

/** Why LB_CONFIG could not seed the store: kept for GET /config and logged, never shown to clients. */
function seedRefused(store: StateStore, why: string): void {
  store.write('config_error', why);
  console.error(why);
}

/** PUT /config: replaces the configuration; `ifMatch` is the version the caller last saw. */
export function replaceConfig(store: StateStore, input: unknown, ifMatch: number | undefined, actor: string): MutationOutcome<WithoutSnapshot<PutConfigResult>> {
  const previous = store.config() ?? null;
  const current = store.currentVersion();
  if (ifMatch !== undefined && ifMatch !== current) return unchanged({ ok: false, code: 'version_mismatch', version: current });
  const validation = validateConfig(input);
  if (!validation.ok) return unchanged({ ok: false, code: 'invalid_config', issues: validation.issues });
  const compact = compactJson(validation.config);
  const tooLarge = oversize(validation.config, compact);
  if (tooLarge !== undefined) return unchanged({ ok: false, code: 'config_too_large', message: tooLarge });
  const version = current + 1;
  const changes = diffConfigs(previous, validation.config);
  store.commitConfig(validation.config, version, actor, `configuration replaced: ${describeDiff(changes)}`, compact);
  store.record('config', `configuration replaced (version ${version}): ${describeDiff(changes)}`, {
    actor,
    resource: 'config',
    action: 'replace',
    from: { version: current },
    to: { version },
    changes,
    version,
  });
  return changed({ ok: true, version });
}

/**
 * One change to one resource (create, replace, patch or delete), checked against
 * `If-Match` and validated as part of the whole configuration. A change that leaves
 * the configuration as it was succeeds with the current version.
 */
export function editResource(store: StateStore, edit: ConfigEdit, ifMatch: string | undefined, actor: string): MutationOutcome<WithoutSnapshot<EditResult>> {
  const stored = store.config() ?? null;
  const current = store.currentVersion();
  const outcome = applyEdit(stored, edit, current, ifMatch);
  if (!outcome.ok) return unchanged({ ok: false, status: outcome.status, code: outcome.code, message: outcome.message });
  const what = edit.kind.replace('_', ' ');
  const validation = validateConfig(outcome.document);
  if (!validation.ok) {
    return unchanged({ ok: false, status: 400, code: 'invalid_config', message: `the ${what} would make the configuration invalid`, issues: issuesFor(validation.issues, outcome.ref) });
  }
  const resource = outcome.ref === undefined ? undefined : getAt(validation.config, outcome.ref.path);
  const tag = resource === undefined ? undefined : resourceTag(resource);
  if (JSON.stringify(validation.config) === JSON.stringify(stored)) return unchanged({ ok: true, version: current, resource, tag });
  const compact = compactJson(validation.config);
  const tooLarge = oversize(validation.config, compact);
  if (tooLarge !== undefined) return unchanged({ ok: false, status: 413, code: 'config_too_large', message: `the ${what} would make it too large: ${tooLarge}` });
  const version = current + 1;
  const change = outcome.change.action === 'patch' || resource === undefined ? outcome.change : { ...outcome.change, to: resource };
  const summary = describeChange(change, version);
  const suffix = ` (version ${version})`;
  store.commitConfig(validation.config, version, actor, summary.endsWith(suffix) ? summary.slice(0, -suffix.length) : summary, compact);
  store.record('config', summary, { actor, ...change, version });
  return changed({ ok: true, version, resource, tag });
}

/** Makes kept version `n` current again, as a new version. */
export function rollbackTo(store: StateStore, n: number, actor: string): MutationOutcome<WithoutSnapshot<RollbackResult>> {
  // A damaged current configuration is repaired first, as a version of its own.
  store.config();
  const kept = store.keptVersion(n);
  if (kept === undefined) return unchanged({ ok: false, status: 404, code: 'not_found', message: `version ${n} is not kept (the last ${MAX_VERSIONS} are)` });
  if (kept === 'damaged') return unchanged({ ok: false, status: 409, code: 'invalid_version', message: `the stored copy of version ${n} is damaged and cannot be restored` });
  const current = store.currentVersion();
  const version = current + 1;
  store.commitConfig(kept.config, version, actor, `rollback to version ${n}`);
  store.record('config', `configuration rolled back to version ${n} (version ${version})`, {
    actor,
    resource: 'config',
    action: 'rollback',
    from: { version: current },
    to: { version, restored: n },
    version,
  });
  return changed({ ok: true, version });
}

/** Withdraws a PoP from (or restores it to) the anycast simulation; the result says whether anything changed. */
export function withdrawPop(store: StateStore, colo: string, withdrawn: boolean, actor: string): MutationOutcome<boolean> {
  const list = new Set(store.read('withdrawn') ?? []);
  if (list.has(colo) === withdrawn) return unchanged(false);
  if (withdrawn) list.add(colo);
  else list.delete(colo);
  const version = store.currentVersion() + 1;
  store.write('withdrawn', [...list].sort());
  store.write('version', version);
  const pop = popByColo(colo);
  const where = pop === undefined ? colo : `${colo} (${pop.city})`;
  store.record('pop', `PoP ${where} ${withdrawn ? 'withdrawn' : 'restored'} (version ${version})`, {
    actor,
    resource: 'pop',
    id: colo,
    action: withdrawn ? 'withdraw' : 'restore',
    from: { withdrawn: !withdrawn },
    to: { withdrawn },
    version,
  });
  return changed(true);
}

/**
 * A check round's outcomes stored at `at`, each transition recorded as a `health`
 * event. Published at once when an origin changed state, else at most every
 * HEALTH_PUBLISH_MS since `publishedAt`.
 */
export function recordCheckRound(
  store: StateStore,
  targets: readonly CheckTarget[],
  outcomes: readonly ProbeResult[],
  at: number,
  publishedAt: number,
): MutationOutcome<HealthChange[]> {
  const config = store.config();
  if (config === undefined) return unchanged([]);
  const { health, changes } = applyOutcomes(config, store.read('health') ?? {}, targets, outcomes, at);
  return recordHealth(store, health, changes, at, publishedAt);
}

/**
 * A check region's report (its prober's round) stored at `at`: the region's results
 * and the verdict over the pool's regions, each transition of either recorded as a
 * `health` event naming the region (or the verdict). Published as recordCheckRound is.
 */
export function recordRegionalRound(store: StateStore, report: RegionalReport, at: number, publishedAt: number): MutationOutcome<HealthChange[]> {
  const config = store.config();
  if (config === undefined) return unchanged([]);
  const { health, changes } = applyRegionalReport(config, store.read('health') ?? {}, report, at);
  return recordHealth(store, health, changes, at, publishedAt);
}

function recordHealth(store: StateStore, health: HealthMap, changes: HealthChange[], at: number, publishedAt: number): MutationOutcome<HealthChange[]> {
  store.write('health', health);
  for (const { pool, origin, region, transition, rtt_ms } of changes) {
    const from = region === undefined ? '' : ` from ${region}`;
    store.record('health', `origin ${pool}/${origin} ${transition.from} -> ${transition.to}${from}: ${transition.reason}`, {
      pool,
      origin,
      ...(region === undefined ? {} : { region }),
      from: transition.from,
      to: transition.to,
      reason: transition.reason,
      rtt_ms: rtt_ms ?? null,
      at: new Date(at).toISOString(),
    });
  }
  return healthPublishDue(changes.length, at, publishedAt) ? changed(changes) : unpublished(changes);
}
