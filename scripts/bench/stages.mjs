// The stages of Switchyard's request path (SPEC §2 in order), and how a CPU profile's
// samples are charged to them. A sample belongs to the innermost frame on its stack
// that starts a stage (clientFacts, decide, attemptOn, …), located in src/ through the
// bundle's source map: names alone are not enough, since esbuild renames a function
// whose name another module also uses (keep_names is off). The request path's own
// lines (proxyRequest in handle.ts, steer in steer.ts) are charged by the source line
// the sample was taken on, which V8 records per function. Samples outside any
// JavaScript frame are the runtime's native work and are reported as such.
import { SourceMap } from 'node:module';

/**
 * @typedef {import('./profile.mjs').CpuProfile} CpuProfile
 * @typedef {import('./profile.mjs').ProfileNode} ProfileNode
 * @typedef {{ file: string, line: number }} SourcePlace a place in src/ (or node_modules/), line 1-based
 * @typedef {(line: number, column: number) => SourcePlace | undefined} Locator the bundle's 0-based line and column to a source place
 */

/** The rows of the per-stage table, in the order of the request path. */
export const STAGES = [
  { id: 'entry', label: 'entry: routing, loop guard, settings' },
  { id: 'snapshot', label: 'snapshot check (currentSnapshot)' },
  { id: 'lookup', label: 'load balancer lookup (loadBalancerFor)' },
  { id: 'facts', label: 'facts (clientFacts, request.cf, sim headers)' },
  { id: 'rules', label: 'rules' },
  { id: 'affinity', label: 'affinity (cookie, token verify, sign)' },
  { id: 'decide', label: 'decide (pools, origins)' },
  { id: 'steer', label: 'steer() and proxyRequest() before forward' },
  { id: 'headers', label: 'upstream headers (upstream.ts)' },
  { id: 'fetch', label: 'fetch and attempt timer (attemptOn)' },
  { id: 'passOn', label: 'response body read (passOn, read timeout)' },
  { id: 'forward', label: 'forward(): attempt loop, passive health' },
  { id: 'stats', label: 'stats (recordTraffic)' },
  { id: 'wrap', label: 'response wrap (handle.ts after forward)' },
  { id: 'spine', label: 'proxyRequest(), on no line (await, wrap?)' },
  { id: 'unresolved', label: 'Switchyard JS no stage resolves' },
  { id: 'runtimeJs', label: 'runtime callbacks, no Worker frame above' },
  { id: 'program', label: '(program): runtime native, no JS frame' },
  { id: 'gc', label: '(garbage collector)' },
];

/**
 * Functions that start a stage, by source file and name; what they call is theirs. A
 * name of "*" claims the file's other functions when no stage is above them (a
 * background refresh, a resumed async function).
 * @type {Record<string, Record<string, string>>}
 */
const STAGE_OF = {
  'src/app.ts': { handleFetch: 'entry', proxy: 'entry', loopGuard: 'entry', '*': 'entry' },
  'src/env.ts': { settings: 'entry', '*': 'entry' },
  'src/proxy/upstream.ts': { isLoop: 'entry', upstreamHeaders: 'headers', upstreamRoute: 'headers', isWebSocketUpgrade: 'headers' },
  'src/edge/subrequest.ts': { subrequestRoute: 'headers', '*': 'forward' },
  'src/health/passive.ts': { '*': 'forward' },
  'src/control/snapshot-cache.ts': { currentSnapshot: 'snapshot', '*': 'snapshot' },
  'src/control/pop-cache.ts': { '*': 'snapshot' },
  'src/proxy/isolate.ts': { notePlan: 'snapshot', recordTraffic: 'stats', flushStats: 'stats' },
  'src/stats/traffic.ts': { record: 'stats', '*': 'stats' },
  'src/steering/plan.ts': { loadBalancerFor: 'lookup', withOverrides: 'rules' },
  'src/steering/facts.ts': { clientFacts: 'facts' },
  'src/steering/rules.ts': { evaluateRules: 'rules', requestView: 'rules' },
  'src/proxy/rate-limit.ts': { enforceRateLimits: 'rules' },
  'src/geo/continents.ts': { continentOf: 'rules' },
  'src/proxy/steer.ts': { affinityOf: 'affinity', tokenPin: 'affinity', popOnly: 'facts', steer: 'steer', withAffinity: 'steer', decided: 'steer', '*': 'steer' },
  'src/steering/affinity-token.ts': { '*': 'affinity' },
  'src/steering/decide.ts': { decide: 'decide' },
  'src/proxy/forward.ts': { attemptOn: 'fetch', attemptResult: 'fetch', discard: 'fetch', passOn: 'passOn', readWhole: 'passOn', forward: 'forward', replayableBody: 'forward', retryPolicy: 'forward', charge: 'forward', failureResponse: 'forward', '*': 'forward' },
  'src/proxy/attempt-clock.ts': { '*': 'fetch' },
  'src/proxy/read-timeout.ts': { guardBody: 'passOn' },
  'src/proxy/handle.ts': {
    affinityCookie: 'affinity',
    pinToken: 'affinity',
    shouldPin: 'affinity',
    answered: 'wrap',
    withoutOwnFields: 'wrap',
    stripAffinityCookies: 'wrap',
    setsOwnFields: 'wrap',
    hasForbiddenBody: 'entry',
    trafficOf: 'stats',
    forwardContext: 'steer',
    recordRefused: 'stats',
    '*': 'wrap',
  },
};

/** Functions whose own samples are charged by line: the request path's spine. */
const BY_LINE = { 'src/proxy/handle.ts': 'proxyRequest', 'src/proxy/steer.ts': 'steer' };

/**
 * Where a bundle position comes from, through the bundle's source map.
 * @param {object} payload the source map (JSON)
 * @returns {Locator & { source(file: string): string | undefined }}
 */
export function bundleLocator(payload) {
  const map = new SourceMap(/** @type {any} */ (payload));
  const sources = /** @type {{ sources: string[], sourcesContent?: (string | null)[] }} */ (payload);
  /** @param {string} path */
  const short = (path) => {
    const at = path.search(/(^|\/)(src|node_modules)\//);
    return at < 0 ? path : path.slice(path[at] === '/' ? at + 1 : at);
  };
  /** @type {Map<string, SourcePlace | undefined>} */
  const cache = new Map();
  /** @type {Locator & { source(file: string): string | undefined }} */
  const locate = Object.assign(
    /** @type {Locator} */ (line, column) => {
      const key = `${line}:${column}`;
      if (!cache.has(key)) {
        const entry = /** @type {{ originalSource?: string, originalLine?: number }} */ (map.findEntry(line, column));
        cache.set(key, entry.originalSource === undefined ? undefined : { file: short(entry.originalSource), line: (entry.originalLine ?? 0) + 1 });
      }
      return cache.get(key);
    },
    {
      /** @param {string} file */
      source(file) {
        const i = sources.sources.findIndex((s) => short(s) === file);
        return i < 0 ? undefined : (sources.sourcesContent?.[i] ?? undefined);
      },
    },
  );
  return locate;
}

/**
 * Line ranges of proxyRequest (handle.ts) that are stats and response wrap: after the
 * forward() call, the recordTraffic(…) call is stats and the rest is the wrap. Found in
 * the source the map carries; undefined when its shape has changed past recognising.
 * @param {string | undefined} text handle.ts
 */
function handleLines(text) {
  if (text === undefined) return undefined;
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^export async function proxyRequest\b/.test(l));
  const forward = lines.findIndex((l, i) => i > start && /await forward\(/.test(l));
  const statsStart = lines.findIndex((l, i) => i > forward && /^\s*recordTraffic\(/.test(l));
  const statsEnd = /\);\s*$/.test(lines[statsStart] ?? '') ? statsStart : lines.findIndex((l, i) => i > statsStart && /^\s*\);\s*$/.test(l));
  const end = lines.findIndex((l, i) => i > forward && /^}\s*$/.test(l));
  if ([start, forward, statsStart, statsEnd, end].some((i) => i < 0)) return undefined;
  // 1-based, inclusive
  return { start: start + 1, forward: forward + 1, stats: [statsStart + 1, statsEnd + 1], end: end + 1 };
}

/**
 * Charges every busy sample of `cpu` to a stage: the innermost stage entry on its
 * stack (STAGE_OF); a file's "*" only where no stage is above (an async function
 * resumed from the microtask queue); proxyRequest's and steer's own samples by line.
 * @param {CpuProfile} cpu
 * @param {Locator & { source(file: string): string | undefined }} locate
 * @param {boolean} switchyard the profile is Switchyard's (else another Worker's: the pass-through)
 */
export function attribute(cpu, locate, switchyard) {
  /** @param {string} url */
  const inBundle = (url) => /worker\.js$/.test(url);
  const handle = handleLines(locate.source('src/proxy/handle.ts'));
  /** @type {Map<string, number>} */
  const counts = new Map();
  /** Switchyard's samples no stage claimed, by "file:line function". @type {Map<string, number>} */
  const unattributed = new Map();
  let busy = 0;
  const byId = new Map(cpu.nodes.map((node) => [node.id, node]));
  /** @param {string} stage @param {number} hits */
  const add = (stage, hits) => {
    if (hits === 0) return;
    counts.set(stage, (counts.get(stage) ?? 0) + hits);
    busy += hits;
  };
  /** @param {string} key @param {number} hits */
  const unclaimed = (key, hits) => {
    if (hits === 0) return;
    unattributed.set(key, (unattributed.get(key) ?? 0) + hits);
    add('unresolved', hits);
  };

  /**
   * The stage of a sample on `line` of proxyRequest (handle.ts) or steer (steer.ts).
   * @param {string} file
   * @param {number} line
   */
  const spineStage = (file, line) => {
    if (file === 'src/proxy/steer.ts') return 'steer';
    if (handle === undefined) return undefined;
    if (line < handle.forward) return 'steer';
    if (line === handle.forward) return 'forward';
    if (line >= handle.stats[0] && line <= handle.stats[1]) return 'stats';
    return line <= handle.end ? 'wrap' : undefined;
  };

  /**
   * Charges a proxyRequest sample (its own, or a native it called) by the bundle line
   * V8 recorded. V8 puts many samples on the function's first line (the await and
   * promise builtins of an async function, code compiled before profiling began):
   * those are the spine row, not guessed into a stage.
   * @param {ProfileNode} node
   * @param {number} firstLine the function's first line in the bundle, 1-based
   */
  const chargeLines = (node, firstLine) => {
    let charged = 0;
    for (const { line, ticks } of node.positionTicks ?? []) {
      const at = line === firstLine ? undefined : locate(line - 1, 1e6);
      add((at === undefined ? undefined : spineStage(at.file, at.line)) ?? 'spine', ticks);
      charged += ticks;
    }
    add('spine', node.hitCount - charged);
  };

  /**
   * @param {ProfileNode} node
   * @param {string | undefined} stage the innermost stage on the stack above this node
   * @param {number | undefined} spine proxyRequest's first line in the bundle (1-based) when it is the frame above
   */
  const visit = (node, stage, spine) => {
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    let own = stage;
    /** @type {number | undefined} */
    let ownSpine;
    if (functionName === '(program)') add('program', node.hitCount);
    else if (functionName === '(garbage collector)') add('gc', node.hitCount);
    else if (functionName === '(idle)' || functionName === '(root)') {
      // not busy, or no time of its own
    } else if (!inBundle(url)) {
      // A native function the Worker calls (a Headers method, fetch) has no URL and
      // belongs to its caller's stage (the runtime's fetch is always the fetch stage).
      // Called straight from proxyRequest, the line V8 gives for the call tells
      // steering from the wrap, when it gives one.
      if (functionName === 'fetch' && url === '') add('fetch', node.hitCount);
      else if (spine !== undefined) chargeLines(node, spine);
      else add(stage ?? 'runtimeJs', node.hitCount);
    } else if (!switchyard) {
      // Another Worker (the pass-through): its own code is its entry, natives below it
      // keep their stage (fetch) or take the entry's.
      own = 'entry';
      add(own, node.hitCount);
    } else {
      const place = locate(lineNumber, columnNumber);
      const name = functionName.replace(/\d+$/, '');
      const entries = place === undefined ? undefined : STAGE_OF[place.file];
      const named = entries?.[functionName] ?? entries?.[name];
      const spineName = place === undefined ? undefined : BY_LINE[/** @type {keyof typeof BY_LINE} */ (place.file)];
      if (named !== undefined) {
        own = named;
        add(own, node.hitCount);
      } else if (place !== undefined && spineName !== undefined && (spineName === name || (place.file === 'src/proxy/handle.ts' && insideProxyRequest(place, handle)))) {
        // proxyRequest's and steer's own samples, and closures written inside them, by line.
        const closureStage = spineName === name ? undefined : spineStage(place.file, place.line);
        if (closureStage !== undefined) add(closureStage, node.hitCount);
        else if (place.file === 'src/proxy/steer.ts') add('steer', node.hitCount);
        else chargeLines(node, lineNumber + 1);
        own = spineName === name ? (place.file === 'src/proxy/steer.ts' ? 'steer' : undefined) : closureStage;
        ownSpine = spineName === name && name === 'proxyRequest' ? lineNumber + 1 : undefined;
      } else if (stage !== undefined) {
        add(stage, node.hitCount);
      } else if (entries?.['*'] !== undefined) {
        own = entries['*'];
        add(own, node.hitCount);
      } else if (place !== undefined && place.file.startsWith('src/')) {
        unclaimed(`${place.file}:${place.line} ${functionName || '(anonymous)'}`, node.hitCount);
      } else {
        // a library's code (hono, zod) or the bundle's glue with no stage above
        add('runtimeJs', node.hitCount);
      }
    }
    for (const child of node.children ?? []) {
      const next = byId.get(child);
      if (next !== undefined) visit(next, own, ownSpine);
    }
  };
  visit(cpu.nodes[0], undefined, undefined);
  return { counts, busy, unattributed };
}

/**
 * Is `place` inside proxyRequest (handle.ts), say a closure written there?
 * @param {SourcePlace} place
 * @param {ReturnType<typeof handleLines>} handle
 */
function insideProxyRequest(place, handle) {
  return handle !== undefined && place.line > handle.start && place.line <= handle.end;
}
