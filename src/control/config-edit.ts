import type { Config, LoadBalancer, OriginPatch } from '../config/schema';
import type { Issue } from '../config/validate';

// One admin change to one resource of the configuration (SPEC §7), pure: the stored
// configuration and the edit in, the edited document (still to be validated as a
// whole) and an account of the change out. The Durable Object runs it serialized
// with every other change, so two edits never start from the same configuration.

export type CollectionKind = 'monitor' | 'pool' | 'load_balancer';
export type ResourceKind = CollectionKind | 'origin';

type Body = Record<string, unknown>;

export type ConfigEdit =
  | { kind: CollectionKind; action: 'create'; value: Body }
  | { kind: CollectionKind; action: 'replace'; id: string; value: Body }
  | { kind: CollectionKind; action: 'delete'; id: string }
  | { kind: 'origin'; action: 'create'; pool: string; value: Body }
  | { kind: 'origin'; action: 'replace'; pool: string; id: string; value: Body }
  | { kind: 'origin'; action: 'patch'; pool: string; id: string; value: OriginPatch }
  | { kind: 'origin'; action: 'delete'; pool: string; id: string };

export type EditAction = ConfigEdit['action'];

/** Where a resource lives in the configuration. */
export interface ResourceRef {
  kind: ResourceKind;
  /** "eu", or "eu/backend1" for an origin. */
  id: string;
  /** Path segments inside the document, e.g. ["pools", 2, "origins", 0]. */
  path: (string | number)[];
}

export interface EditChange {
  resource: ResourceKind;
  id: string;
  action: EditAction;
  /** The resource before (create: null), or for a patch only the fields it changed. */
  from: unknown;
  /** The resource after (delete: null), or for a patch only the fields it changed. */
  to: unknown;
}

export type EditOutcome =
  | {
      ok: true;
      /** The edited document, to be validated as a whole. */
      document: Config;
      /** Where the resource is in the edited document (undefined after a delete). */
      ref: ResourceRef | undefined;
      change: EditChange;
    }
  | { ok: false; status: 400 | 404 | 409 | 412; code: string; message: string };

const COLLECTIONS = { monitor: 'monitors', pool: 'pools', load_balancer: 'load_balancers' } as const;
const NOUN: Record<ResourceKind, string> = { monitor: 'monitor', pool: 'pool', load_balancer: 'load balancer', origin: 'origin' };

export const EMPTY_CONFIG: Config = { monitors: [], pools: [], load_balancers: [] };

/** Finds a resource in a configuration. */
export function locate(config: Config, kind: ResourceKind, id: string, pool?: string): { ref: ResourceRef; value: Body } | undefined {
  if (kind === 'origin') {
    const p = config.pools.findIndex((candidate) => candidate.id === pool);
    if (p < 0) return undefined;
    const o = config.pools[p]!.origins.findIndex((origin) => origin.name === id);
    if (o < 0) return undefined;
    return { ref: { kind, id: `${pool}/${id}`, path: ['pools', p, 'origins', o] }, value: config.pools[p]!.origins[o]! };
  }
  const list = config[COLLECTIONS[kind]] as { id: string }[];
  const index = list.findIndex((item) => item.id === id);
  if (index < 0) return undefined;
  return { ref: { kind, id, path: [COLLECTIONS[kind], index] }, value: list[index] as Body };
}

/** A strong entity tag for one resource: it changes exactly when the resource does. */
export function resourceTag(value: unknown): string {
  // FNV-1a, 64 bits: collisions are out of reach for concurrent edits of one resource.
  const text = JSON.stringify(value);
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    hash ^= BigInt(text.charCodeAt(i));
    hash = BigInt.asUintN(64, hash * 0x100000001b3n);
  }
  return `"r${hash.toString(16).padStart(16, '0')}"`;
}

/**
 * Whether `If-Match` holds for a resource: `*` matches any existing resource, a
 * resource tag must equal the current one, and a bare version number ("7") must
 * equal the configuration version.
 */
export function ifMatchHolds(ifMatch: string, current: unknown, version: number): boolean {
  return ifMatch
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => {
      if (tag === '*') return current !== undefined;
      const bare = tag.replace(/^"(.*)"$/, '$1');
      if (/^\d+$/.test(bare)) return Number(bare) === version;
      return current !== undefined && `"${bare}"` === resourceTag(current);
    });
}

export function applyEdit(stored: Config | null, edit: ConfigEdit, version: number, ifMatch?: string): EditOutcome {
  const config = structuredClone(stored ?? EMPTY_CONFIG);
  const parent = edit.kind === 'origin' ? locate(config, 'pool', edit.pool) : undefined;
  if (edit.kind === 'origin' && parent === undefined) return notFound('pool', edit.pool);
  const found = edit.action === 'create' ? undefined : locate(config, edit.kind, edit.id, edit.kind === 'origin' ? edit.pool : undefined);
  const label = edit.kind === 'origin' ? `${edit.pool}/${edit.action === 'create' ? String(edit.value.name) : edit.id}` : undefined;

  if (edit.action !== 'create' && found === undefined) return notFound(edit.kind, label ?? edit.id);
  if (ifMatch !== undefined && !ifMatchHolds(ifMatch, found?.value, version)) {
    return {
      ok: false,
      status: 412,
      code: 'version_mismatch',
      message: `If-Match ${ifMatch} does not match the current ${NOUN[edit.kind]} (configuration version ${version}): fetch it again and retry`,
    };
  }

  switch (edit.action) {
    case 'create': {
      const key = edit.kind === 'origin' ? 'name' : 'id';
      const newId = edit.value[key];
      const list = listOf(config, edit);
      if (typeof newId === 'string' && list.some((item) => item[key] === newId)) {
        return {
          ok: false,
          status: 409,
          code: 'already_exists',
          message: `${NOUN[edit.kind]} "${label ?? newId}" already exists: replace it with PUT${edit.kind === 'origin' ? ' or change it with PATCH' : ''}`,
        };
      }
      list.push(edit.value);
      const path = [...(parent?.ref.path ?? []), edit.kind === 'origin' ? 'origins' : COLLECTIONS[edit.kind], list.length - 1];
      const id = label ?? String(newId);
      return done(config, { kind: edit.kind, id, path }, { resource: edit.kind, id, action: 'create', from: null, to: edit.value });
    }
    case 'replace': {
      const key = edit.kind === 'origin' ? 'name' : 'id';
      const value = { ...edit.value, [key]: edit.value[key] ?? edit.id };
      if (value[key] !== edit.id) {
        return {
          ok: false,
          status: 400,
          code: 'id_mismatch',
          message: `the body's ${key} "${String(value[key])}" differs from "${edit.id}" in the path: ${NOUN[edit.kind]}s cannot be renamed`,
        };
      }
      setAt(config, found!.ref.path, value);
      const id = found!.ref.id;
      return done(config, found!.ref, { resource: edit.kind, id, action: 'replace', from: found!.value, to: value });
    }
    case 'patch': {
      const origin = found!.value;
      const from: Body = {};
      const to: Body = {};
      for (const [field, value] of Object.entries(edit.value)) {
        if (value === undefined || sameJson(origin[field], value)) continue;
        from[field] = origin[field];
        to[field] = value;
      }
      setAt(config, found!.ref.path, { ...origin, ...edit.value });
      const id = found!.ref.id;
      return done(config, found!.ref, { resource: 'origin', id, action: 'patch', from, to });
    }
    case 'delete': {
      const blocker = edit.kind === 'origin' ? lastOrigin(config, edit.pool) : users(config, edit.kind, edit.id);
      if (blocker !== undefined) return { ok: false, status: 409, code: 'in_use', message: blocker };
      const path = found!.ref.path;
      (getAt(config, path.slice(0, -1)) as unknown[]).splice(path.at(-1) as number, 1);
      return done(config, undefined, { resource: edit.kind, id: found!.ref.id, action: 'delete', from: found!.value, to: null });
    }
  }
}

/** Issues of the whole document, made relative to the edited resource where they fall inside it. */
export function issuesFor(issues: Issue[], ref: ResourceRef | undefined): Issue[] {
  if (ref === undefined) return issues;
  const prefix = ref.path.join('.');
  return issues.map((issue) =>
    issue.path === prefix || issue.path.startsWith(`${prefix}.`) ? { ...issue, path: issue.path.slice(prefix.length + 1) } : issue,
  );
}

/** A one-line account of a change, for the event log. */
export function describeChange(change: EditChange, version: number): string {
  const what = `${NOUN[change.resource]} ${change.id}`;
  switch (change.action) {
    case 'create':
      return `${what} created (version ${version})`;
    case 'replace':
      return `${what} replaced (version ${version})`;
    case 'delete':
      return `${what} deleted (version ${version})`;
    case 'patch': {
      const from = change.from as Body;
      const fields = Object.entries(change.to as Body).map(([field, value]) => `${field} ${JSON.stringify(from[field])} -> ${JSON.stringify(value)}`);
      return `${what} changed: ${fields.join(', ')} (version ${version})`;
    }
  }
}

function done(document: Config, ref: ResourceRef | undefined, change: EditChange): EditOutcome {
  return { ok: true, document, ref, change };
}

function notFound(kind: ResourceKind, id: string): EditOutcome {
  return { ok: false, status: 404, code: 'not_found', message: `no ${NOUN[kind]} "${id}"` };
}

function listOf(config: Config, edit: ConfigEdit): Body[] {
  if (edit.kind === 'origin') return config.pools.find((pool) => pool.id === edit.pool)!.origins as Body[];
  return config[COLLECTIONS[edit.kind]] as Body[];
}

/** Why a monitor, pool or load balancer cannot be deleted now, or undefined. */
function users(config: Config, kind: CollectionKind, id: string): string | undefined {
  if (kind === 'monitor') {
    const pools = config.pools.filter((pool) => pool.monitor === id).map((pool) => pool.id);
    return pools.length === 0 ? undefined : `monitor "${id}" is used by pool${pools.length > 1 ? 's' : ''} ${pools.join(', ')}: change them first`;
  }
  if (kind === 'pool') {
    const uses = config.load_balancers.flatMap((lb) => {
      const fields = poolFieldsNaming(lb, id);
      return fields.length === 0 ? [] : [`${lb.id} (${fields.join(', ')})`];
    });
    return uses.length === 0 ? undefined : `pool "${id}" is used by load balancer${uses.length > 1 ? 's' : ''} ${uses.join('; ')}: change them first`;
  }
  return undefined;
}

function poolFieldsNaming(lb: LoadBalancer, pool: string): string[] {
  const fields: string[] = [];
  if (lb.default_pools.includes(pool)) fields.push('default_pools');
  if (lb.fallback_pool === pool) fields.push('fallback_pool');
  for (const key of ['region_pools', 'country_pools', 'pop_pools'] as const) {
    for (const [code, list] of Object.entries(lb[key])) if (list?.includes(pool)) fields.push(`${key}.${code}`);
  }
  if (pool in lb.random_steering.pool_weights) fields.push('random_steering.pool_weights');
  return fields;
}

function lastOrigin(config: Config, poolId: string): string | undefined {
  const pool = config.pools.find((candidate) => candidate.id === poolId)!;
  return pool.origins.length > 1 ? undefined : `origin "${pool.origins[0]!.name}" is the last origin of pool "${poolId}": add another first, or delete the pool`;
}

/** The value at a path of a document (undefined where the path leads nowhere). */
export function getAt(root: unknown, path: (string | number)[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown> | undefined)?.[key], root);
}

function setAt(root: unknown, path: (string | number)[], value: unknown): void {
  (getAt(root, path.slice(0, -1)) as Record<string | number, unknown>)[path.at(-1)!] = value;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface ConfigDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

/** A changed resource and its changed fields (a pool's origins are resources of their own). */
export interface FieldChanges {
  resource: string;
  fields: { field: string; before: unknown; after: unknown }[];
}

/** Every resource of a configuration by label ("pool eu", "origin eu/e1"), a pool without its origins. */
function resources(config: Config | null): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const monitor of config?.monitors ?? []) out.set(`monitor ${monitor.id}`, monitor);
  for (const lb of config?.load_balancers ?? []) out.set(`load balancer ${lb.id}`, lb);
  for (const { origins, ...shell } of config?.pools ?? []) out.set(`pool ${shell.id}`, shell);
  for (const pool of config?.pools ?? []) for (const origin of pool.origins) out.set(`origin ${pool.id}/${origin.name}`, origin);
  return out;
}

/** Resources added, removed and changed, each with the fields that changed. */
export function fieldDiff(before: Config | null, after: Config): { added: string[]; removed: string[]; changed: FieldChanges[] } {
  const old = resources(before);
  const now = resources(after);
  const diff = { added: [] as string[], removed: [] as string[], changed: [] as FieldChanges[] };
  for (const [label, value] of now) {
    const previous = old.get(label);
    if (previous === undefined) {
      diff.added.push(label);
      continue;
    }
    const fields = [...new Set([...Object.keys(previous), ...Object.keys(value)])]
      .filter((field) => !sameJson(previous[field], value[field]))
      .map((field) => ({ field, before: previous[field] ?? null, after: value[field] ?? null }));
    if (fields.length > 0) diff.changed.push({ resource: label, fields });
  }
  for (const label of old.keys()) if (!now.has(label)) diff.removed.push(label);
  return diff;
}

export function diffConfigs(before: Config | null, after: Config): ConfigDiff {
  const { added, removed, changed } = fieldDiff(before, after);
  return { added, removed, changed: changed.map((c) => c.resource) };
}

/** "+pool ap, -pool spare, ~origin eu/e1" (at most `limit` entries, then a count). */
export function describeDiff(diff: ConfigDiff, limit = 6): string {
  const parts = [...diff.added.map((x) => `+${x}`), ...diff.removed.map((x) => `-${x}`), ...diff.changed.map((x) => `~${x}`)];
  if (parts.length === 0) return 'no resource changed';
  return parts.length <= limit ? parts.join(', ') : `${parts.slice(0, limit).join(', ')} and ${parts.length - limit} more`;
}
