// What the importers share: where notes go, what became of each Cloudflare object
// others refer to, and the reading of Cloudflare's loosely typed values (what counts
// as set, booleans, bounded integers, header maps), each odd value noted rather than
// thrown.

export type Note = (path: string, message: string) => void;

export type Json = Record<string, unknown>;

/** What became of a Cloudflare object that others refer to by its Cloudflare id. */
export interface ImportedRef {
  /** The Switchyard id; undefined when the object was not imported. */
  id: string | undefined;
  /** How notes name it: its Cloudflare name or description. */
  label: string;
  /** Why it was not imported. */
  dropped?: string;
  /** For monitors: the type, which decides the origins' scheme. */
  type?: string;
  /** For dropped pools: where the pool is in the input, and the references to it that were dropped. */
  path?: string;
  referencedBy?: string[];
}

export interface Context {
  note: Note;
  monitors: Map<string, ImportedRef>;
  pools: Map<string, ImportedRef>;
}

/** Fields the API returns about an object's state, not its configuration: dropped silently. */
const READ_ONLY = new Set(['id', 'created_on', 'modified_on', 'healthy', 'disabled_at', 'failure_reason', 'zone_name', 'zone_id']);

export function noteUnknownFields(raw: Json, known: ReadonlySet<string>, path: string, note: Note): void {
  for (const [key, value] of Object.entries(raw)) {
    if (!known.has(key) && !READ_ONLY.has(key) && !isEmpty(value)) note(`${path}.${key}`, 'not a Switchyard setting; ignored');
  }
}

export function noteNetworks(value: unknown, path: string, note: Note): void {
  if (Array.isArray(value) && value.some((network) => network !== 'cloudflare')) {
    note(path, `only the "cloudflare" network is supported; ${JSON.stringify(value)} ignored`);
  }
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Absent or carrying nothing: what Cloudflare returns for a setting left at its default. */
export function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  return isObject(value) && Object.values(value).every(isEmpty);
}

export function positive(value: unknown): boolean {
  return typeof value === 'number' && value > 0;
}

export function boolean(value: unknown, path: string, note: Note): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  note(path, `expected true or false, got ${JSON.stringify(value)}; ignored`);
  return undefined;
}

/** An integer within [min, max]: other numbers are rounded and clamped with a note, non-numbers noted and skipped. */
export function boundedInteger(value: unknown, min: number, max: number, path: string, note: Note): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    note(path, `expected a number, got ${JSON.stringify(value)}; ignored`);
    return undefined;
  }
  const out = Math.min(max, Math.max(min, Math.round(value)));
  const range = max === Infinity ? `>= ${min}` : `${min}..${max}`;
  if (out !== value) note(path, `${value} changed to ${out} (Switchyard allows whole numbers ${range})`);
  return out;
}

/** The numeric range a schema field allows, read from the schema so the two cannot drift. */
export function bounds(field: { unwrap(): { minValue: number | null; maxValue: number | null } }): { min: number; max: number } {
  const inner = field.unwrap();
  return { min: inner.minValue ?? -Infinity, max: inner.maxValue ?? Infinity };
}

/** Whether `value` is one of `options` (the values a schema allows), typed as such. */
export function isOneOf<T extends string>(value: unknown, options: readonly T[]): value is T {
  return typeof value === 'string' && (options as readonly string[]).includes(value);
}

/** The values a schema field with a default allows, read from the schema. */
export function choices<T extends string>(field: { unwrap(): { options: readonly T[] } }): readonly T[] {
  return field.unwrap().options;
}

export function headerMap(value: unknown, path: string, note: Note): Record<string, string[]> | undefined {
  if (isEmpty(value)) return undefined;
  if (!isObject(value)) return void note(path, 'expected an object of header name -> values; ignored');
  const out: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(value)) {
    const list = typeof values === 'string' ? [values] : Array.isArray(values) && values.every((v) => typeof v === 'string') ? values : undefined;
    if (name === '' || list === undefined) note(`${path}.${name}`, 'expected a list of strings; header ignored');
    else out[name] = [...(list as string[])];
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
