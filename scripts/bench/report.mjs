// What the benchmark prints: the machine, the micro-benchmarks, the load and latency
// tables. results.json holds the same numbers.
import { cpus, totalmem } from 'node:os';
import { median } from './load.mjs';

/**
 * @typedef {import('./load.mjs').LoadRow} LoadRow
 * @typedef {import('./load.mjs').LatencyRow} LatencyRow
 * @typedef {ReturnType<import('./micro.ts').runMicro>} MicroResult
 * @typedef {import('./micro.ts').RulesMicroResult} RulesMicroResult
 * @typedef {(line?: string) => void} Log
 */

/** Where the numbers were taken. */
export function machine() {
  return { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString() };
}

/**
 * Nanoseconds per decision by case and size, and the time to load a snapshot.
 * @param {MicroResult} result
 * @param {readonly number[]} sizes
 * @param {Log} log
 */
export function printMicro(result, sizes, log) {
  const names = [...new Set(result.decisions.map((d) => d.name))];
  log(`  ${'decision (ns)'.padEnd(32)}${sizes.map((s) => String(s).padStart(10)).join('')}`);
  for (const name of names) {
    const row = sizes.map((s) => (result.decisions.find((d) => d.name === name && d.origins === s)?.nsPerOp.toFixed(0) ?? '-').padStart(10));
    log(`  ${name.padEnd(32)}${row.join('')}`);
  }
  log(`  ${'snapshot load (ms)'.padEnd(32)}${result.snapshots.map((s) => (s.parseMs + s.compileMs).toFixed(1).padStart(10)).join('')}`);
}

/**
 * Microseconds per request for 10 and 100 rules, what compiling them costs, and steering with and without them.
 * @param {RulesMicroResult} result
 * @param {Log} log
 */
export function printRulesMicro(result, log) {
  const us = (/** @type {number} */ ns) => (ns / 1000).toFixed(2);
  const counts = [...new Set(result.evaluation.map((e) => e.rules))];
  const hits = /** @type {const} */ ([
    ['first', 'the first matches'],
    ['last', 'the last matches'],
    ['none', 'none matches'],
  ]);
  log(`  ${'µs per request'.padEnd(40)}${counts.map((c) => `${c} rules`.padStart(11)).join('')}`);
  for (const [part, rows] of /** @type {const} */ ([
    ['rules tried, overrides taken', result.evaluation],
    ['steered (facts, rules, decide)', result.steering],
  ])) {
    log(`  ${part}`);
    for (const [hit, label] of hits) {
      log(`    ${label.padEnd(38)}${counts.map((c) => (rows.find((r) => r.rules === c && r.hit === hit)?.nsPerOp ?? NaN)).map((ns) => us(ns).padStart(11)).join('')}`);
    }
  }
  const plain = result.steering.find((r) => r.rules === 0);
  if (plain) log(`    ${'without rules'.padEnd(38)}${us(plain.nsPerOp).padStart(11)}`);
  log(`  request view built per request: ${us(result.viewNs)} µs; one condition that does not match (ns):`);
  log(`    ${result.conditions.map((c) => `${c.kind} ${c.nsPerOp.toFixed(0)}`).join(', ')}`);
  const { compile } = result;
  log(`  compile: ${us(compile.nsPerRule)} µs per condition on average (the first in a process, which builds the parser: ${compile.firstMs.toFixed(1)} ms); by kind (µs):`);
  log(`    ${compile.byKind.map((k) => `${k.kind} ${us(k.nsPerRule)}`).join(', ')}`);
  const ms = (/** @type {{ rules: number, ms: number }[]} */ rows) => rows.map((r) => `${r.ms.toFixed(2)} ms with ${r.rules} rules`).join(', ');
  log(`  snapshot load (parse + Plan): ${ms(compile.snapshot)}; validation (PUT /config): ${ms(compile.validation)}`);
}

/** The realistic configuration's target for CPU added over the pass-through (issue 16), µs per request. */
export const REALISTIC_ADDED_TARGET_US = 60;

/**
 * CPU µs per request `row` adds over the pass-through Worker's, when both were
 * measured: the median over the rounds of the difference between the two slices of
 * one round, which ran seconds apart, so a slow minute on shared cores weighs on both
 * (the difference of the two medians when the slices are not there).
 * @param {LoadRow | undefined} row
 * @param {LoadRow | undefined} base
 */
export function addedCpu(row, base) {
  if (row === undefined || base === undefined) return undefined;
  return pairedRounds(row, [[base, 1]])?.median ?? (row.cpuUsPerRequest === undefined || base.cpuUsPerRequest === undefined ? undefined : row.cpuUsPerRequest - base.cpuUsPerRequest);
}

/**
 * Round by round, `row`'s CPU per request minus (for a sign of 1) or plus (−1) the
 * other rows' in the same round: the median over the rounds, and in how many rounds
 * it was at most 0. Undefined when a row has no slices.
 * @param {LoadRow | undefined} row
 * @param {readonly [LoadRow | undefined, number][]} terms
 * @returns {{ median: number, atMostZero: number, rounds: number } | undefined}
 */
function pairedRounds(row, terms) {
  const slices = row?.cpuSlices;
  if (slices === undefined || terms.length === 0 || terms.some(([other]) => other?.cpuSlices?.length !== slices.length)) return undefined;
  const rounds = slices.map((us, i) => terms.reduce((sum, [other, sign]) => sum - sign * /** @type {number[]} */ (other?.cpuSlices)[i], us));
  return { median: Math.round(median(rounds)), atMostZero: rounds.filter((d) => d <= 0).length, rounds: rounds.length };
}

/** @param {number} over µs over a budget (negative: under it) */
const verdict = (over) => (over <= 0 ? `within by ${-over}` : `${over} µs over`);

/** @param {number} us */
const signed = (us) => `${us >= 0 ? '+' : '−'}${Math.abs(us)}`;

/**
 * The load table's rows, with their throughput against the pass-through's when
 * `ratio`; returns the pass-through's row.
 * @param {readonly LoadRow[]} rows
 * @param {boolean} ratio
 * @param {Log} log
 */
function printLoadRows(rows, ratio, log) {
  const base = rows.find((r) => r.name === 'pass-through Worker');
  log(`  ${'target'.padEnd(24)}${'req/s'.padStart(9)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'errors'.padStart(8)}${ratio ? 'vs pass-through'.padStart(17) : ''}${'CPU µs/req'.padStart(12)}${'added µs'.padStart(10)}`);
  for (const r of rows) {
    const versus = !ratio ? '' : (base ? (r.rps / base.rps).toFixed(2) : '-').padStart(17);
    const cpu = r.cpuUsPerRequest === undefined ? '' : String(r.cpuUsPerRequest);
    const added = r === base ? undefined : addedCpu(r, base);
    log(`  ${r.name.padEnd(24)}${String(r.rps).padStart(9)}${String(r.p50).padStart(8)}${String(r.p99).padStart(8)}${String(r.errors).padStart(8)}${versus}${cpu.padStart(12)}${(added === undefined ? '' : signed(added)).padStart(10)}`);
  }
  return base;
}

/**
 * @param {readonly LoadRow[]} rows
 * @param {Log} log
 */
export function printLoad(rows, log) {
  const base = printLoadRows(rows, true, log);
  const sy = rows.find((r) => r.name === 'Switchyard');
  const contract = rows.find((r) => r.name === 'header-contract Worker');
  if (base && sy) log(`  Switchyard: ${(sy.rps / base.rps).toFixed(2)} of the pass-through's throughput, p50 +${(sy.p50 - base.p50).toFixed(2)} ms under load`);
  if (contract && sy) log(`  Switchyard: ${(sy.rps / contract.rps).toFixed(2)} of the header-contract Worker's throughput (the same SPEC §3 header work, no steering)`);
  const rules = rows.find((r) => r.name === 'Switchyard, 10 rules');
  if (sy && rules) {
    const more = addedCpu(rules, sy);
    const cpu = more === undefined ? '' : `, ${signed(more)} µs CPU per request`;
    log(`  Switchyard with 10 rules: ${(rules.rps / sy.rps).toFixed(2)} of Switchyard's throughput without them${cpu}`);
  }
}

/**
 * CPU per request with every Worker offered the same request rate, and the two
 * equal-work checks (issue 16) on those figures: minimal Switchyard against the
 * simplest balancer plus the header contract, and the realistic configuration
 * against its budget.
 * @param {readonly LoadRow[]} rows
 * @param {number} rate requests per second offered to each target
 * @param {Log} log
 */
export function printAtRate(rows, rate, log) {
  const base = printLoadRows(rows, false, log);
  const slow = rows.filter((r) => r.rps < rate * 0.95);
  if (slow.length > 0) log(`  (short of ${rate} req/s: ${slow.map((r) => r.name).join(', ')}; their figures are at saturation)`);
  const minimal = addedCpu(rows.find((r) => r.name === 'Switchyard minimal'), base);
  const simplest = addedCpu(rows.find((r) => r.name === 'simplest balancer'), base);
  const headers = addedCpu(rows.find((r) => r.name === 'header-contract Worker'), base);
  if (minimal !== undefined && simplest !== undefined && headers !== undefined) {
    const budget = simplest + headers;
    // Round by round: minimal − simplest − header contract + pass-through, each slice against its neighbours.
    const margin = pairedRounds(
      rows.find((r) => r.name === 'Switchyard minimal'),
      [
        [rows.find((r) => r.name === 'simplest balancer'), 1],
        [rows.find((r) => r.name === 'header-contract Worker'), 1],
        [base, -1],
      ],
    );
    log(`  Switchyard minimal adds ${signed(minimal)} µs CPU per request; the simplest balancer's ${signed(simplest)} plus the header contract's ${signed(headers)} make ${signed(budget)}: ${verdict(minimal - budget)}`);
    // The same check made in each round from its four neighbouring slices (a median of differences is not the difference of medians).
    if (margin !== undefined) log(`  round by round, minimal − (simplest + header contract): median ${signed(margin.median)} µs, ${verdict(margin.median)}; within in ${margin.atMostZero} of ${margin.rounds} rounds`);
  }
  const realistic = addedCpu(rows.find((r) => r.name === 'Switchyard'), base);
  if (realistic !== undefined) {
    log(`  Switchyard (realistic) adds ${signed(realistic)} µs CPU per request against a target of +${REALISTIC_ADDED_TARGET_US}: ${realistic <= REALISTIC_ADDED_TARGET_US ? 'within' : `${realistic - REALISTIC_ADDED_TARGET_US} µs over`}`);
  }
}

/**
 * @param {readonly LatencyRow[]} rows
 * @param {Log} log
 */
export function printLatency(rows, log) {
  const base = rows.find((r) => r.name === 'pass-through Worker');
  log(`  ${'target'.padEnd(24)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'p50 vs pass-through'.padStart(22)}`);
  for (const r of rows) {
    const added = base ? `${r.p50 - base.p50 >= 0 ? '+' : ''}${(r.p50 - base.p50).toFixed(3)} ms` : '-';
    log(`  ${r.name.padEnd(24)}${r.p50.toFixed(3).padStart(9)}${r.p99.toFixed(3).padStart(9)}${added.padStart(22)}`);
  }
}
