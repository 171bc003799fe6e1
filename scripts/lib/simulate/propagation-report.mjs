// The propagation model's figures as text: what was assumed, then one row per path and
// number of isolates per PoP.
import { tableLines } from '../lbctl/format.mjs';

/**
 * @typedef {ReturnType<typeof import('./propagation.mjs').propagation>} PropagationResult
 */

const TITLES = { kv: 'KV only (before the tier)', 'pop-tier': 'PoP tier', direct: 'no tier: isolates ask the DO' };

/** @param {number} ms */
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
/** @param {number} n */
const perSecond = (n) => Math.round(n).toLocaleString('en-US');

/**
 * @param {PropagationResult} result
 * @param {{ bold: (s: string) => string }} [paint]
 */
export function formatPropagation(result, paint = { bold: (s) => s }) {
  const m = result.model;
  const lines = [
    paint.bold('propagation: a model, not a measurement (scripts/lib/simulate/propagation.mjs)'),
    `${m.pops} PoPs (src/geo/pops.ts); the Durable Object at ${m.doColo}; SNAPSHOT_TTL_MS ${m.ttlMs}; ${m.trials} trials, seed ${m.seed}; a change made at time 0`,
    `round trip to the Durable Object: the great circle there and back at 200 km/ms + ${m.overheadMs} ms (${Math.round(m.rttMs.min)} to ${Math.round(m.rttMs.max)} ms, mean ${Math.round(m.rttMs.mean)} ms)`,
    `KV: each PoP's copy of a key shows the change when it times out, ${m.kvCacheTtlMs / 1000} s (cacheTtl) after it was read, its age at the change uniform`,
    `PoP tier: isolates look every ${m.ttlMs / m.looksPerTtl} ms, a claim waits ${m.settleMs} ms, a cache or hot KV operation takes ${m.localOpMs} ms`,
    'a PoP serves the change when every one of its isolates does; times are the mean over the trials',
    '',
  ];
  const right = /** @type {const} */ ('right');
  const columns = [
    { title: 'path' },
    { title: 'isolates/PoP', align: right },
    { title: '50% of PoPs', align: right },
    { title: '99% of PoPs', align: right },
    { title: 'all PoPs', align: right },
    { title: 'DO requests/s', align: right },
    { title: 'KV reads/s', align: right },
  ];
  const rows = result.rows.map((row) => [
    TITLES[row.path],
    row.isolates,
    seconds(row.p50Ms),
    seconds(row.p99Ms),
    seconds(row.p100Ms),
    perSecond(row.doPerSecond),
    perSecond(row.kvReadsPerSecond),
  ]);
  const [head, ...body] = tableLines(columns, rows);
  lines.push(paint.bold(head), ...body, '');
  return lines.join('\n');
}
