#!/usr/bin/env node
// npm run bench: Switchyard against the origins, a bare pass-through Worker on the
// same runtime, and nginx and HAProxy when installed, under the same load; then a
// failover run (one of three origins killed mid-run), a health-check fan-out over
// 1,000 origins, and micro-benchmarks of the steering core.
//
//   npm run bench                 the full run (about 2 minutes)
//   npm run bench -- --smoke      a few seconds: every part once, tiny durations (CI)
//   --duration S --connections N  load per target (default 10 s, 32 connections)
//   --profile                     also sample Switchyard's CPU under load (workerd's
//                                 inspector) and print where the time goes
//   --only load                   the load table alone (for iterating on the hot path)
//   --baseline DIR/index.js,…     also load other builds of Switchyard (say, main's
//                                 `npm run build` output), named by DIR, in the same
//                                 interleaved slices
//
// Workers run on workerd itself with a generated config, not under `wrangler dev` or
// Miniflare (see the README's Performance section for why). Results:
// bench-out/results.json.
import autocannon from 'autocannon';
import { build } from 'esbuild';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildSwitchyard, freePort, startWorkerd, waitFor } from './lib/workerd.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    duration: { type: 'string' },
    connections: { type: 'string' },
    out: { type: 'string', default: join(root, 'bench-out') },
    profile: { type: 'boolean', default: false },
    only: { type: 'string' },
    baseline: { type: 'string' },
  },
});
const smoke = args.smoke;
const duration = Number(args.duration ?? (smoke ? 1 : 10));
const connections = Number(args.connections ?? (smoke ? 8 : 32));
const TOKEN = 'bench-token';
const work = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
const cleanups = [];
const log = (line = '') => process.stdout.write(`${line}\n`);

async function main() {
  const results = { machine: machine(), settings: { duration, connections, smoke }, micro: null, load: [], failover: [], fanout: null };

  const all = args.only === undefined;
  if (all) {
    log('Micro-benchmarks of the steering core (Node, one core):');
    results.micro = await micro();
  }

  const origins = await startOrigins(3);
  log(`\nOrigins on 127.0.0.1:${origins.ports.join(', ')} (one process)`);
  const bundle = buildSwitchyard(join(work, 'switchyard'));
  const passThrough = await startWorker('pass-through', passThroughScript(), { ORIGIN: `127.0.0.1:${origins.ports[0]}` });
  const contract = await startWorker('header-contract', headerContractScript(), { ORIGIN: `127.0.0.1:${origins.ports[0]}` });
  const switchyard = await startWorker('switchyard', bundle, switchyardBindings(origins.ports));
  const baselines = [];
  for (const path of args.baseline?.split(',') ?? []) {
    const name = `switchyard-${basename(dirname(path))}`;
    baselines.push({ name: `Switchyard (${basename(dirname(path))})`, worker: await startWorker(name, path, switchyardBindings(origins.ports)) });
  }
  const viaMiniflare = smoke || !all ? undefined : await startMiniflare('pass-through-miniflare', passThroughScript(), { ORIGIN: `127.0.0.1:${origins.ports[0]}` });
  const cookie = await affinityCookie(switchyard.url);
  const references = !all ? [] : (await Promise.all([startNginx(origins.ports), startHaproxy(origins.ports)])).filter(Boolean);

  const targets = [
    { name: 'origin (direct)', url: `http://127.0.0.1:${origins.ports[0]}/`, requests: [{ path: '/' }] },
    { name: 'pass-through Worker', url: passThrough.url, requests: [{ path: '/' }], pid: passThrough.pid },
    { name: 'header-contract Worker', url: contract.url, requests: [{ path: '/', headers: { 'x-lb-sim-country': 'DE' } }], pid: contract.pid },
    { name: 'Switchyard', url: switchyard.url, requests: switchyardRequests(cookie), pid: switchyard.pid },
    ...(await Promise.all(baselines.map(async ({ name, worker }) => ({ name, url: worker.url, requests: switchyardRequests(await affinityCookie(worker.url)), pid: worker.pid })))),
    ...references.map((r) => ({ name: r.name, url: r.url, requests: [{ path: '/' }] })),
    ...(viaMiniflare ? [{ name: 'pass-through, Miniflare', url: viaMiniflare.url, requests: [{ path: '/' }] }] : []),
  ];
  const rounds = smoke ? 1 : 5;
  log(`\nLoad: ${duration} s per target${rounds > 1 ? ` in ${rounds} interleaved slices` : ''}, ${connections} connections, keep-alive (autocannon)`);
  results.load = await load(targets, rounds);
  printLoad(results.load);
  const quiet = targets.filter((t) => t.name !== 'origin (direct)' && !t.name.includes('Miniflare'));
  log(`\nLatency without load: one keep-alive connection, one request at a time, ${smoke ? 100 : 2000} requests per target, interleaved`);
  results.latency = await latency(quiet, smoke ? 100 : 2000);
  printLatency(results.latency);
  if (args.profile) await profile(switchyard, targets.find((t) => t.name === 'Switchyard'));
  if (!all) return;

  log(`\nFailover: one of three origins killed ${duration / 2} s into a ${duration} s run, GET only`);
  for (const target of targets.filter((t) => t.name === 'Switchyard' || references.some((r) => r.name === t.name))) {
    results.failover.push(await failover(target, origins));
  }
  for (const f of results.failover) log(`  ${f.name.padEnd(22)} ${String(f.requests).padStart(8)} requests  ${String(f.errors).padStart(5)} client errors`);

  results.fanout = await fanout(switchyard.url, origins.ports, smoke ? 100 : 1000);
  log(`\nHealth-check fan-out: ${results.fanout.origins} origins probed in ${results.fanout.ms} ms (6 at a time)`);

  mkdirSync(args.out, { recursive: true });
  writeFileSync(join(args.out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  log(`\nResults: ${join(args.out, 'results.json')}`);
}

function machine() {
  return { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString() };
}

async function micro() {
  const out = join(work, 'micro.mjs');
  await build({ entryPoints: [join(root, 'scripts/bench/micro.ts')], bundle: true, format: 'esm', platform: 'node', outfile: out, logLevel: 'error' });
  const { runMicro } = await import(out);
  const sizes = smoke ? [10, 1000] : [10, 1000, 10_000, 100_000];
  const result = runMicro(sizes, smoke ? 20 : 300);
  const names = [...new Set(result.decisions.map((d) => d.name))];
  log(`  ${'decision (ns)'.padEnd(32)}${sizes.map((s) => String(s).padStart(10)).join('')}`);
  for (const name of names) {
    const row = sizes.map((s) => result.decisions.find((d) => d.name === name && d.origins === s).nsPerOp.toFixed(0).padStart(10));
    log(`  ${name.padEnd(32)}${row.join('')}`);
  }
  log(`  ${'snapshot load (ms)'.padEnd(32)}${result.snapshots.map((s) => (s.parseMs + s.compileMs).toFixed(1).padStart(10)).join('')}`);
  return result;
}

function startOrigins(count) {
  const child = spawn(process.execPath, [join(root, 'scripts/bench/origins.mjs'), String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
  cleanups.push(() => child.kill());
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const next = () => new Promise((resolve) => waiting.push(resolve));
  return next().then((line) => ({
    ports: JSON.parse(line).ports,
    async command(text) {
      const reply = next();
      child.stdin.write(`${text}\n`);
      return reply;
    },
  }));
}

function passThroughScript() {
  const file = join(work, 'pass-through.mjs');
  // The ceiling for any Worker-based balancer: forward to one origin, nothing else.
  writeFileSync(
    file,
    `export default {
  fetch(request, env) {
    const url = new URL(request.url);
    url.host = env.ORIGIN;
    return fetch(url, request);
  },
};
`,
  );
  return file;
}

function headerContractScript() {
  const file = join(work, 'header-contract.mjs');
  // SPEC §3's header work and nothing else, with fixed values: no steering, no
  // affinity, no timers, no stats. What any balancer honouring that contract pays for
  // headers on this runtime, so Switchyard's own cost can be told apart from it.
  writeFileSync(
    file,
    `const STRIP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'trailer',
  'x-lb-sim-ip', 'x-lb-sim-country', 'x-lb-sim-lat', 'x-lb-sim-lon', 'x-lb-sim-colo'];
const append = (h, name, value) => {
  const existing = h.get(name);
  h.set(name, existing === null || existing === '' ? value : existing + ', ' + value);
};
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    for (const name of STRIP) headers.delete(name);
    const ip = request.headers.get('cf-connecting-ip') ?? 'unknown';
    append(headers, 'x-forwarded-for', ip);
    append(headers, 'forwarded', 'for=' + ip + ';proto=http;host=' + url.host);
    append(headers, 'via', '1.1 switchyard');
    append(headers, 'cdn-loop', 'switchyard');
    headers.set('x-forwarded-proto', 'http');
    headers.set('x-forwarded-host', url.host);
    headers.set('x-lb-pop', 'FRA');
    headers.set('x-high-load-test', '123');
    headers.set('host', env.ORIGIN);
    const upstream = await fetch('http://' + env.ORIGIN + url.pathname + url.search, { method: request.method, headers, body: request.body, redirect: 'manual' });
    const response = new Response(upstream.body, upstream);
    response.headers.set('x-lb-pool', 'eu');
    response.headers.set('x-lb-origin', 'a');
    response.headers.set('x-lb-pop', 'FRA');
    response.headers.set('x-lb-attempts', '1');
    response.headers.append('server-timing', 'lb;dur=0, origin;dur=1');
    return response;
  },
};
`,
  );
  return file;
}

function switchyardBindings(ports) {
  const [a, b, c] = ports.map((p) => `http://127.0.0.1:${p}`);
  // A realistic configuration: 3 pools, geo steering with weights inside the pools,
  // cookie affinity and an injected request header.
  const config = {
    pools: [
      { id: 'eu', latitude: 50.11, longitude: 8.68, origins: [{ name: 'a', address: a, weight: 2 }, { name: 'b', address: b }] },
      { id: 'us', latitude: 39.04, longitude: -77.49, origins: [{ name: 'b', address: b, weight: 2 }, { name: 'c', address: c }] },
      { id: 'sa', latitude: -23.55, longitude: -46.63, origins: [{ name: 'c', address: c, weight: 2 }, { name: 'a', address: a }] },
    ],
    load_balancers: [
      {
        id: 'bench',
        hostname: '*',
        default_pools: ['eu', 'us', 'sa'],
        steering_policy: 'geo',
        region_pools: { WEU: ['eu', 'us'], ENAM: ['us', 'eu'], SSAM: ['sa', 'us'] },
        country_pools: { BR: ['sa'] },
        session_affinity: 'cookie',
        request_headers: { 'X-high-load-test': '123' },
      },
    ],
  };
  return { LB_SIMULATION: 'on', ADMIN_TOKEN: TOKEN, AFFINITY_SECRET: 'bench-affinity-secret', LB_CONFIG: JSON.stringify(config), SNAPSHOT_TTL_MS: '2000' };
}

/** A Worker on workerd itself with a generated config (scripts/lib/workerd.mjs): the fast path. */
async function startWorker(name, scriptPath, bindings) {
  const isSwitchyard = name.startsWith('switchyard');
  const inspector = name === 'switchyard' && args.profile ? await freePort() : undefined;
  const worker = await startWorkerd({ dir: join(work, `workerd-${name}`), scriptPath, bindings, switchyard: isSwitchyard, inspector, ready: { path: '/', headers: { 'x-lb-sim-country': 'DE' } } });
  cleanups.push(() => worker.stop());
  return { url: worker.url, inspector, pid: worker.pid };
}

/** The same Worker through Miniflare (what `wrangler dev` runs), for the README's comparison. */
async function startMiniflare(name, scriptPath, bindings) {
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: '127.0.0.1',
      port: 0,
      logRequests: false,
      workers: [{ name, rootPath: dirname(scriptPath), modules: true, scriptPath, compatibilityDate: '2026-08-01', compatibilityFlags: ['nodejs_compat'], bindings }],
    }),
  );
  cleanups.push(() => mf.dispose());
  return { url: (await mf.ready).href };
}

async function affinityCookie(url) {
  const res = await fetch(url, { headers: { 'x-lb-sim-country': 'DE' } });
  await res.arrayBuffer();
  return (res.headers.get('set-cookie') ?? '').split(';')[0];
}

/** Clients from three continents; two in three carry their affinity cookie, one in three is new. */
function switchyardRequests(cookie) {
  return [
    { path: '/', headers: { 'x-lb-sim-country': 'DE', cookie } },
    { path: '/', headers: { 'x-lb-sim-country': 'US' } },
    { path: '/', headers: { 'x-lb-sim-country': 'BR', cookie } },
  ];
}

/** A reference proxy when it is installed: its config written for a free port, run in the foreground. */
async function startReference({ command, name, file, config, args }) {
  if (spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status !== 0) return undefined;
  const dir = join(work, command);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  writeFileSync(join(dir, file), config(port, dir));
  const child = spawn(command, args(join(dir, file), dir), { stdio: 'ignore' });
  cleanups.push(() => child.kill());
  const url = `http://127.0.0.1:${port}/`;
  return { name, url, ready: waitFor(url) };
}

function startNginx(ports) {
  return startReference({
    command: 'nginx',
    name: 'nginx (1 worker)',
    file: 'nginx.conf',
    args: (file, dir) => ['-c', file, '-p', dir, '-e', join(dir, 'error.log')],
    config: (port, dir) => `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  upstream origins {
${ports.map((p) => `    server 127.0.0.1:${p} max_fails=3 fail_timeout=10s;`).join('\n')}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origins;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-high-load-test 123;
      proxy_next_upstream error timeout http_502 http_503 http_504;
    }
  }
}
`,
  });
}

function startHaproxy(ports) {
  return startReference({
    command: 'haproxy',
    name: 'HAProxy (1 thread)',
    file: 'haproxy.cfg',
    args: (file) => ['-f', file, '-db'],
    config: (port) => `global
  nbthread 1
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  option redispatch
  retries 2
  retry-on conn-failure empty-response response-timeout 502 503 504
frontend fe
  bind 127.0.0.1:${port}
  default_backend origins
backend origins
  balance roundrobin
  http-request set-header X-high-load-test 123
${ports.map((p, i) => `  server o${i + 1} 127.0.0.1:${p} check inter 1s fall 2 rise 2`).join('\n')}
`,
  });
}

function run(target, seconds, onStart) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url: target.url, connections, duration: seconds, requests: target.requests, timeout: 5 },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    onStart?.(instance);
  });
}

/**
 * Each target's run is cut into slices taken in turn (A B C A B C …), so a noisy
 * neighbour or a slow minute on shared cores weighs on every target alike.
 */
async function load(targets, rounds) {
  const slice = duration / rounds;
  const totals = targets.map((target) => ({ target, requests: 0, seconds: 0, cpu: 0, cpuKnown: target.pid !== undefined, p50: [], p99: [], errors: 0 }));
  for (const t of totals) {
    await t.target.ready;
    await run(t.target, smoke ? 0.5 : 2); // warm-up
  }
  for (let round = 0; round < rounds; round++) {
    for (const t of totals) {
      const cpuBefore = cpuSeconds(t.target.pid);
      const r = await run(t.target, slice);
      const cpuAfter = cpuSeconds(t.target.pid);
      t.requests += r.requests.total;
      t.seconds += r.duration;
      t.p50.push(r.latency.p50);
      t.p99.push(r.latency.p99);
      t.errors += r.errors + r.timeouts + r.non2xx;
      if (cpuBefore === undefined || cpuAfter === undefined) t.cpuKnown = false;
      else t.cpu += cpuAfter - cpuBefore;
    }
  }
  return totals.map((t) => ({
    name: t.target.name,
    rps: Math.round(t.requests / t.seconds),
    p50: median(t.p50),
    p99: median(t.p99),
    errors: t.errors,
    // The runtime's own CPU per request: steadier than req/s on shared cores.
    cpuUsPerRequest: t.cpuKnown && t.requests > 0 ? Math.round((t.cpu * 1e6) / t.requests) : undefined,
  }));
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Added latency, measured where it is not hidden by queueing: one request at a time
 * on one keep-alive connection, timed in the client to the microsecond. Targets take
 * turns in batches of 50.
 */
async function latency(targets, count) {
  const agents = targets.map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const samples = targets.map(() => []);
  const once = (target, agent, spec) =>
    new Promise((resolve, reject) => {
      const url = new URL(spec.path, target.url);
      const started = process.hrtime.bigint();
      const req = http.request(url, { agent, headers: spec.headers ?? {} }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode < 400 ? resolve(Number(process.hrtime.bigint() - started) / 1e6) : reject(new Error(`${target.name}: ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end();
    });
  for (const [i, target] of targets.entries()) for (let k = 0; k < 20; k++) await once(target, agents[i], target.requests[k % target.requests.length]);
  for (let done = 0; done < count; done += 50) {
    for (const [i, target] of targets.entries()) {
      for (let k = done; k < Math.min(count, done + 50); k++) samples[i].push(await once(target, agents[i], target.requests[k % target.requests.length]));
    }
  }
  for (const agent of agents) agent.destroy();
  return targets.map((target, i) => {
    const sorted = samples[i].sort((a, b) => a - b);
    const at = (q) => Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(3));
    return { name: target.name, requests: sorted.length, p50: at(0.5), p99: at(0.99) };
  });
}

function printLatency(rows) {
  const base = rows.find((r) => r.name === 'pass-through Worker');
  log(`  ${'target'.padEnd(24)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'p50 vs pass-through'.padStart(22)}`);
  for (const r of rows) {
    const added = base ? `${r.p50 - base.p50 >= 0 ? '+' : ''}${(r.p50 - base.p50).toFixed(3)} ms` : '-';
    log(`  ${r.name.padEnd(24)}${r.p50.toFixed(3).padStart(9)}${r.p99.toFixed(3).padStart(9)}${added.padStart(22)}`);
  }
}

/** User + system CPU seconds of a process so far (Linux /proc), or undefined. */
function cpuSeconds(pid) {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

function printLoad(rows) {
  const base = rows.find((r) => r.name === 'pass-through Worker');
  log(`  ${'target'.padEnd(24)}${'req/s'.padStart(9)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'errors'.padStart(8)}${'vs pass-through'.padStart(17)}${'CPU µs/req'.padStart(12)}`);
  for (const r of rows) {
    const ratio = base ? (r.rps / base.rps).toFixed(2) : '-';
    const cpu = r.cpuUsPerRequest === undefined ? '' : String(r.cpuUsPerRequest);
    log(`  ${r.name.padEnd(24)}${String(r.rps).padStart(9)}${String(r.p50).padStart(8)}${String(r.p99).padStart(8)}${String(r.errors).padStart(8)}${ratio.padStart(17)}${cpu.padStart(12)}`);
  }
  const sy = rows.find((r) => r.name === 'Switchyard');
  const contract = rows.find((r) => r.name === 'header-contract Worker');
  if (base && sy) log(`  Switchyard: ${(sy.rps / base.rps).toFixed(2)} of the pass-through's throughput, p50 +${(sy.p50 - base.p50).toFixed(2)} ms under load`);
  if (contract && sy) log(`  Switchyard: ${(sy.rps / contract.rps).toFixed(2)} of the header-contract Worker's throughput (the same SPEC §3 header work, no steering)`);
}

async function failover(target, origins) {
  let killed;
  const r = await run(target, duration, () => {
    killed = new Promise((resolve) => setTimeout(() => origins.command('kill 1').then(resolve), (duration * 1000) / 2));
  });
  await killed;
  await origins.command('revive 1');
  // Let health recover before the next run (passive ejections expire, checks see it up).
  await new Promise((resolve) => setTimeout(resolve, smoke ? 200 : 2000));
  return { name: target.name, requests: r.requests.total, errors: r.errors + r.timeouts + r.non2xx };
}

/** Samples Switchyard's CPU through workerd's inspector while it is under load; prints the top self times. */
async function profile(worker, target) {
  const list = await (await fetch(`http://127.0.0.1:${worker.inspector}/json/list`)).json();
  const socket = new WebSocket(list.find((t) => t.title === 'main' || /main/.test(t.url ?? ''))?.webSocketDebuggerUrl ?? list[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => ((socket.onopen = resolve), (socket.onerror = reject)));
  let id = 0;
  const pending = new Map();
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    pending.get(message.id)?.(message.result);
  };
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      pending.set(++id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: 100 });
  await send('Profiler.start');
  await run(target, duration);
  const { profile: cpu } = await send('Profiler.stop');
  socket.close();
  const self = new Map();
  const inclusive = new Map();
  const byId = new Map(cpu.nodes.map((node) => [node.id, node]));
  const label = (frame) => `${frame.functionName || '(anonymous)'} ${frame.url.split('/').pop()}:${frame.lineNumber + 1}`;
  // Inclusive time: a node's own hits plus its descendants', counted once per function on each path.
  const visit = (node, onPath) => {
    const key = label(node.callFrame);
    let hits = node.hitCount;
    const path = new Set(onPath).add(key);
    for (const child of node.children ?? []) hits += visit(byId.get(child), path);
    if (!onPath.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + hits);
    return hits;
  };
  let total = 0;
  for (const node of cpu.nodes) {
    self.set(label(node.callFrame), (self.get(label(node.callFrame)) ?? 0) + node.hitCount);
    total += node.hitCount;
  }
  visit(cpu.nodes[0], new Set());
  const top = (map, n) => [...map].filter(([key]) => !key.startsWith('(root)')).sort((a, b) => b[1] - a[1]).slice(0, n);
  log(`\nSwitchyard CPU profile under load (${total} samples), self time:`);
  for (const [key, hits] of top(self, 25)) log(`  ${((hits / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
  log('Including callees:');
  for (const [key, hits] of top(inclusive, 25)) log(`  ${((hits / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
}

async function fanout(url, ports, count) {
  const admin = (method, path, body) =>
    fetch(new URL(`/__lb/api${path}`, url), {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    }).then(async (res) => {
      const json = await res.json();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
      return json;
    });
  const { config } = await admin('GET', '/config');
  const origins = Array.from({ length: count }, (_, i) => ({ name: `f${i}`, address: `http://127.0.0.1:${ports[i % ports.length]}` }));
  await admin('PUT', '/config', {
    monitors: [{ id: 'fanout', interval: 3600, timeout: 5 }],
    pools: [{ id: 'fanout', monitor: 'fanout', origins }],
    load_balancers: [{ id: 'fanout', hostname: '*', default_pools: ['fanout'] }],
  });
  const started = performance.now();
  const report = await admin('POST', '/health/check');
  const ms = Math.round(performance.now() - started);
  const healthy = report.origins.filter((o) => o.state === 'healthy').length;
  await admin('PUT', '/config', config);
  return { origins: count, healthy, ms };
}

try {
  await main();
} finally {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch {
      // best effort
    }
  }
  rmSync(work, { recursive: true, force: true });
}
