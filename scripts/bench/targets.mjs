// What the benchmark puts under load: the loopback origins, Workers on workerd (a
// bare pass-through, the header-contract Worker, the simplest balancer, Switchyard
// configured realistically, minimally and with ten rules, and other builds of it), the
// pass-through under Miniflare, and nginx and HAProxy when installed.
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { bundleSource, ROOT } from '../lib/load-src.mjs';
import { freePort, startWorkerd, waitFor } from '../lib/workerd.mjs';

export const ADMIN_TOKEN = 'bench-token';

/**
 * One run of the benchmark: its settings and what it started.
 * @typedef {object} Bench
 * @property {boolean} smoke every part once, tiny durations
 * @property {number} duration seconds of load per target
 * @property {number} connections
 * @property {number} [rate] requests per second offered in all (autocannon's overallRate); unset: as fast as the target answers
 * @property {boolean} profile sample Switchyard's CPU under load
 * @property {ReadonlySet<string>} [inspected] the Workers started with an inspector (for the profile)
 * @property {string} work a directory of its own, removed at the end
 * @property {(() => unknown)[]} cleanups run in reverse order at the end
 * @property {(line?: string) => void} log
 *
 * A request autocannon sends, in turn with the others of its target.
 * @typedef {{ path: string, headers?: Record<string, string> }} TargetRequest
 *
 * @typedef {object} Target
 * @property {string} name
 * @property {string} url
 * @property {TargetRequest[]} requests
 * @property {number} [pid] the process serving it, for its CPU time
 * @property {Promise<void>} [ready]
 *
 * @typedef {object} Origins the loopback origins, in a process of their own
 * @property {number[]} ports
 * @property {(text: string) => Promise<string>} command "kill N" or "revive N"; resolves with the answer line
 *
 * @typedef {{ url: string, inspector: number | undefined, pid: number | undefined }} Worker
 */

/**
 * On a machine with more than one core, the Workers under test run on the last core and
 * the load generator and the origins on the others (taskset, when installed): sharing
 * cores, a Worker's CPU per request moved by up to 60 µs between two runs of the same
 * build; apart, by about 20. Nothing happens without taskset or with one core.
 * @param {number} pid
 * @param {'proxy' | 'load'} role
 */
export function pinToCore(pid, role) {
  const cores = availableParallelism();
  if (cores < 2) return;
  const list = role === 'proxy' ? String(cores - 1) : `0-${cores - 2}`;
  spawnSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' });
}

/**
 * `count` fast origins in their own process (scripts/bench/origins.mjs).
 * @param {Bench} bench
 * @param {number} count
 * @returns {Promise<Origins>}
 */
export function startOrigins(bench, count) {
  const child = spawn(process.execPath, [join(ROOT, 'scripts/bench/origins.mjs'), String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
  if (child.pid !== undefined) pinToCore(child.pid, 'load');
  bench.cleanups.push(() => child.kill());
  const lines = createInterface({ input: child.stdout });
  /** @type {((line: string) => void)[]} */
  const waiting = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  /** @returns {Promise<string>} */
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

/**
 * The ceiling for any Worker-based balancer: forward to one origin, nothing else. It
 * is written out here rather than built from src/ on purpose: nothing of Switchyard
 * may be in it.
 * @param {Bench} bench
 */
export function passThroughScript(bench) {
  const file = join(bench.work, 'pass-through.mjs');
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

/**
 * The header-contract Worker (scripts/bench/header-contract.ts, with Switchyard's own
 * header code from src/) bundled for workerd.
 * @param {Bench} bench
 */
export async function headerContractScript(bench) {
  const file = join(bench.work, 'header-contract.mjs');
  writeFileSync(file, await bundleSource('scripts/bench/header-contract.ts', { platform: 'neutral' }));
  return file;
}

/**
 * The simplest balancer (scripts/bench/simplest-balancer.ts, nothing from src/) bundled
 * for workerd: weighted random, one injected header, an attempt timer.
 * @param {Bench} bench
 */
export async function simplestBalancerScript(bench) {
  const file = join(bench.work, 'simplest-balancer.mjs');
  writeFileSync(file, await bundleSource('scripts/bench/simplest-balancer.ts', { platform: 'neutral' }));
  return file;
}

/**
 * The simplest balancer's binding: the origins weighted 2:1:1, as Switchyard minimal's pool.
 * @param {readonly number[]} ports the origins'
 */
export function simplestBalancerBindings(ports) {
  return { ORIGINS: ports.map((p, i) => `127.0.0.1:${p}*${i === 0 ? 2 : 1}`).join(',') };
}

/**
 * Switchyard doing the simplest balancer's job plus its contract: one pool weighted
 * 2:1:1 over the origins, picked at random, no affinity, no x-lb-* answer headers, one
 * injected request header, no simulation (facts from request.cf, as on Cloudflare).
 * @param {readonly number[]} ports the origins'
 */
export function switchyardMinimalBindings(ports) {
  const config = {
    pools: [
      {
        id: 'all',
        origin_steering: { policy: 'random' },
        origins: ports.map((p, i) => ({ name: String.fromCharCode(97 + i), address: `http://127.0.0.1:${p}`, weight: i === 0 ? 2 : 1 })),
      },
    ],
    load_balancers: [
      {
        id: 'bench',
        hostname: '*',
        default_pools: ['all'],
        session_affinity: 'none',
        expose_headers: false,
        read_timeout_ms: 0,
        request_headers: { 'X-high-load-test': '123' },
      },
    ],
  };
  return { LB_SIMULATION: 'off', ADMIN_TOKEN, AFFINITY_SECRET: 'bench-affinity-secret', LB_CONFIG: JSON.stringify(config), SNAPSHOT_TTL_MS: '2000' };
}

/**
 * What the simplest balancer's and Switchyard minimal's clients send: no simulation
 * headers, the client address as Cloudflare's edge gives it.
 * @type {TargetRequest[]}
 */
export const PLAIN_REQUESTS = [{ path: '/', headers: { 'cf-connecting-ip': '198.51.100.7' } }];

/**
 * The rules Worker (scripts/bench/rules-worker.ts, with Switchyard's rules code from
 * src/) bundled for workerd: it tries the rules target's rules in a loop.
 * @param {Bench} bench
 */
export async function rulesWorkerScript(bench) {
  const file = join(bench.work, 'rules-worker.mjs');
  writeFileSync(file, await bundleSource('scripts/bench/rules-worker.ts', { platform: 'neutral' }));
  return file;
}

/**
 * Switchyard's bindings with a realistic configuration: 3 pools, geo steering with
 * weights inside the pools, cookie affinity and an injected request header; with
 * `rules`, the load balancer has them too.
 * @param {readonly number[]} ports the origins'
 * @param {readonly object[]} [rules]
 */
export function switchyardBindings(ports, rules) {
  const [a, b, c] = ports.map((p) => `http://127.0.0.1:${p}`);
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
        ...(rules === undefined ? {} : { rules }),
      },
    ],
  };
  return { LB_SIMULATION: 'on', ADMIN_TOKEN, AFFINITY_SECRET: 'bench-affinity-secret', LB_CONFIG: JSON.stringify(config), SNAPSHOT_TTL_MS: '2000' };
}

/**
 * Ten rules of the usual kinds for the rules target, tried in list order. The
 * target's requests match only the last, a path rule that overrides default_pools,
 * so every request tries all ten conditions and is steered by the overridden load
 * balancer.
 */
export const BENCH_RULES = [
  {
    name: 'maintenance',
    condition: 'http.request.uri.path eq "/maintenance"',
    fixed_response: { status_code: 503, content_type: 'text/plain', message_body: 'Down for maintenance' },
  },
  { name: 'embargo', condition: 'ip.src.country in {"KP" "IR" "SY" "CU"}', fixed_response: { status_code: 403, message_body: 'Not available' } },
  { name: 'internal', condition: 'ip.src in {10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 fd00::/8}', overrides: { default_pools: ['us'] }, terminates: true },
  { name: 'admin', condition: 'http.host eq "admin.example.com"', overrides: { default_pools: ['us'], steering_policy: 'off' } },
  { name: 'static', condition: 'starts_with(http.request.uri.path, "/static/")', overrides: { default_pools: ['eu'] } },
  { name: 'canary', condition: 'http.request.headers["x-canary"] eq "1"', overrides: { default_pools: ['sa'] } },
  { name: 'beta', condition: 'http.request.cookies["beta"] eq "on"', overrides: { default_pools: ['sa', 'us'] } },
  { name: 'crawlers', condition: 'lower(http.request.headers["user-agent"]) contains "bot"', overrides: { default_pools: ['sa'] } },
  { name: 'legacy', condition: 'http.request.uri.path matches "^/v[0-9]+/legacy/"', overrides: { default_pools: ['us'] } },
  {
    name: 'api',
    condition: 'starts_with(http.request.uri.path, "/api/") and http.request.method in {"GET" "HEAD"}',
    overrides: { default_pools: ['us', 'eu', 'sa'] },
    terminates: true,
  },
];

/** The rule of BENCH_RULES the rules target's requests match. */
export const BENCH_RULE_MATCHED = 'api';

/**
 * A Worker on workerd itself with a generated config (scripts/lib/workerd.mjs): the fast path.
 * @param {Bench} bench
 * @param {string} name
 * @param {string} scriptPath
 * @param {Record<string, string>} bindings
 * @returns {Promise<Worker>}
 */
export async function startWorker(bench, name, scriptPath, bindings) {
  const isSwitchyard = name.startsWith('switchyard');
  const inspector = bench.profile && bench.inspected?.has(name) ? await freePort() : undefined;
  const worker = await startWorkerd({
    dir: join(bench.work, `workerd-${name}`),
    scriptPath,
    bindings,
    switchyard: isSwitchyard,
    inspector,
    ready: { path: '/', headers: { 'x-lb-sim-country': 'DE' } },
  });
  bench.cleanups.push(() => worker.stop());
  if (worker.pid !== undefined) pinToCore(worker.pid, 'proxy');
  return { url: worker.url, inspector, pid: worker.pid };
}

/**
 * The same Worker through Miniflare (what `wrangler dev` runs), for the README's comparison.
 * @param {Bench} bench
 * @param {string} name
 * @param {string} scriptPath
 * @param {Record<string, string>} bindings
 */
export async function startMiniflare(bench, name, scriptPath, bindings) {
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: '127.0.0.1',
      port: 0,
      logRequests: false,
      workers: [{ name, rootPath: dirname(scriptPath), modules: true, scriptPath, compatibilityDate: '2026-08-01', compatibilityFlags: ['nodejs_compat'], bindings }],
    }),
  );
  bench.cleanups.push(() => mf.dispose());
  return { url: (await mf.ready).href };
}

/**
 * A fresh affinity cookie from a Switchyard, as `name=value`.
 * @param {string} url
 */
export async function affinityCookie(url) {
  const res = await fetch(url, { headers: { 'x-lb-sim-country': 'DE' } });
  await res.arrayBuffer();
  return (res.headers.get('set-cookie') ?? '').split(';')[0];
}

/**
 * Clients from three continents, each with an address; two in three carry their
 * affinity cookie, one in three is new.
 * @param {string} cookie
 * @param {string} [path] what they ask for
 * @returns {TargetRequest[]}
 */
export function switchyardRequests(cookie, path = '/') {
  return [
    { path, headers: { 'x-lb-sim-country': 'DE', 'x-lb-sim-ip': '198.51.100.7', cookie } },
    { path, headers: { 'x-lb-sim-country': 'US', 'x-lb-sim-ip': '203.0.113.8' } },
    { path, headers: { 'x-lb-sim-country': 'BR', 'x-lb-sim-ip': '192.0.2.9', cookie } },
  ];
}

/** What the rules target's clients ask for: the last of BENCH_RULES matches it. */
export const BENCH_RULES_PATH = '/api/v2/catalog?page=2';

/**
 * The rules a Switchyard's explain says `request` matches: what the rules target's
 * figures mean depends on it.
 * @param {string} url the Switchyard's
 * @param {TargetRequest} request
 * @returns {Promise<string[]>}
 */
export async function matchedRules(url, request) {
  const target = new URL(request.path, url);
  const query = new URLSearchParams({ host: target.hostname, path: target.pathname + target.search });
  const headers = request.headers ?? {};
  if (headers['x-lb-sim-country']) query.set('country', headers['x-lb-sim-country']);
  if (headers['x-lb-sim-ip']) query.set('ip', headers['x-lb-sim-ip']);
  for (const [name, value] of Object.entries(headers)) if (!name.startsWith('x-lb-sim-')) query.append('header', `${name}: ${value}`);
  const res = await fetch(new URL(`/__lb/api/explain?${query}`, url), { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const body = await res.json();
  if (!res.ok) throw new Error(`explain: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  return body.rules;
}

/**
 * A reference proxy when it is installed: its config written for a free port, run in the foreground.
 * @param {Bench} bench
 * @param {{ command: string, name: string, file: string, config(port: number, dir: string): string, args(file: string, dir: string): string[] }} reference
 * @returns {Promise<Target | undefined>}
 */
async function startReference(bench, { command, name, file, config, args }) {
  if (spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status !== 0) return undefined;
  const dir = join(bench.work, command);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  writeFileSync(join(dir, file), config(port, dir));
  const child = spawn(command, args(join(dir, file), dir), { stdio: 'ignore' });
  bench.cleanups.push(() => child.kill());
  // Its workers are forked from it and keep its core.
  if (child.pid !== undefined) pinToCore(child.pid, 'proxy');
  const url = `http://127.0.0.1:${port}/`;
  return { name, url, requests: [{ path: '/' }], ready: waitFor(url) };
}

/**
 * @param {Bench} bench
 * @param {readonly number[]} ports the origins'
 */
export function startNginx(bench, ports) {
  return startReference(bench, {
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

/**
 * @param {Bench} bench
 * @param {readonly number[]} ports the origins'
 */
export function startHaproxy(bench, ports) {
  return startReference(bench, {
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
