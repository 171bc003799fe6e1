#!/usr/bin/env node
// npm run bench: Switchyard against the origins, a bare pass-through Worker on the
// same runtime, the header-contract Worker, the simplest balancer, and nginx and
// HAProxy when installed, under the same load; then a
// failover run (one of three origins killed mid-run), a health-check fan-out over
// 1,000 origins, and micro-benchmarks of the steering core and of load balancer rules.
// Switchyard is loaded three times: configured realistically, minimally (the simplest
// balancer's job plus its contract), and with ten load balancer rules that every
// request tries.
//
//   npm run bench                 the full run (about 2 minutes)
//   npm run bench -- --smoke      a few seconds: every part once, tiny durations (CI)
//   --duration S --connections N  load per target (default 10 s, 32 connections)
//   --profile                     also sample the CPU of Switchyard (realistic and
//                                 minimal) and the pass-through under load (workerd's
//                                 inspector) and print what each stage of the request
//                                 path costs (raw profiles: bench-out/*.cpuprofile)
//   --only load                   the load table alone (for iterating on the hot path)
//   --baseline DIR/index.js,…     also load other builds of Switchyard (say, main's
//                                 `npm run build` output), named by DIR, in the same
//                                 interleaved slices
//
// Workers run on workerd itself with a generated config, not under `wrangler dev` or
// Miniflare (see the README's Performance section for why). Results:
// bench-out/results.json. The parts are in scripts/bench/: targets.mjs (what is put
// under load), load.mjs (the load runner), profile.mjs, report.mjs (the tables),
// micro.ts and micro-rules.ts (the micro-benchmarks).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { importBundled, ROOT } from './lib/load-src.mjs';
import { buildSwitchyard } from './lib/workerd.mjs';
import { failover, fanout, latency, load, rulesInWorkerd } from './bench/load.mjs';
import { profile } from './bench/profile.mjs';
import { machine, printAtRate, printLatency, printLoad, printMicro, printRulesMicro } from './bench/report.mjs';
import {
  affinityCookie,
  BENCH_RULE_MATCHED,
  BENCH_RULES,
  BENCH_RULES_PATH,
  headerContractScript,
  matchedRules,
  passThroughScript,
  pinToCore,
  PLAIN_REQUESTS,
  rulesWorkerScript,
  simplestBalancerBindings,
  simplestBalancerScript,
  startHaproxy,
  startMiniflare,
  startNginx,
  startOrigins,
  startWorker,
  switchyardBindings,
  switchyardMinimalBindings,
  switchyardRequests,
} from './bench/targets.mjs';

/**
 * @typedef {import('./bench/targets.mjs').Bench} Bench
 * @typedef {import('./bench/targets.mjs').Target} Target
 */

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    duration: { type: 'string' },
    connections: { type: 'string' },
    out: { type: 'string', default: join(ROOT, 'bench-out') },
    profile: { type: 'boolean', default: false },
    only: { type: 'string' },
    baseline: { type: 'string' },
  },
});

/** @type {Bench} */
const bench = {
  smoke: args.smoke,
  duration: Number(args.duration ?? (args.smoke ? 1 : 10)),
  connections: Number(args.connections ?? (args.smoke ? 8 : 32)),
  profile: args.profile,
  inspected: new Set(['pass-through', 'switchyard', 'switchyard-minimal']),
  work: mkdtempSync(join(tmpdir(), 'switchyard-bench-')),
  cleanups: [],
  log: (line = '') => process.stdout.write(`${line}\n`),
};

async function main() {
  const { smoke, duration, connections, log } = bench;
  const results = {
    machine: machine(),
    settings: { duration, connections, smoke },
    /** @type {import('./bench/report.mjs').MicroResult | null} */ micro: null,
    /** @type {import('./bench/report.mjs').RulesMicroResult | null} */ rules: null,
    /** @type {import('./bench/load.mjs').LoadRow[]} */ load: [],
    /** requests per second offered to each Worker for loadAtRate */ rate: 0,
    /** @type {import('./bench/load.mjs').LoadRow[]} */ loadAtRate: [],
    /** @type {import('./bench/load.mjs').LatencyRow[]} */ latency: [],
    /** @type {Awaited<ReturnType<typeof failover>>[]} */ failover: [],
    /** @type {Awaited<ReturnType<typeof fanout>> | null} */ fanout: null,
    /** @type {Awaited<ReturnType<typeof rulesInWorkerd>> | null} */ rulesInWorkerd: null,
    /** @type {Awaited<ReturnType<typeof profile>> | null} */ profile: null,
  };

  const all = args.only === undefined;
  if (all) {
    log('Micro-benchmarks of the steering core (Node, one core):');
    /** @type {typeof import('./bench/micro.ts')} */
    const { runMicro, runRulesMicro } = await importBundled('scripts/bench/micro.ts');
    const sizes = smoke ? [10, 1000] : [10, 1000, 10_000, 100_000];
    results.micro = runMicro(sizes, smoke ? 20 : 300);
    printMicro(results.micro, sizes, log);
    log('\nMicro-benchmarks of load balancer rules (Node, one core):');
    results.rules = runRulesMicro(smoke ? 10 : 300, smoke ? 50 : 1000);
    printRulesMicro(results.rules, log);
  }

  pinToCore(process.pid, 'load');
  const origins = await startOrigins(bench, 3);
  log(`\nOrigins on 127.0.0.1:${origins.ports.join(', ')} (one process)`);
  const bundle = buildSwitchyard(join(bench.work, 'switchyard'));
  const originVar = { ORIGIN: `127.0.0.1:${origins.ports[0]}` };
  const rulesBindings = switchyardBindings(origins.ports, BENCH_RULES);
  const [passThrough, contract, simplest, switchyard, minimal, withRules, rulesLoop] = await Promise.all([
    startWorker(bench, 'pass-through', passThroughScript(bench), originVar),
    headerContractScript(bench).then((script) => startWorker(bench, 'header-contract', script, originVar)),
    simplestBalancerScript(bench).then((script) => startWorker(bench, 'simplest-balancer', script, simplestBalancerBindings(origins.ports))),
    startWorker(bench, 'switchyard', bundle, switchyardBindings(origins.ports)),
    startWorker(bench, 'switchyard-minimal', bundle, switchyardMinimalBindings(origins.ports)),
    startWorker(bench, 'switchyard-rules', bundle, rulesBindings),
    rulesWorkerScript(bench).then((script) => startWorker(bench, 'rules-loop', script, { LB_CONFIG: rulesBindings.LB_CONFIG })),
  ]);
  const baselines = [];
  for (const path of args.baseline?.split(',') ?? []) {
    const name = `switchyard-${basename(dirname(path))}`;
    baselines.push({ name: `Switchyard (${basename(dirname(path))})`, worker: await startWorker(bench, name, path, switchyardBindings(origins.ports)) });
  }
  const viaMiniflare = smoke || !all ? undefined : await startMiniflare(bench, 'pass-through-miniflare', passThroughScript(bench), originVar);
  const cookie = await affinityCookie(switchyard.url);
  const rulesRequests = switchyardRequests(await affinityCookie(withRules.url), BENCH_RULES_PATH);
  for (const request of rulesRequests) {
    const matched = await matchedRules(withRules.url, request);
    if (matched.join() !== BENCH_RULE_MATCHED) throw new Error(`the rules target's request ${JSON.stringify(request)} matched [${matched.join(', ')}], not ${BENCH_RULE_MATCHED}`);
  }
  const references = !all ? [] : (await Promise.all([startNginx(bench, origins.ports), startHaproxy(bench, origins.ports)])).flatMap((r) => r ?? []);

  /** @type {Target[]} */
  const targets = [
    { name: 'origin (direct)', url: `http://127.0.0.1:${origins.ports[0]}/`, requests: [{ path: '/' }] },
    { name: 'pass-through Worker', url: passThrough.url, requests: [{ path: '/' }], pid: passThrough.pid },
    { name: 'header-contract Worker', url: contract.url, requests: [{ path: '/', headers: { 'x-lb-sim-country': 'DE' } }], pid: contract.pid },
    { name: 'simplest balancer', url: simplest.url, requests: PLAIN_REQUESTS, pid: simplest.pid },
    { name: 'Switchyard minimal', url: minimal.url, requests: PLAIN_REQUESTS, pid: minimal.pid },
    { name: 'Switchyard', url: switchyard.url, requests: switchyardRequests(cookie), pid: switchyard.pid },
    { name: 'Switchyard, 10 rules', url: withRules.url, requests: rulesRequests, pid: withRules.pid },
    ...(await Promise.all(baselines.map(async ({ name, worker }) => ({ name, url: worker.url, requests: switchyardRequests(await affinityCookie(worker.url)), pid: worker.pid })))),
    ...references,
    ...(viaMiniflare ? [{ name: 'pass-through, Miniflare', url: viaMiniflare.url, requests: [{ path: '/' }] }] : []),
  ];
  const rounds = smoke ? 1 : 5;
  log(`\nLoad: ${duration} s per target${rounds > 1 ? ` in ${rounds} interleaved slices` : ''}, ${connections} connections, keep-alive (autocannon)`);
  results.load = await load(bench, targets, rounds);
  printLoad(results.load, log);
  // At saturation a slower Worker is measured at fewer requests per second, where the
  // runtime batches less and each request costs more: CPU per request is compared with
  // every Worker offered the same rate, 70% of the slowest one's saturated throughput.
  const workers = targets.filter((t) => t.pid !== undefined);
  const slowest = Math.min(...results.load.filter((r) => workers.some((t) => t.name === r.name)).map((r) => r.rps));
  results.rate = Math.max(50, Math.floor((0.7 * slowest) / 50) * 50);
  log(`\nCPU per request at ${results.rate} req/s offered to each Worker (${2 * duration} s each in ${2 * rounds} interleaved slices, ${connections} connections, keep-alive; the median slice):`);
  results.loadAtRate = await load({ ...bench, rate: results.rate, duration: 2 * duration }, workers, 2 * rounds);
  printAtRate(results.loadAtRate, results.rate, log);
  const quiet = targets.filter((t) => t.name !== 'origin (direct)' && !t.name.includes('Miniflare'));
  log(`\nLatency without load: one keep-alive connection, one request at a time, ${smoke ? 100 : 2000} requests per target, interleaved`);
  results.latency = await latency(quiet, smoke ? 100 : 2000);
  printLatency(results.latency, log);
  const loop = await rulesInWorkerd(rulesLoop.url, rulesRequests[0], smoke ? 1000 : 20_000);
  results.rulesInWorkerd = loop;
  log(`\nThe rules target's ${loop.rules} rules tried in a loop inside workerd (${loop.evaluations} times; matched: ${loop.matched.join(', ')}):`);
  log(`  ${(loop.rulesNs / 1000).toFixed(2)} µs per request, of which ${(loop.viewNs / 1000).toFixed(2)} µs build the request view`);
  const out = args.out ?? join(ROOT, 'bench-out');
  if (bench.profile) {
    /** @param {string} name */
    const target = (name) => /** @type {Target} */ (targets.find((t) => t.name === name));
    results.profile = await profile(
      bench,
      [
        { name: 'Switchyard', worker: switchyard, target: target('Switchyard'), switchyard: true },
        { name: 'Switchyard minimal', worker: minimal, target: target('Switchyard minimal'), switchyard: true },
        { name: 'pass-through Worker', worker: passThrough, target: target('pass-through Worker'), switchyard: false },
      ],
      results.load,
      `${bundle}.map`,
      out,
    );
  }
  const save = () => {
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    log(`\nResults: ${join(out, 'results.json')}`);
  };
  if (!all) return save();

  log(`\nFailover: one of three origins killed ${duration / 2} s into a ${duration} s run, GET only`);
  for (const target of targets.filter((t) => t.name === 'Switchyard' || references.some((r) => r.name === t.name))) {
    results.failover.push(await failover(bench, target, origins));
  }
  for (const f of results.failover) log(`  ${f.name.padEnd(22)} ${String(f.requests).padStart(8)} requests  ${String(f.errors).padStart(5)} client errors`);

  results.fanout = await fanout(switchyard.url, origins.ports, smoke ? 100 : 1000);
  log(`\nHealth-check fan-out: ${results.fanout.origins} origins probed in ${results.fanout.ms} ms (6 at a time; ${results.fanout.calls} call${results.fanout.calls === 1 ? '' : 's'} of POST /health/check, at most 900 probe attempts each)`);

  save();
}

try {
  await main();
} finally {
  for (const cleanup of bench.cleanups.reverse()) {
    try {
      await cleanup();
    } catch {
      // best effort
    }
  }
  rmSync(bench.work, { recursive: true, force: true });
}
