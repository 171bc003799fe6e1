import fc from 'fast-check';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { POPS } from '../../src/geo/pops';
import { admin, ADMIN_TOKEN, configure, lb, startOrigin } from '../support/worker';

// Property-based fuzzing of every admin route (SPEC §7, §8): random and malformed
// requests (odd ids in paths, bodies that are not JSON or almost valid, wrong
// content types, junk If-Match, odd query strings, bad credentials) must never get a
// 5xx; every 4xx is the one JSON error shape; and a refused request changes neither
// the stored configuration (with its version) nor the PoP withdrawals. Seeded, so a
// failure replays exactly.

const SEED = 42;
const TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------------------
// The known state every run starts from

const WITHDRAWN = ['SIN'];

const base = () => ({
  monitors: [
    { id: 'root', path: '/health' },
    { id: 'deep', path: '/deep', expected_codes: '200', interval: 10 },
  ],
  pools: [
    {
      id: 'eu',
      monitor: 'root',
      latitude: 50.11,
      longitude: 8.68,
      origins: [
        { name: 'e1', address: 'http://127.0.0.1:9' },
        { name: 'e2', address: 'http://127.0.0.1:9', weight: 2 },
      ],
    },
    { id: 'us', origins: [{ name: 'u1', address: '127.0.0.1:9' }] },
    { id: 'spare', origins: [{ name: 's1', address: 'http://127.0.0.1:9/prefix', header: { Host: ['s1.internal'] } }] },
  ],
  load_balancers: [{ id: 'main', hostname: '*', default_pools: ['eu', 'us'], fallback_pool: 'us' }],
});

const POOL_IDS = ['eu', 'us', 'spare'];
const ORIGINS = [
  ['eu', 'e1'],
  ['eu', 'e2'],
  ['us', 'u1'],
  ['spare', 's1'],
] as const;
const ORIGIN_NAMES = ORIGINS.map(([, name]) => name);
const MONITOR_IDS = ['root', 'deep'];
const LB_IDS = ['main'];

interface State {
  config: { version: number; config: unknown };
  withdrawn: string[];
}

/** What a refused request must leave alone: GET /config (with its version) and the withdrawn PoPs. */
async function readState(): Promise<State> {
  const [config, pops] = await Promise.all([admin('GET', '/config'), admin('GET', '/pops')]);
  if (config.status !== 200 || pops.status !== 200) throw new Error(`cannot read the state: ${config.status} ${pops.status}`);
  const { pops: list } = (await pops.json()) as { pops: { colo: string; withdrawn: boolean }[] };
  return { config: (await config.json()) as State['config'], withdrawn: list.filter((p) => p.withdrawn).map((p) => p.colo) };
}

let baseline: State;

/** Back to the known configuration and withdrawals; the new baseline carries the new version. */
async function reset(): Promise<void> {
  await configure(base());
  const { withdrawn } = await readState();
  const wrong = [...new Set([...withdrawn, ...WITHDRAWN])].filter((colo) => withdrawn.includes(colo) !== WITHDRAWN.includes(colo));
  for (const colo of wrong) {
    const res = await admin('PUT', `/pops/${colo}`, { withdrawn: WITHDRAWN.includes(colo) });
    if (res.status !== 200) throw new Error(`PUT /pops/${colo}: ${res.status} ${await res.text()}`);
  }
  baseline = await readState();
}

beforeEach(reset);

afterAll(async () => {
  for (const colo of WITHDRAWN) await (await admin('PUT', `/pops/${colo}`, { withdrawn: false })).text();
});

// ---------------------------------------------------------------------------
// One generated request, and the invariants every response must keep

type Body = { text: string } | { bytes: number[] } | { oversized: number };

/** `current` is relative to the baseline version: 0 is the current version, -1 a stale one. */
type IfMatch = { current: number } | { literal: string };

interface Call {
  method: string;
  /** Under /__lb/api, encoded as sent. */
  path: string;
  contentType?: string;
  ifMatch?: IfMatch;
  /** Undefined: the admin token; null: no Authorization header. */
  authorization?: string | null;
  body?: Body;
}

function describeCall(call: Call): string {
  const parts = [`${call.method} /__lb/api${call.path}`];
  if (call.authorization !== undefined) parts.push(`authorization: ${JSON.stringify(call.authorization)}`);
  if (call.contentType !== undefined) parts.push(`content-type: ${JSON.stringify(call.contentType)}`);
  if (call.ifMatch !== undefined) parts.push(`if-match: ${'current' in call.ifMatch ? `"<version${call.ifMatch.current >= 0 ? '+' : ''}${call.ifMatch.current}>"` : JSON.stringify(call.ifMatch.literal)}`);
  if (call.body !== undefined) {
    const body = 'text' in call.body ? JSON.stringify(call.body.text.slice(0, 300)) : 'bytes' in call.body ? `bytes ${call.body.bytes}` : `${call.body.oversized} spaces`;
    parts.push(`body: ${body}`);
  }
  return parts.join(' | ');
}

function bodyBytes(body: Body | undefined): Uint8Array | undefined {
  if (body === undefined) return undefined;
  if ('text' in body) return new TextEncoder().encode(body.text);
  if ('bytes' in body) return Uint8Array.from(body.bytes);
  return new Uint8Array(body.oversized).fill(0x20);
}

function send(call: Call, version: number): Promise<Response> {
  const headers = new Headers();
  if (call.authorization !== null) headers.set('authorization', call.authorization ?? `Bearer ${ADMIN_TOKEN}`);
  if (call.contentType !== undefined) headers.set('content-type', call.contentType);
  if (call.ifMatch !== undefined) headers.set('if-match', 'current' in call.ifMatch ? `"${version + call.ifMatch.current}"` : call.ifMatch.literal);
  // Byte bodies, so that no content type is added that the call did not ask for.
  return lb(`/__lb/api${call.path}`, { method: call.method, headers, body: bodyBytes(call.body) });
}

/** SPEC §7: `{"error":{"code","message","issues"?:[{"path","message"}]}}` and nothing else. */
const ErrorShape = z.strictObject({
  error: z.strictObject({
    code: z.string().regex(/^[a-z][a-z0-9_]*$/),
    message: z.string().min(1),
    issues: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
  }),
});

interface Outcome {
  status: number;
  /** The error code of a 4xx. */
  code?: string;
  /** The issue paths of a 4xx, when it has issues. */
  issuePaths?: string[];
  headers: Headers;
}

/** Checks status, content type and body shape. */
async function expectWellFormed(call: Call, res: Response): Promise<Outcome> {
  const text = await res.text();
  const seen = `${describeCall(call)}\n  -> ${res.status} ${res.headers.get('content-type')} ${text.slice(0, 500)}`;
  expect(res.status, `never a 5xx (nor a 1xx/3xx): ${seen}`).toSatisfy((s: number) => (s >= 200 && s < 300) || (s >= 400 && s < 500));
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    expect.fail(`the body is not JSON: ${seen}`);
  }
  if (res.status < 400) return { status: res.status, headers: res.headers };
  expect(res.headers.get('content-type'), `a 4xx is application/json: ${seen}`).toMatch(/^application\/json\s*(;|$)/);
  const shape = ErrorShape.safeParse(body);
  expect(shape.success, `a 4xx has the SPEC error shape (${shape.error?.message}): ${seen}`).toBe(true);
  return { status: res.status, code: shape.data!.error.code, issuePaths: shape.data!.error.issues?.map((issue) => issue.path), headers: res.headers };
}

/**
 * The property: the response keeps the invariants, a refused call leaves the state
 * as it was, and a call that changed something is undone before the next run.
 */
async function check(call: Call): Promise<Outcome> {
  const before = baseline;
  try {
    const outcome = await expectWellFormed(call, await send(call, before.config.version));
    if (outcome.status >= 400) {
      expect(await readState(), `refused with ${outcome.status} but the state changed: ${describeCall(call)}`).toEqual(before);
    } else if (call.path.endsWith('?dry_run=true')) {
      expect(await readState(), `a dry run changed the state: ${describeCall(call)}`).toEqual(before);
    } else if (call.method !== 'GET' && JSON.stringify(await readState()) !== JSON.stringify(before)) {
      await reset();
    }
    return outcome;
  } catch (error) {
    await reset();
    throw error;
  }
}

/**
 * Runs `numRuns` generated calls, then checks that each of `reached` was answered at
 * least once: the generators do reach both the success path and the refusals.
 */
async function fuzz(calls: fc.Arbitrary<Call>, numRuns: number, reached: number[]): Promise<void> {
  const statuses: Record<number, number> = {};
  await fc.assert(
    fc.asyncProperty(calls, async (call) => {
      const { status } = await check(call);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }),
    { numRuns, seed: SEED },
  );
  expect(Object.keys(statuses).map(Number), `statuses seen: ${JSON.stringify(statuses)}`).toEqual(expect.arrayContaining(reached));
}

// ---------------------------------------------------------------------------
// Generators: path segments, headers, query strings

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });

const JUNK_SEGMENTS = [
  '..', '.', '%2e%2e', '.%2E', '%2F', 'a%2Fb', '%5C', '%00', 'eu%00', '%ZZ', '%', '%E0%A4%A', '%C0%AF', '%FF', '%252e%252e',
  '%20', '%20eu', 'eu%20', '+', ';', ';x=1', '@', '~', '*', '?', '?x=1', '#', '%3Cscript%3E', 'EU', 'Eu', 'eu.json', 'null',
  'undefined', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '0', '-1', '1e3', '-eu', '_eu',
];

/** A path segment: mostly ids that exist, else unknown, unicode, very long, dot segments, bad percent-encoding, empty. */
function segment(known: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...known) },
    { weight: 3, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,63}$/) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).map(encodeURIComponent) },
    { weight: 3, arbitrary: fc.constantFrom(...JUNK_SEGMENTS) },
    { weight: 1, arbitrary: fc.constantFrom('', 'a'.repeat(65), 'x'.repeat(4000), encodeURIComponent('é'.repeat(300))) },
  );
}

const CONTENT_TYPES = [
  undefined, '', 'text/plain', 'text/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/problem+json',
  'application/json;', 'application/json; charset', 'application/jsonx', 'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x', ' application/json', 'application/json, text/plain', '*/*', 'json', 'application/octet-stream',
];
const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
  { weight: 1, arbitrary: printable },
);

const IF_MATCH_LITERALS = [
  '*', '', '"', 'W/', 'W/"0"', '0', '"99999999999999999999"', '"-1"', '"1.5"', 'garbage', '"r0123456789abcdef"', '"r"', '""',
  '"a", "b"', '*, "1"', 'W/"r0000000000000000"', '"1",', ',', '"1" "2"',
];
const ifMatch: fc.Arbitrary<IfMatch | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.constantFrom(0, -1, 1, -1_000).map((current) => ({ current })) },
  { weight: 2, arbitrary: fc.constantFrom(...IF_MATCH_LITERALS).map((literal) => ({ literal })) },
  { weight: 1, arbitrary: printable.map((literal) => ({ literal })) },
);

/** A query string from [key, value] pairs; a null value is a bare key. Values are encoded unless junk is asked for. */
function queryString(pairs: fc.Arbitrary<[string, string | null]>, maxLength = 5): fc.Arbitrary<string> {
  return fc
    .array(pairs, { maxLength })
    .map((list) => (list.length === 0 ? '' : `?${list.map(([key, value]) => (value === null ? key : `${key}=${value}`)).join('&')}`));
}

const RAW_QUERY_JUNK = ['%ZZ', '%', '%00', '%0A', '&', '=', '==', '+', '%2B', '%E0%A4%A', 'a%20b', '%FF'];

/** A query value: one of `meaningful` (encoded), a random string, or raw junk. */
function queryValue(meaningful: readonly string[]): fc.Arbitrary<string | null> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...meaningful).map(encodeURIComponent) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_QUERY_JUNK) },
    { weight: 1, arbitrary: fc.constant(null) },
  );
}

// ---------------------------------------------------------------------------
// Generators: bodies, from valid to almost valid to not JSON at all

type Json = Record<string, unknown>;

const WRONG_VALUES: unknown[] = [
  null, -1, 0, 0.5, 1e9, -1e9, 1e21, 65, 3601, 600_001, '', ' ', 'x', 'A'.repeat(300), true, false, [], {}, [1], { a: 1 }, [null],
  '127.0.0.1:99999', 'ftp://x', 'http://u:p@h', 'http://h/?q', 'http://', 'eu', 'missing', 'WEU', '2xx,', 'GET ', '*.', 'Strict',
];
const UNKNOWN_KEYS = ['extra', 'Id', 'ID', 'weight ', ' id', '', 'origins', 'default_pools', 'monitor', 'name', 'id', 'pools', '__proto__', 'constructor', 'toString', 'x-lb'];

type Mutation = { op: 'set'; at: number; value: unknown } | { op: 'delete'; at: number } | { op: 'add'; at: number; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(...WRONG_VALUES) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: fc.constantFrom(...UNKNOWN_KEYS), value: fc.constantFrom(...WRONG_VALUES) }),
  },
);

type Path = (string | number)[];

function children(value: unknown): [string | number, unknown][] {
  if (value === null || typeof value !== 'object') return [];
  return Array.isArray(value) ? value.map((item, i) => [i, item]) : Object.entries(value);
}

/** Paths to every node below the root: the fields a mutation may change or remove. */
function nodePaths(value: unknown, at: Path = []): Path[] {
  return children(value).flatMap(([key, child]) => [[...at, key], ...nodePaths(child, [...at, key])]);
}

/** Paths to every plain object, the root included: where a mutation may add a field. */
function objectPaths(value: unknown, at: Path = []): Path[] {
  const own = value !== null && typeof value === 'object' && !Array.isArray(value) ? [at] : [];
  return [...own, ...children(value).flatMap(([key, child]) => objectPaths(child, [...at, key]))];
}

function nodeAt(root: unknown, path: Path): Record<string | number, unknown> {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], root) as Record<string | number, unknown>;
}

/** A valid document with one field changed: a wrong type or range, removed, or an unknown field added. */
function mutate(valid: Json, m: Mutation): Json {
  const copy = structuredClone(valid);
  const candidates = m.op === 'add' ? objectPaths(copy) : nodePaths(copy);
  if (candidates.length === 0) return copy;
  const path = candidates[m.at % candidates.length]!;
  if (m.op === 'add') {
    Object.defineProperty(nodeAt(copy, path), m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
    return copy;
  }
  const parent = nodeAt(copy, path.slice(0, -1));
  const key = path.at(-1)!;
  if (m.op === 'set') parent[key] = m.value;
  else if (Array.isArray(parent)) parent.splice(key as number, 1);
  else delete parent[key];
  return copy;
}

const NOT_JSON = [
  '', ' ', 'not json', '{', '}', '{"id":', '[1,2', "{'id':'x'}", 'undefined', 'NaN', '{"a":1,}', '{"a":1}{"b":2}', '\u0000', '\uFEFF{}',
  'id=x&y=z', '<xml/>', '--x\r\ncontent-disposition: form-data; name="id"\r\n\r\nx\r\n--x--', '{"a":"\\ud800"}', '{"a":01}', "{\"a\":'b'}",
];
const WRONG_TYPES = ['[]', '[{}]', '[null]', '0', '-1', '1e400', '3.14', 'null', 'true', 'false', '"eu"', '""', '{}', `${'['.repeat(5000)}${']'.repeat(5000)}`];
const FIELD_NAMES = ['id', 'name', 'origins', 'address', 'weight', 'enabled', 'monitor', 'default_pools', 'hostname', 'withdrawn', 'path', 'interval', 'monitors', 'pools', 'load_balancers'];

const randomObject = fc
  .dictionary(fc.oneof(fc.constantFrom(...FIELD_NAMES, ...UNKNOWN_KEYS), fc.string({ maxLength: 10 })), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 })
  .map((object) => ({ text: JSON.stringify(object) }));

/** Bodies for a route whose valid body is `valid`; `dangling` are patches that break a reference. */
function bodies(valid: fc.Arbitrary<Json>, dangling: readonly Json[] = []): fc.Arbitrary<Body | undefined> {
  const json = (arb: fc.Arbitrary<unknown>) => arb.map((value) => ({ text: JSON.stringify(value) }));
  const options: fc.WeightedArbitrary<Body | undefined>[] = [
    { weight: 4, arbitrary: json(valid) },
    { weight: 8, arbitrary: json(fc.tuple(valid, mutation).map(([value, m]) => mutate(value, m))) },
    { weight: 1, arbitrary: fc.constantFrom(...NOT_JSON).map((text) => ({ text })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((text) => ({ text })) },
    {
      weight: 1,
      arbitrary: fc.tuple(valid, fc.nat()).map(([value, n]) => {
        const text = JSON.stringify(value);
        return { text: text.slice(0, n % text.length) };
      }),
    },
    { weight: 1, arbitrary: fc.constantFrom(...WRONG_TYPES).map((text) => ({ text })) },
    { weight: 1, arbitrary: randomObject },
    { weight: 1, arbitrary: fc.constantFrom<Body | undefined>(undefined, { bytes: [0xff, 0xfe] }, { bytes: [0x7b, 0xc0, 0xaf, 0x7d] }, { oversized: 1024 * 1024 + 1 }) },
  ];
  if (dangling.length > 0) options.push({ weight: 2, arbitrary: json(fc.tuple(valid, fc.constantFrom(...dangling)).map(([value, patch]) => ({ ...value, ...patch }))) });
  return fc.oneof(...options);
}

/** Leaves the id (an origin's name) out most of the time: a PUT takes it from the path. */
const withoutId = (arb: fc.Arbitrary<Json>): fc.Arbitrary<Json> =>
  fc.tuple(arb, fc.nat(3)).map(([value, n]) => (n === 0 ? value : Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'id' && key !== 'name'))));

const anyId = fc.oneof(fc.constantFrom('ap', 'new-one', 'x_9', 'eu', 'root', 'main', 'e1'), fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,10}$/));

const monitorBody: fc.Arbitrary<Json> = fc.record(
  {
    id: anyId,
    type: fc.constantFrom('http', 'https', 'tcp'),
    method: fc.constantFrom('GET', 'HEAD'),
    path: fc.constantFrom('/', '/health', '/a?b=c'),
    header: fc.constantFrom({}, { Host: ['app.example'] }),
    expected_codes: fc.constantFrom('200', '2xx', '200,204', '2xx,3xx'),
    expected_body: fc.constantFrom('', 'ok'),
    interval: fc.integer({ min: 5, max: 3600 }),
    timeout: fc.integer({ min: 1, max: 60 }),
    retries: fc.integer({ min: 0, max: 5 }),
    consecutive_up: fc.integer({ min: 1, max: 100 }),
    consecutive_down: fc.integer({ min: 1, max: 100 }),
  },
  { requiredKeys: ['id'] },
);

const originBody: fc.Arbitrary<Json> = fc.record(
  {
    name: fc.constantFrom('o1', 'o2', 'e1', 'u1', 'x-9'),
    address: fc.constantFrom('http://127.0.0.1:9', 'https://127.0.0.1:9/p', '127.0.0.1:9', 'localhost', '[::1]:9'),
    weight: fc.integer({ min: 0, max: 1000 }),
    enabled: fc.boolean(),
    drain: fc.boolean(),
    backup: fc.boolean(),
    header: fc.constantFrom({}, { Host: ['o.internal'] }),
  },
  { requiredKeys: ['name', 'address'] },
);

const originPatch: fc.Arbitrary<Json> = fc.record(
  {
    weight: fc.integer({ min: 0, max: 1000 }),
    enabled: fc.boolean(),
    drain: fc.boolean(),
    backup: fc.boolean(),
    address: fc.constantFrom('http://127.0.0.1:9', '127.0.0.1:10'),
    header: fc.constantFrom({}, { Host: ['p.internal'] }),
  },
  { requiredKeys: [] },
);

const poolBody: fc.Arbitrary<Json> = fc
  .tuple(
    fc.record(
      {
        id: anyId,
        name: fc.constantFrom('Europe', '', 'Pool ✓'),
        enabled: fc.boolean(),
        minimum_origins: fc.integer({ min: 0, max: 3 }),
        monitor: fc.constantFrom(...MONITOR_IDS),
        origin_steering: fc.record({ policy: fc.constantFrom('round_robin', 'random', 'hash', 'least_outstanding_requests') }),
        slow_start: fc.integer({ min: 0, max: 3600 }),
        origins: fc.uniqueArray(originBody, { minLength: 1, maxLength: 3, selector: (o) => o.name }),
      },
      { requiredKeys: ['id', 'origins'] },
    ),
    fc.option(fc.tuple(fc.double({ min: -90, max: 90, noNaN: true }), fc.double({ min: -180, max: 180, noNaN: true }))),
  )
  .map(([pool, coordinates]) => (coordinates === null ? pool : { ...pool, latitude: coordinates[0], longitude: coordinates[1] }));

const loadBalancerBody: fc.Arbitrary<Json> = fc.record(
  {
    id: anyId,
    hostname: fc.constantFrom('*', 'app.test', '*.example.com', 'API.Example.com'),
    enabled: fc.boolean(),
    default_pools: fc.subarray(POOL_IDS, { minLength: 1 }),
    fallback_pool: fc.constantFrom(...POOL_IDS),
    steering_policy: fc.constantFrom('', 'off', 'random', 'geo', 'proximity', 'least_outstanding_requests', 'dynamic_latency'),
    random_steering: fc.constantFrom({ default_weight: 1, pool_weights: { eu: 2 } }, {}),
    region_pools: fc.constantFrom({}, { WEU: ['eu'] }),
    country_pools: fc.constantFrom({}, { BR: ['us'] }),
    pop_pools: fc.constantFrom({}, { FRA: ['eu'] }),
    session_affinity: fc.constantFrom('none', 'cookie', 'ip_cookie'),
    session_affinity_ttl: fc.integer({ min: 1, max: 7 * 86_400 }),
    session_affinity_attributes: fc.constantFrom({}, { headers: ['x-session-id'], samesite: 'Lax', secure: 'Always', zero_downtime_failover: 'temporary' }),
    request_headers: fc.constantFrom({}, { 'X-Test': '1' }),
    preserve_host: fc.boolean(),
    retries: fc.integer({ min: 0, max: 10 }),
    attempt_timeout_ms: fc.integer({ min: 1, max: 600_000 }),
    passive_health: fc.constantFrom({}, { max_fails: 0, fail_timeout: 1, max_ejection_percent: 100 }),
    expose_headers: fc.boolean(),
  },
  { requiredKeys: ['id', 'hostname', 'default_pools'] },
);

const DANGLING_POOL = [{ monitor: 'missing' }, { monitor: 'ROOT' }];
const DANGLING_LB = [
  { default_pools: ['gone'] },
  { default_pools: ['eu', 'gone'] },
  { fallback_pool: 'gone' },
  { region_pools: { WEU: ['gone'] } },
  { country_pools: { BR: ['gone'] } },
  { pop_pools: { FRA: ['gone'] } },
  { random_steering: { pool_weights: { gone: 1 } } },
  { session_affinity: 'header' },
  { hostname: '*' },
];

const configBody: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(base()) },
  { weight: 1, arbitrary: fc.constantFrom({}, { monitors: [], pools: [], load_balancers: [] }) },
  {
    weight: 2,
    arbitrary: fc.tuple(poolBody, loadBalancerBody).map(([pool, lb]) => {
      const config = base();
      return { ...config, pools: [...config.pools, { ...pool, id: 'added' }], load_balancers: [{ ...lb, id: 'other', hostname: 'other.test' }, ...config.load_balancers] };
    }),
  },
);
const DANGLING_CONFIG = [
  { pools: [{ id: 'p', monitor: 'gone', origins: [{ name: 'o', address: '127.0.0.1:9' }] }] },
  { load_balancers: [{ id: 'l', hostname: '*', default_pools: ['gone'] }] },
  { monitors: [{ id: 'm' }, { id: 'm' }] },
  { pools: [{ id: 'p', origins: [{ name: 'o', address: '127.0.0.1:9' }, { name: 'o', address: '127.0.0.1:10' }] }] },
];

/** A small Cloudflare Load Balancing export (the API's own shapes and 32-hex ids). */
const CLOUDFLARE_EXPORT: Json = {
  monitors: [
    {
      id: '043bb2491db6303aaf8b94afec0978ad',
      type: 'http',
      description: 'app health',
      method: 'GET',
      path: '/health',
      header: { Host: ['app.example.com'] },
      port: 0,
      timeout: 5,
      retries: 2,
      interval: 60,
      expected_codes: '2xx',
      expected_body: '',
      consecutive_up: 2,
      consecutive_down: 3,
    },
  ],
  pools: {
    result: [
      {
        id: '5c47bfed950cf7ae18c2976c7a285250',
        name: 'eu-frankfurt',
        enabled: true,
        minimum_origins: 1,
        monitor: '043bb2491db6303aaf8b94afec0978ad',
        latitude: 50.11,
        longitude: 8.68,
        origin_steering: { policy: 'random' },
        origins: [
          { name: 'fra-1', address: '127.0.0.1', enabled: true, weight: 1 },
          { name: 'fra-2', address: '127.0.0.2', enabled: false, weight: 0.5, header: { Host: ['fra.internal'] } },
        ],
      },
    ],
    success: true,
    errors: [],
  },
  load_balancers: [
    {
      id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
      name: 'app.example.com',
      enabled: true,
      proxied: true,
      ttl: 30,
      default_pools: ['5c47bfed950cf7ae18c2976c7a285250'],
      fallback_pool: '5c47bfed950cf7ae18c2976c7a285250',
      steering_policy: 'off',
      session_affinity: 'cookie',
      session_affinity_ttl: 3600,
      region_pools: { WEU: ['5c47bfed950cf7ae18c2976c7a285250'] },
    },
  ],
};

// ---------------------------------------------------------------------------
// Calls per route

function callsTo(method: string, path: fc.Arbitrary<string>, extra: { body?: fc.Arbitrary<Body | undefined>; ifMatch?: boolean } = {}): fc.Arbitrary<Call> {
  return fc
    .record({
      path,
      body: extra.body ?? fc.constant(undefined),
      contentType: extra.body === undefined ? fc.constant(undefined) : contentType,
      ifMatch: extra.ifMatch ? ifMatch : fc.constant(undefined),
    })
    .map(({ path, body, contentType, ifMatch }) => {
      const made: Call = { method, path };
      if (body !== undefined) made.body = body;
      if (contentType !== undefined) made.contentType = contentType;
      if (ifMatch !== undefined) made.ifMatch = ifMatch;
      return made;
    });
}

/** GET, POST on the collection; GET, PUT, DELETE on an item. */
function collectionCalls(plural: string, known: readonly string[], valid: fc.Arbitrary<Json>, dangling: readonly Json[] = []): fc.Arbitrary<Call> {
  const item = segment(known).map((id) => `/${plural}/${id}`);
  return fc.oneof(
    callsTo('GET', fc.constant(`/${plural}`)),
    callsTo('POST', fc.constant(`/${plural}`), { body: bodies(valid, dangling), ifMatch: true }),
    callsTo('GET', item),
    callsTo('PUT', item, { body: bodies(withoutId(valid), dangling), ifMatch: true }),
    callsTo('DELETE', item, { ifMatch: true }),
  );
}

const poolSegment = segment(POOL_IDS);
const originPath = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...ORIGINS) },
  { weight: 1, arbitrary: fc.tuple(poolSegment, segment(ORIGIN_NAMES)) },
).map(([pool, origin]) => `/pools/${pool}/origins/${origin}`);
const originCalls = fc.oneof(
  callsTo('GET', poolSegment.map((pool) => `/pools/${pool}/origins`)),
  callsTo('POST', poolSegment.map((pool) => `/pools/${pool}/origins`), { body: bodies(originBody), ifMatch: true }),
  callsTo('GET', originPath),
  callsTo('PUT', originPath, { body: bodies(withoutId(originBody)), ifMatch: true }),
  callsTo('PATCH', originPath, { body: bodies(originPatch), ifMatch: true }),
  callsTo('DELETE', originPath, { ifMatch: true }),
);

const configCalls = fc.oneof(
  callsTo('GET', fc.constant('/config')),
  callsTo(
    'PUT',
    fc.oneof(
      { weight: 3, arbitrary: fc.constant('/config') },
      { weight: 2, arbitrary: fc.constant('/config?dry_run=true') },
      { weight: 1, arbitrary: fc.constantFrom('/config?dry_run=false', '/config?dry_run=TRUE', '/config?dry_run', '/config?dry_run=true&dry_run=false') },
    ),
    { body: bodies(configBody, DANGLING_CONFIG), ifMatch: true },
  ),
);

const EVENT_VALUES = ['0', '1', '100', '1000', '1001', '-1', '1.5', 'abc', '', ' 5', '1e3', '0x10', 'NaN', 'Infinity', '9'.repeat(400), 'config', 'pop', 'health', 'CONFIG', 'admin'];
const eventsQuery = queryString(fc.tuple(fc.constantFrom('limit', 'limit', 'kind', 'kind', 'limit[]', 'x', ''), queryValue(EVENT_VALUES)));

/**
 * Explain parameters: `ok` values pass the query schema (some are still odd: control
 * characters, methods fetch refuses), `bad` ones do not. Mostly `ok`, so that a run
 * gets past validation and into explain() itself.
 */
const EXPLAIN_PARAMS: Record<string, { ok: string[]; bad: string[] }> = {
  host: { ok: ['app.test', 'localhost', 'api.example.com', '[::1]', 'localhost:8080', 'APP.TEST', '127.0.0.1'], bad: ['', 'a b', '[::1', 'user@host', 'exa%mple', '..', 'a'.repeat(300), 'é.test', 'app.test/x', '*'] },
  path: { ok: ['/', '/x?y=1', '/#frag', '/\u0000', '/%ZZ', '/é', '/'.repeat(2000)], bad: ['//evil/x', 'noslash', '', '/'.repeat(3000)] },
  method: { ok: ['GET', 'post', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE', 'TRACK'], bad: ['X'.repeat(17), 'G T', '', 'GET1'] },
  ip: { ok: ['192.0.2.1', '::1', '2001:db8::1', 'abc', '', '\u0000', 'a\nb', 'a\rb', '1.2.3.4, 5.6.7.8'], bad: ['x'.repeat(65)] },
  country: { ok: ['US', 'us', 'BR', 'XX'], bad: ['USA', '1A', ''] },
  colo: { ok: ['FRA', 'fra', 'SIN', 'ZZZ'], bad: ['FR', 'FRAX', '', '123'] },
  cookie: { ok: ['x', 'a=b', '__lb_affinity=garbage', '__lb_affinity=', '=;=', '\u0000', 'a\nb', 'a\rb'], bad: ['x'.repeat(4097)] },
  header: { ok: ['x-session-id: 1', 'host: evil', 'x-a:', 'x-a: é', 'x-a: \u0000', 'x-a: a\nb'], bad: [':x', 'bad name: v', 'x-a', '(): v'] },
  lat: { ok: ['0', '50.11', '90', '-0', '', ' ', '0x1'], bad: ['90.0001', '-91', '1e999', 'abc', 'NaN'] },
  lon: { ok: ['0', '8.68', '180', ''], bad: ['180.5', '-181', '-1e999', 'abc', 'Infinity'] },
};

function explainValue(key: string): fc.Arbitrary<string> {
  const { ok, bad } = EXPLAIN_PARAMS[key]!;
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...ok).map(encodeURIComponent) },
    { weight: 2, arbitrary: fc.constantFrom(...bad).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_QUERY_JUNK) },
  );
}

/** Present about a third of the time. */
const sometimes = (arb: fc.Arbitrary<string>) =>
  fc.oneof({ withCrossShrink: true }, { weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });

const explainQuery = fc
  .tuple(
    ...['host', 'path', 'method', 'ip', 'country', 'colo', 'cookie', 'header'].map((key) => sometimes(explainValue(key).map((value) => `${key}=${value}`))),
    // Lat and lon go together; now and then one comes alone.
    sometimes(
      fc
        .tuple(explainValue('lat'), explainValue('lon'), fc.constantFrom('both', 'both', 'both', 'lat', 'lon'))
        .map(([lat, lon, which]) => [which !== 'lon' && `lat=${lat}`, which !== 'lat' && `lon=${lon}`].filter(Boolean).join('&')),
    ),
    // Now and then a repeated, unknown or malformed parameter.
    sometimes(
      queryString(fc.tuple(fc.constantFrom('host', 'method', 'lat', 'header', 'x', '', 'HOST', 'lat[]', '%ZZ'), queryValue(['1', '', 'GET', 'x: 1'])), 2).map((q) => q.slice(1)),
    ),
  )
  .map((parts) => {
    const present = parts.filter((part): part is string => part !== null && part !== '');
    return present.length === 0 ? '' : `?${present.join('&')}`;
  });

const COLOS = ['SIN', 'FRA', 'fra', 'Sin', 'LHR', 'ZZZ', 'FR', 'FRAX', 'GRU'];
const popCalls = fc.oneof(
  callsTo('GET', fc.constant('/pops')),
  callsTo('PUT', segment(COLOS).map((colo) => `/pops/${colo}`), { body: bodies(fc.record({ withdrawn: fc.boolean() })), ifMatch: true }),
);

const IMPORT_QUERIES = ['?apply=TRUE', '?apply=1', '?apply=true&apply=true', '?apply=', '?apply', '?x=1', '?apply=true&apply=false', '?apply=%ZZ'];
const importQuery = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('', '?apply=true', '?apply=false') },
  { weight: 1, arbitrary: fc.constantFrom(...IMPORT_QUERIES) },
);
const importBody: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(CLOUDFLARE_EXPORT) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Json>(
      { result: (CLOUDFLARE_EXPORT.pools as { result: unknown[] }).result },
      { pools: [], monitors: [], load_balancers: [] },
      { load_balancers: CLOUDFLARE_EXPORT.load_balancers },
    ),
  },
);
const importCalls = callsTo(
  'POST',
  importQuery.map((query) => `/import/cloudflare${query}`),
  { body: bodies(importBody, [{ pools: null }, { pools: 'x' }, { load_balancers: [{ name: 'app.test', default_pools: ['nope'] }] }, { result: [1, 'x'] }]), ifMatch: true },
);

const READ_ONLY = ['/health', '/pops', '/openapi.json', '/config', '/pools', '/monitors', '/load_balancers', '/events'];
const readOnlyCalls = fc
  .tuple(fc.constantFrom(...READ_ONLY), queryString(fc.tuple(fc.constantFrom('limit', 'x', 'format', 'pool', ''), queryValue(['1', 'json', 'eu', '']))), ifMatch, fc.constantFrom(undefined, ...CONTENT_TYPES))
  .map(([path, query, ifMatch, contentType]): Call => ({ method: 'GET', path: `${path}${query}`, ...(ifMatch && { ifMatch }), ...(contentType !== undefined && { contentType }) }));

/** Methods a route does not have, paths that are not routes, and trailing or doubled slashes. */
const UNROUTED = [
  'POST /config', 'DELETE /config', 'PATCH /config', 'PUT /pools', 'DELETE /pools', 'PATCH /pools/eu', 'POST /pools/eu', 'PUT /pools/eu/origins',
  'POST /pools/eu/origins/e1', 'POST /monitors/root', 'PATCH /monitors/root', 'PATCH /load_balancers/main', 'POST /events', 'DELETE /pops',
  'POST /pops/SIN', 'GET /pops/SIN', 'DELETE /pops/SIN', 'GET /import/cloudflare', 'PUT /import/cloudflare', 'PUT /explain', 'POST /openapi.json',
  'GET /nope', 'GET /', 'GET ', 'GET /config/', 'GET /pools/', 'GET /pools//origins', 'GET /pools/eu/origins/', 'GET /pools/eu/origins/e1/extra',
  'OPTIONS /config', 'OPTIONS /pools/eu', 'GET /import', 'DELETE /pools/eu/origins', 'GET //config', 'GET /CONFIG', 'GET /config.json',
];
const unroutedCalls = fc
  .tuple(fc.constantFrom(...UNROUTED), fc.option(bodies(fc.constant({ id: 'x' })), { nil: undefined }), contentType)
  .map(([route, body, contentType]): Call => {
    const [method, path] = route.split(' ') as [string, string];
    const withBody = body !== undefined && method !== 'GET' && method !== 'OPTIONS';
    return { method, path, ...(withBody && { body, ...(contentType !== undefined && { contentType }) }) };
  });

// ---------------------------------------------------------------------------
// The tests

describe('fuzzing the admin API: no 5xx, the one error shape, nothing changed by a refusal', () => {
  it('GET and PUT /config', async () => {
    await fuzz(configCalls, 50, [200, 400]);
  }, TIMEOUT_MS);

  it('pools: GET, POST /pools; GET, PUT, DELETE /pools/:pool', async () => {
    await fuzz(collectionCalls('pools', POOL_IDS, poolBody, DANGLING_POOL), 60, [200, 201, 400, 404, 409]);
  }, TIMEOUT_MS);

  it('origins: GET, POST /pools/:pool/origins; GET, PUT, PATCH, DELETE /pools/:pool/origins/:origin', async () => {
    await fuzz(originCalls, 70, [200, 201, 400, 404]);
  }, TIMEOUT_MS);

  it('monitors: GET, POST /monitors; GET, PUT, DELETE /monitors/:id', async () => {
    await fuzz(collectionCalls('monitors', MONITOR_IDS, monitorBody), 40, [200, 201, 400, 404]);
  }, TIMEOUT_MS);

  it('load balancers: GET, POST /load_balancers; GET, PUT, DELETE /load_balancers/:id', async () => {
    await fuzz(collectionCalls('load_balancers', LB_IDS, loadBalancerBody, DANGLING_LB), 50, [200, 201, 400, 404]);
  }, TIMEOUT_MS);

  it('GET /events with odd query strings', async () => {
    await fuzz(
      eventsQuery.map((query): Call => ({ method: 'GET', path: `/events${query}` })),
      30,
      [200, 400],
    );
  }, TIMEOUT_MS);

  it('GET /explain with odd query strings', async () => {
    await fuzz(
      explainQuery.map((query): Call => ({ method: 'GET', path: `/explain${query}` })),
      60,
      [200, 400],
    );
  }, TIMEOUT_MS);

  it('GET /pops; PUT /pops/:colo', async () => {
    await fuzz(popCalls, 30, [200, 400, 404]);
  }, TIMEOUT_MS);

  it('POST /import/cloudflare, dry run and apply', async () => {
    await fuzz(importCalls, 40, [200, 400]);
  }, TIMEOUT_MS);

  it('GET /health, /pops, /openapi.json and the lists with stray queries and headers', async () => {
    await fuzz(readOnlyCalls, 20, [200]);
  }, TIMEOUT_MS);

  it('methods and paths that are not routes: 404 JSON', async () => {
    await fuzz(unroutedCalls, 20, [404]);
  }, TIMEOUT_MS);
});

describe('fuzzing the Authorization header', () => {
  const SCHEMES = ['Bearer', 'bearer', 'BEARER', 'Basic', 'Token', 'Bear', 'Bearer:', 'Digest', '', 'Bearer,'];
  const TOKENS = [ADMIN_TOKEN, `${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1), ADMIN_TOKEN.toUpperCase(), `"${ADMIN_TOKEN}"`, `${ADMIN_TOKEN}=`, `${ADMIN_TOKEN},`, `${ADMIN_TOKEN} extra`, '', 'a'.repeat(10_000), 'dGVzdA=='];
  const SEPARATORS = [' ', '  ', '\t', '', ':', '=', ' \t'];
  /** Would the middleware accept it? The generators must only make refused values. */
  const valid = new RegExp(`^bearer +${ADMIN_TOKEN} *$`, 'i');
  const accepted = (value: string) => valid.test(value.replace(/^[\t ]+|[\t ]+$/g, ''));
  const authorization: fc.Arbitrary<string | null> = fc.oneof(
    fc.constant(null),
    fc.tuple(fc.constantFrom(...SCHEMES), fc.constantFrom(...SEPARATORS), fc.oneof(fc.constantFrom(...TOKENS), printable)).map(([s, sep, t]) => `${s}${sep}${t}`),
    printable,
  ).filter((value) => value === null || !accepted(value));

  const ROUTES: [string, string, Body?][] = [
    ['GET', '/config'],
    ['PUT', '/config', { text: JSON.stringify(base()) }],
    ['DELETE', '/pools/spare'],
    ['PATCH', '/pools/eu/origins/e1', { text: '{"weight":5}' }],
    ['PUT', '/pops/SIN', { text: '{"withdrawn":false}' }],
    ['GET', '/explain?host=app.test'],
    ['POST', '/import/cloudflare?apply=true', { text: JSON.stringify(CLOUDFLARE_EXPORT) }],
    ['GET', '/openapi.json'],
  ];

  it('anything but the right bearer token is 401 unauthorized with WWW-Authenticate, and changes nothing', async () => {
    const calls = fc.tuple(fc.constantFrom(...ROUTES), authorization).map(([[method, path, body], auth]): Call => ({
      method,
      path,
      authorization: auth,
      ...(body && { body, contentType: 'application/json' }),
    }));
    await fc.assert(
      fc.asyncProperty(calls, async (call) => {
        const { status, code, headers } = await check(call);
        const what = describeCall(call);
        expect(status, what).toBe(401);
        expect(code, what).toBe('unauthorized');
        expect(headers.get('www-authenticate'), what).toMatch(/^Bearer\b/);
      }),
      { numRuns: 50, seed: SEED },
    );
  }, TIMEOUT_MS);
});

// ---------------------------------------------------------------------------
// Header maps with CR, LF or NUL, names that are not tokens, and own "__proto__" keys
// at any depth (SPEC §8): 400 with the path, never a 5xx, nothing changed.

/** A route whose body carries header maps; `maps` are the paths to them inside the body, `list` when a map's values are arrays. */
interface HeaderTarget {
  method: string;
  path: string;
  body: () => Json;
  maps: { at: Path; list: boolean }[];
}

const HEADER_TARGETS: HeaderTarget[] = [
  {
    method: 'PUT',
    path: '/config',
    body: () => {
      const config = base() as Json & ReturnType<typeof base>;
      (config.monitors[0] as Json).header = { 'X-Probe': ['1'] };
      (config.load_balancers[0] as Json).request_headers = { 'X-Test': '1' };
      return config;
    },
    maps: [
      { at: ['load_balancers', 0, 'request_headers'], list: false },
      { at: ['pools', 2, 'origins', 0, 'header'], list: true },
      { at: ['monitors', 0, 'header'], list: true },
    ],
  },
  { method: 'PUT', path: '/pools/eu', body: () => ({ monitor: 'root', origins: [{ name: 'e1', address: 'http://127.0.0.1:9', header: {} }] }), maps: [{ at: ['origins', 0, 'header'], list: true }] },
  { method: 'POST', path: '/pools', body: () => ({ id: 'fz', origins: [{ name: 'f1', address: '127.0.0.1:9', header: {} }] }), maps: [{ at: ['origins', 0, 'header'], list: true }] },
  { method: 'POST', path: '/pools/eu/origins', body: () => ({ name: 'e3', address: 'http://127.0.0.1:9', header: {} }), maps: [{ at: ['header'], list: true }] },
  { method: 'PUT', path: '/pools/eu/origins/e1', body: () => ({ address: 'http://127.0.0.1:9', header: {} }), maps: [{ at: ['header'], list: true }] },
  { method: 'PATCH', path: '/pools/eu/origins/e1', body: () => ({ weight: 3, header: {} }), maps: [{ at: ['header'], list: true }] },
  { method: 'PUT', path: '/monitors/root', body: () => ({ path: '/health', header: {} }), maps: [{ at: ['header'], list: true }] },
  { method: 'POST', path: '/monitors', body: () => ({ id: 'fz', header: {} }), maps: [{ at: ['header'], list: true }] },
  { method: 'PUT', path: '/load_balancers/main', body: () => ({ hostname: '*', default_pools: ['eu', 'us'], request_headers: {} }), maps: [{ at: ['request_headers'], list: false }] },
  { method: 'POST', path: '/load_balancers', body: () => ({ id: 'fz', hostname: 'fz.test', default_pools: ['eu'], request_headers: {} }), maps: [{ at: ['request_headers'], list: false }] },
];

const tokenish = fc.stringMatching(/^[A-Za-z0-9-]{0,8}$/);
const CONTROL = ['\r', '\n', '\0', '\r\n', '\n\r', '\0\r\n'];
/** A value with CR, LF or NUL somewhere: injection attempts, a lone control character, or printable text around one. */
const badHeaderValue = fc.oneof(
  fc.tuple(printable, fc.constantFrom(...CONTROL), printable).map(([a, c, b]) => `${a}${c}${b}`),
  fc.constantFrom('\r', '\n', '\0', 'a\r\nSet-Cookie: x=1', 'v\r\n\r\nGET / HTTP/1.1', '1\nX-Injected: yes', 'x\0y', '\r\nHost: evil.test'),
);
const NOT_TOKEN = [' ', ':', '(', ')', '"', '/', '@', '[', ']', '{', '}', '=', ',', ';', '?', '\\', '<', '>', '\t', 'é', '\u00ff', '✓', '\r', '\n', '\0', '\u007f'];
/** A name that is not an RFC 9110 token: empty, or with one or more characters a token may not have. */
const badHeaderName = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'X-A ', ' X-A', 'X-A:', 'Host:', 'x a', 'X-Inj\r\nX-B') },
  { weight: 6, arbitrary: fc.tuple(tokenish, fc.array(fc.constantFrom(...NOT_TOKEN), { minLength: 1, maxLength: 3 }), tokenish).map(([a, bad, b]) => `${a}${bad.join('')}${b}`) },
);
const GOOD_NAMES = ['X-Fuzz', 'x-a', 'Accept', 'X-Trace-Id'];

/** How "__proto__" is spelled in the JSON text; every one parses to the same own key. */
const PROTO_SPELLINGS = ['"__proto__"', '"\\u005f_proto__"', '"\\u005F\\u005Fproto\\u005F\\u005F"', '"__pr\\u006fto__"', '"\\u005f\\u005f\\u0070\\u0072\\u006f\\u0074\\u006f\\u005f\\u005f"', '"_\\u005Fproto_\\u005F"'];
const PROTO_VALUES: unknown[] = [['x'], 'x', { weight: 5 }, {}, null, 1, [], { polluted: true }, { monitor: 'root' }, [{ name: 'z', address: '127.0.0.1:9' }]];
const SLOT = '__fuzz_proto_slot__';

type HeaderCorruption =
  | { kind: 'value'; map: number; name: string; value: string; alongside: boolean }
  | { kind: 'name'; map: number; name: string }
  | { kind: 'proto'; at: number; spelling: string; value: unknown; first: boolean };

const headerCorruption: fc.Arbitrary<HeaderCorruption> = fc.oneof(
  fc.record({ kind: fc.constant('value' as const), map: fc.nat(), name: fc.constantFrom(...GOOD_NAMES), value: badHeaderValue, alongside: fc.boolean() }),
  fc.record({ kind: fc.constant('name' as const), map: fc.nat(), name: badHeaderName }),
  fc.record({ kind: fc.constant('proto' as const), at: fc.nat(), spelling: fc.constantFrom(...PROTO_SPELLINGS), value: fc.constantFrom(...PROTO_VALUES), first: fc.boolean() }),
);

const setOwn = (object: Record<string, unknown>, key: string, value: unknown) => Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });

/** The JSON text of a target's body with one corruption, and the issue path segment the refusal must name. */
function corrupt(target: HeaderTarget, c: HeaderCorruption): { text: string; names: string } {
  const body = target.body();
  if (c.kind === 'proto') {
    const paths = objectPaths(body);
    const object = nodeAt(body, paths[c.at % paths.length]!) as Record<string, unknown>;
    // First or last key of its object: the parser must not care where it stands.
    const rest = Object.entries(object);
    if (c.first) for (const [key] of rest) delete object[key];
    setOwn(object, SLOT, c.value);
    if (c.first) for (const [key, value] of rest) object[key] = value;
    return { text: JSON.stringify(body).replace(`"${SLOT}"`, c.spelling), names: '__proto__' };
  }
  const { at, list } = target.maps[c.map % target.maps.length]!;
  const map = nodeAt(body, at) as Record<string, unknown>;
  const wrap = (value: string) => (list ? (c.kind === 'value' && c.alongside ? ['ok', value] : [value]) : value);
  if (c.kind === 'value') {
    if (c.alongside) map['X-Ok'] = list ? ['1'] : '1';
    setOwn(map, c.name, wrap(c.value));
  } else {
    setOwn(map, c.name, wrap('v'));
  }
  return { text: JSON.stringify(body), names: String(at.at(-1)) };
}

function describeCorruption(c: HeaderCorruption): string {
  return JSON.stringify(c);
}

describe('fuzzing header maps and "__proto__" keys in configuration bodies', () => {
  it('the uncorrupted bodies are accepted (so that a refusal below is the corruption\'s)', async () => {
    for (const target of HEADER_TARGETS) {
      const call: Call = { method: target.method, path: target.path, contentType: 'application/json', body: { text: JSON.stringify(target.body()) } };
      const { status } = await check(call);
      expect(status, describeCall(call)).toBeLessThan(300);
      await reset();
    }
  }, TIMEOUT_MS);

  it('CR, LF or NUL in a value, a name that is not a token, an own "__proto__" at any depth: 400 with the path, nothing changed', async () => {
    const codes: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...HEADER_TARGETS), headerCorruption, async (target, c) => {
        const { text, names } = corrupt(target, c);
        const call: Call = { method: target.method, path: target.path, contentType: 'application/json', body: { text } };
        const what = `${describeCorruption(c)}\n  ${describeCall(call)}`;
        const { status, code, issuePaths } = await check(call);
        codes[code ?? status] = (codes[code ?? status] ?? 0) + 1;
        expect(status, what).toBe(400);
        expect(issuePaths ?? [], `the issues name ${names}: ${what}`).toEqual(expect.arrayContaining([expect.stringContaining(names)]));
      }),
      { numRuns: 80, seed: SEED },
    );
    expect(Object.keys(codes), JSON.stringify(codes)).toEqual(['invalid_config']);
  }, TIMEOUT_MS);
});

// ---------------------------------------------------------------------------
// Percent-encoded admin paths (SPEC §7, §8): the router decodes, so an encoded admin
// path is the admin path; it answers on the admin host only, and elsewhere it is 404.

const ADMIN_GETS = ['/__lb/api/config', '/__lb/api/pools', '/__lb/api/pops', '/__lb/api/monitors', '/__lb/api/load_balancers/main', '/__lb/api/openapi.json'];

/** A path with some of its characters (never a slash) percent-encoded, in upper- or lower-case hex. */
const encodedAdminPath = fc
  .tuple(fc.constantFrom(...ADMIN_GETS), fc.infiniteStream(fc.constantFrom('keep', 'keep', 'upper', 'lower')))
  .map(([path, how]) => {
    const chosen = [...path].map((ch) => (ch === '/' ? 'keep' : how.next().value));
    // At least one character is encoded: the first one after "/".
    if (!chosen.some((c) => c !== 'keep')) chosen[1] = 'upper';
    const encoded = [...path]
      .map((ch, i) => {
        const hex = ch.charCodeAt(0).toString(16).padStart(2, '0');
        return chosen[i] === 'keep' ? ch : `%${chosen[i] === 'upper' ? hex.toUpperCase() : hex.toLowerCase()}`;
      })
      .join('');
    return { plain: path, encoded };
  });

/** Spellings the router does not decode to an admin path (an encoded slash, double encoding): never admin content. */
const NOT_DECODED = ['/__lb%2Fapi%2Fconfig', '/%5F%5Flb%2Fapi/config', '/__lb/api%2Fconfig', '/%255F%255Flb/api/config', '/__lb%2fapi/config', '/%2F__lb/api/config', '/__lb/api/%2e%2e/api/config', '/__lb/%2e%2e/__lb/api/config'];

/** Does a body look like an admin answer (a configuration, a resource list, the PoP table, OpenAPI)? */
function isAdminContent(text: string): boolean {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    return body !== null && typeof body === 'object' && ['config', 'version', 'pools', 'pops', 'monitors', 'openapi', 'hostname', 'paths'].some((key) => key in body);
  } catch {
    return false;
  }
}

describe('fuzzing percent-encoded admin paths', () => {
  const authorized = { authorization: `Bearer ${ADMIN_TOKEN}` };

  it('on a host that is not the admin host: 404 not_found, never admin content, with a valid token', async () => {
    await fc.assert(
      fc.asyncProperty(encodedAdminPath, async ({ encoded }) => {
        const res = await lb(encoded, { host: 'app.test', headers: authorized });
        const text = await res.text();
        const what = `GET http://app.test${encoded} -> ${res.status} ${text.slice(0, 200)}`;
        expect(res.status, what).toBe(404);
        expect(ErrorShape.safeParse(JSON.parse(text)).data?.error.code, what).toBe('not_found');
        expect(isAdminContent(text), what).toBe(false);
        expect(await readState(), what).toEqual(baseline);
      }),
      { numRuns: 40, seed: SEED },
    );
  }, TIMEOUT_MS);

  it('on the admin host (localhost): the same answer as the plain path', async () => {
    const plain = new Map<string, unknown>();
    for (const path of ADMIN_GETS) {
      const res = await lb(path, { headers: authorized });
      expect(res.status, path).toBe(200);
      plain.set(path, await res.json());
    }
    await fc.assert(
      fc.asyncProperty(encodedAdminPath, async ({ plain: path, encoded }) => {
        // Explicit: lb() would send a path that does not start with "/__lb" to app.test.
        const res = await lb(encoded, { host: 'localhost', headers: authorized });
        const text = await res.text();
        const what = `GET http://localhost${encoded} -> ${res.status} ${text.slice(0, 200)}`;
        expect(res.status, what).toBe(200);
        expect(JSON.parse(text), what).toEqual(plain.get(path));
      }),
      { numRuns: 40, seed: SEED },
    );
  }, TIMEOUT_MS);

  it('encoded slashes and double encoding: never a 500 and never admin content, on either host', async () => {
    for (const path of NOT_DECODED) {
      for (const host of ['app.test', 'localhost']) {
        const res = await lb(path, { host, headers: authorized });
        const text = await res.text();
        const what = `GET http://${host}${path} -> ${res.status} ${text.slice(0, 200)}`;
        expect(res.status, what).not.toBe(500);
        if (host === 'app.test') expect(isAdminContent(text), what).toBe(false);
      }
    }
    expect(await readState()).toEqual(baseline);
  }, TIMEOUT_MS);
});

// ---------------------------------------------------------------------------
// Malformed simulation headers on proxied requests (SPEC §6, §8): each is ignored on its
// own; never a 5xx; no PoP in the stats is named by a bad colo.

const KNOWN_COLOS = new Set(POPS.map((pop) => pop.colo));

/** Printable ASCII and tab, without CR, LF or NUL (fetch refuses those in a header). */
const junk = fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), fc.constant('\t')), maxLength: 30 });
const list = (arb: fc.Arbitrary<string>) => fc.array(arb, { minLength: 2, maxLength: 4 }).chain((items) => fc.constantFrom(', ', ',', ' ,').map((sep) => items.join(sep)));

const SIM_JUNK: Record<string, string[]> = {
  'x-lb-sim-ip': ['', ' ', '1.2.3.4, 5.6.7.8', '1.2.3.4;proto=http', 'for=1.2.3.4;proto=https', '01.2.3.4', '1.2.3.4:80', '[::1]', '::1%eth0', '256.1.1.1', '1.2.3', 'unknown', '_hidden', '"1.2.3.4"', '1.2.3.4 ', 'fe80::1%25lo', '::ffff:1.2.3.4:80', '2001:db8::1/64', 'localhost', '0x7f.0.0.1'],
  'x-lb-sim-colo': ['', 'ZZZ', 'XXX', 'FR', 'FRAX', 'FRA,LHR', 'FRA, SIN', 'fra;proto=http', '123', 'F1A', 'unknown', '__proto__', 'constructor', 'FRA ', ' FRA', 'FRA\tLHR', 'ÅÅÅ', 'toString', 'AAA', 'QQQ', 'LHR;', '"FRA"'],
  'x-lb-sim-country': ['', 'XX', 'ZZ', 'USA', 'U', 'US,BR', 'us;proto=http', '12', 'U1', '__proto__', 'EU', 'T1', 'A1', 'constructor', '"US"'],
  'x-lb-sim-lat': ['', ' ', 'NaN', 'Infinity', '-Infinity', '1e3', '0x10', '91', '-90.0001', '1,2', '50.11;proto=x', '50.11, 8.68', '--1', '+', '.', '1e-400', '9'.repeat(400), '１２'],
  'x-lb-sim-lon': ['', ' ', 'NaN', 'Infinity', '181', '-180.5', '0x1', '1e2', '8.68,1', '8.68;x', '.', '-', '1_0'],
};
const REAL_VALUES: Record<string, string[]> = {
  'x-lb-sim-ip': ['192.0.2.1', '2001:db8::1'],
  'x-lb-sim-colo': ['FRA', 'sin', 'GRU', 'Lhr'],
  'x-lb-sim-country': ['US', 'br', 'DE'],
  'x-lb-sim-lat': ['50.11', '-33.9', '0'],
  'x-lb-sim-lon': ['8.68', '151.2', '-0'],
};

function simValue(name: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...SIM_JUNK[name]!) },
    { weight: 2, arbitrary: junk },
    { weight: 1, arbitrary: list(fc.oneof(fc.constantFrom(...REAL_VALUES[name]!, ...SIM_JUNK[name]!), junk)) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...REAL_VALUES[name]!), fc.constantFrom(';proto=https', ';for=1.2.3.4', '; proto=http', ',', ';')).map(([a, b]) => `${a}${b}`) },
    { weight: 1, arbitrary: fc.constantFrom(...REAL_VALUES[name]!) },
  );
}

/** Each simulation header present about half the time, with a junk or real value. */
const simHeaders: fc.Arbitrary<Record<string, string>> = fc
  .tuple(...Object.keys(SIM_JUNK).map((name) => fc.option(simValue(name).map((value) => [name, value] as const), { nil: undefined })))
  .map((entries) => Object.fromEntries(entries.filter((entry) => entry !== undefined)));

describe('fuzzing simulation headers on proxied requests', () => {
  it('malformed x-lb-sim-* values: never a 5xx, and the stats name only real PoPs', async () => {
    const origin = await startOrigin('fuzz-sim');
    await configure({
      pools: [{ id: 'sim', origins: [{ name: 'fuzz-sim', address: origin.url }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['sim'] }],
    });
    const colos = new Set<string>();
    await fc.assert(
      fc.asyncProperty(simHeaders, fc.constantFrom('/', '/x?y=1'), async (headers, path) => {
        if (headers['x-lb-sim-colo'] !== undefined) colos.add(headers['x-lb-sim-colo']);
        const res = await lb(path, { host: 'app.test', headers });
        const text = await res.text();
        const what = `GET http://app.test${path} ${JSON.stringify(headers)} -> ${res.status} ${text.slice(0, 200)}`;
        expect(res.status, what).toBe(200);
        expect(text, what).toContain('Response from fuzz-sim');
      }),
      { numRuns: 80, seed: SEED },
    );
    const res = await admin('GET', '/stats');
    expect(res.status).toBe(200);
    const { pops } = (await res.json()) as { pops: { pop: string; requests: number }[] };
    const named = pops.map((p) => p.pop);
    // "unknown" is the stats' own bucket for a request with no PoP (no usable header, no cf.colo).
    const bad = named.filter((pop) => pop !== 'unknown' && !(/^[A-Z]{3}$/.test(pop) && KNOWN_COLOS.has(pop)));
    expect(bad, `PoPs in the stats: ${JSON.stringify(pops)}`).toEqual([]);
    const fromBadColo = [...colos].filter((colo) => colo !== 'unknown' && !KNOWN_COLOS.has(colo.toUpperCase()) && named.includes(colo));
    expect(fromBadColo).toEqual([]);
    expect(colos.size, 'the generator reaches many colo spellings').toBeGreaterThan(20);
  }, TIMEOUT_MS);
});
