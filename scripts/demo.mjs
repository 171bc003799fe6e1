#!/usr/bin/env node
// The demo: three loopback origins answering like the seeds' backends, in three
// simulated regions; Switchyard under wrangler's dev server (its programmatic API,
// so the request log stays out of the tour) with simulation on and a demo
// configuration; a short tour of what it does, then it serves until Ctrl-C.
//
//   npm start                run the demo and keep serving
//   npm start -- --check     run the tour once and exit (non-zero if anything is off)
//   npm start -- --edge      every subrequest of the Worker goes through the edge
//                            emulator (scripts/lib/edge-emulator.mjs), as on Cloudflare:
//                            origins by name (backend1.localhost), and an extra step
//                            where an origin given by IP address is refused and failed over
import { createServer, request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EdgeEmulator } from './lib/edge-emulator.mjs';
import { startDevWorker } from './lib/dev-worker.mjs';
import { Origin } from './lib/origins.mjs';
import { run as lbctl } from './lib/lbctl/run.mjs';

/**
 * @typedef {(ok: boolean, what: string) => void} Expect records a problem of the tour unless `ok`
 *
 * @typedef {object} Reply what the tour reads of an answer
 * @property {number | undefined} status
 * @property {string} setCookie the first Set-Cookie, or ''
 * @property {string} body
 * @property {string | null} origin
 * @property {string | null} pool
 * @property {string | null} pop
 * @property {string | null} attempts
 * @property {string | null} location
 * @property {string | null} retryAfter
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');
const edge = process.argv.includes('--edge');
const lbPort = Number(process.env.DEMO_PORT ?? 8787);
const token = process.env.DEMO_ADMIN_TOKEN ?? 'demo-token';
const base = `http://127.0.0.1:${lbPort}`;

// Bodies as in the seeds' backends.
const backends = [
  { name: 'backend1', port: 8081, body: '<h1>Response from Backend Server 1</h1>\n', region: 'Europe (Frankfurt)' },
  { name: 'backend2', port: 8082, body: '<h2>*** Response from Backend Server 2 ***</h2>\n', region: 'North America (Ashburn)' },
  { name: 'backend3', port: 8083, body: '<h1>Response from Backend Server 3</h1>\n', region: 'South America (São Paulo)' },
];

/** The names the edge emulator resolves to 127.0.0.1 (RFC 6761), and the Worker's zone there. */
const EDGE_ZONE = 'localhost';

/**
 * Where the Worker reaches an origin: its loopback URL, or on the edge a name that resolves to it.
 * @param {Origin} origin
 */
function addressOf(origin) {
  return edge ? `http://${origin.name}.${EDGE_ZONE}:${origin.port}` : origin.url;
}

/** @param {ConstructorParameters<typeof Origin>[0]} spec */
async function startOrigin(spec) {
  try {
    return await new Origin(spec).start();
  } catch {
    // The seeds' port is taken: any free port will do.
    return new Origin({ ...spec, port: 0 }).start();
  }
}

/** @param {Origin[]} origins */
function demoConfig(origins) {
  const [b1, b2, b3] = origins.map(addressOf);
  // Where a client reaches a storage node itself: a photo redirect's target.
  const [p1, p2, p3] = origins.map((origin) => origin.url);
  return {
    pools: [
      { id: 'static', name: 'Static files (seed 001)', origins: [{ name: 'backend1', address: b1 }] },
      { id: 'api', name: 'API (seed 001)', origins: [{ name: 'backend2', address: b2 }] },
      {
        id: 'photos',
        name: 'Photo storage nodes (seed 001)',
        origins: [
          { name: 'node1', address: b1, public_url: p1 },
          { name: 'node2', address: b2, public_url: p2 },
          { name: 'node3', address: b3, public_url: p3 },
        ],
      },
      { id: 'eu', name: 'Europe', latitude: 50.11, longitude: 8.68, origins: [{ name: 'backend1', address: b1 }] },
      { id: 'us', name: 'North America', latitude: 39.04, longitude: -77.49, origins: [{ name: 'backend2', address: b2 }] },
      { id: 'sa', name: 'South America', latitude: -23.55, longitude: -46.63, origins: [{ name: 'backend3', address: b3 }] },
      {
        id: 'all',
        name: 'All three, round robin',
        origins: [
          { name: 'backend1', address: b1 },
          { name: 'backend2', address: b2 },
          { name: 'backend3', address: b3 },
        ],
      },
      {
        id: 'weighted',
        name: 'Weights 2:1 (seed 003)',
        origins: [
          { name: 'backend1', address: b1, weight: 2 },
          { name: 'backend2', address: b2, weight: 1 },
        ],
      },
    ],
    load_balancers: [
      {
        // Seed 001's site: static files and the API on separate servers, the search
        // limited per client, photos on storage nodes by id (README, Rules).
        id: 'shop',
        hostname: 'shop.localhost',
        default_pools: ['static'],
        rules: [
          { name: 'api', priority: 10, condition: 'starts_with(http.request.uri.path, "/api/")', overrides: { default_pools: ['api'] } },
          {
            name: 'search',
            priority: 20,
            // Any spelling an origin would serve as the search counts: /api/Search, /api/search/, /api/search;x.
            condition: 'starts_with(lower(http.request.uri.path), "/api/search")',
            overrides: { rate_limit: { binding: 'SEARCH_LIMIT', key: 'ip', period: 10 } },
          },
          {
            name: 'photos',
            priority: 30,
            terminates: true,
            condition: 'starts_with(http.request.uri.path, "/photos/")',
            overrides: { default_pools: ['photos'], origin_steering: { policy: 'hash', hash_key: 'path' }, redirect: { status_code: 307 } },
          },
        ],
      },
      { id: 'rr', hostname: 'rr.localhost', default_pools: ['all'], request_headers: { 'X-high-load-test': '123' } },
      { id: 'weighted', hostname: 'weighted.localhost', default_pools: ['weighted'] },
      { id: 'sticky', hostname: 'sticky.localhost', default_pools: ['all'], session_affinity: 'cookie', session_affinity_ttl: 3600 },
      // For npm run simulate: the nearest pool by great-circle distance from the client.
      { id: 'proximity', hostname: 'proximity.localhost', default_pools: ['eu', 'us', 'sa'], fallback_pool: 'all', steering_policy: 'proximity' },
      {
        id: 'geo',
        hostname: '*',
        default_pools: ['us', 'eu', 'sa'],
        fallback_pool: 'all',
        country_pools: { BR: ['sa', 'us'] },
        region_pools: { WEU: ['eu', 'us'], EEU: ['eu', 'us'], NSAM: ['sa', 'us'], SSAM: ['sa', 'us'] },
      },
    ],
  };
}

async function waitForHealthz(timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${base}/__lb/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Switchyard did not answer on ${base} within ${timeoutMs / 1000} s`);
}

/**
 * A request (GET / unless told) with a Host header (fetch() may not set Host, node:http may).
 * @param {string} host
 * @param {Record<string, string>} [headers]
 * @param {string} [path]
 * @param {string} [method]
 * @returns {Promise<Reply>}
 */
function get(host, headers = {}, path = '/', method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers: { host, ...headers } }, (res) => {
      /** @type {Buffer[]} */
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        // node:http joins a repeated header into one string; only Set-Cookie is a list.
        /** @param {string} name */
        const h = (name) => /** @type {string | undefined} */ (res.headers[name]) ?? null;
        resolve({
          status: res.statusCode,
          setCookie: (res.headers['set-cookie'] ?? [])[0] ?? '',
          body: Buffer.concat(chunks).toString('utf8').trim(),
          origin: h('x-lb-origin'),
          pool: h('x-lb-pool'),
          pop: h('x-lb-pop'),
          attempts: h('x-lb-attempts'),
          location: h('location'),
          retryAfter: h('retry-after'),
        });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** @param {readonly (string | null)[]} values */
function count(values) {
  /** @type {Record<string, number>} */
  const counts = {};
  for (const v of values) counts[String(v)] = (counts[String(v)] ?? 0) + 1;
  return Object.entries(counts)
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');
}

/**
 * Runs lbctl in-process. Its warnings (stderr lines "warning <code> <path>: …") come
 * back in `warnings` for the step that wants to show them; other stderr goes on to
 * ours, indented as a part of the step.
 * @param {string[]} argv
 */
async function cli(argv) {
  let out = '';
  let err = '';
  const code = await lbctl(argv, {
    stdout: { write: (chunk) => void (out += chunk) },
    stderr: { write: (chunk) => void (err += chunk) },
    env: { LB_URL: base, LB_TOKEN: token, NO_COLOR: '1' },
  });
  const lines = err.split('\n').filter((line) => line !== '');
  const warnings = lines.filter((line) => line.startsWith('warning '));
  const rest = lines.filter((line) => !line.startsWith('warning '));
  if (rest.length > 0) process.stderr.write(`${rest.map((line) => `   ${line}`).join('\n')}\n`);
  return { code, out, warnings };
}

/**
 * A call to the admin API for what lbctl has no command for.
 * @param {string} method
 * @param {string} path
 * @param {unknown} body
 * @returns {Promise<{ status: number, json: import('./lib/lbctl/format.mjs').Document }>}
 */
async function adminApi(method, path, body) {
  const res = await fetch(`${base}/__lb/api${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json().catch(() => undefined) };
}

/**
 * Seed 001's second half on one hostname (shop.localhost): static and API apart, the
 * search rate-limited per client (SEARCH_LIMIT in wrangler.toml: 20 per 10 s), and
 * photos redirected to the storage node their path hashes to.
 * @param {Expect} expect
 */
async function seed001Step(expect) {
  console.log('\n6. Seed 001 on shop.localhost: rules send static and API apart, limit search per client, redirect photos to their node:');
  const host = 'shop.localhost';
  for (const [path, pool] of [['/static/app.css', 'static'], ['/api/items', 'api']]) {
    const r = await get(host, {}, path);
    console.log(`   GET ${path.padEnd(16)} -> pool ${r.pool}, ${r.origin}`);
    expect(r.pool === pool, `${path} went to pool ${r.pool}, expected ${pool}`);
  }
  // The breeder's Apache Bench: searches until refused (a 10 s window that turns over
  // meanwhile starts the count again, hence up to 45).
  const breeder = { 'x-lb-sim-ip': `198.51.100.${1 + Math.floor(Math.random() * 250)}` };
  let passed = 0;
  let refused;
  for (let i = 0; i < 45 && refused === undefined; i++) {
    const r = await get(host, breeder, `/api/search?q=dogs${i}`);
    if (r.status === 429) refused = r;
    else passed++;
  }
  console.log(`   one client, /api/search as fast as it can: ${passed} answered, then ${refused?.status} (Retry-After: ${refused?.retryAfter} s)`);
  expect(refused !== undefined && passed >= 20, `search was not limited (${passed} answered, none refused)`);
  const visitor = await get(host, { 'x-lb-sim-ip': '203.0.113.9' }, '/static/app.css');
  const neighbour = await get(host, { 'x-lb-sim-ip': '203.0.113.10' }, '/api/search?q=cats');
  console.log(`   meanwhile other clients: /static/app.css ${visitor.status} from pool ${visitor.pool}, /api/search ${neighbour.status}`);
  expect(visitor.status === 200 && neighbour.status === 200, 'the rate limit reached other clients');
  const photo = await get(host, {}, '/photos/123', 'POST');
  const again = await get(host, {}, '/photos/123', 'POST');
  console.log(`   POST /photos/123 -> ${photo.status} Location: ${photo.location} (again: ${again.location === photo.location ? 'the same node' : again.location})`);
  expect(photo.status === 307 && photo.location !== null && again.location === photo.location, `POST /photos/123 answered ${photo.status} ${photo.location}`);
}

/**
 * On the edge only: an origin given by IP address is refused by Cloudflare (error 1003)
 * before any connection, and the request fails over to the next origin. The admin API
 * said so beforehand, as a warning. The pool and its load balancer stay for curl.
 * @param {{ origins: Origin[], emulator: EdgeEmulator, scratch: string, expect: Expect }} step
 */
async function ipLiteralStep({ origins, emulator, scratch, expect }) {
  const target = origins[1];
  const pool = {
    id: 'ip-first',
    name: 'An IP address, then a name',
    origins: [
      { name: 'by-ip', address: target.url },
      { name: target.name, address: addressOf(target) },
    ],
  };
  console.log('\n7. On the edge an origin given by IP address is refused (error 1003), and the request fails over:');
  console.log(`   lbctl pool add: pool ip-first, origins by-ip ${pool.origins[0].address}, then ${target.name} ${pool.origins[1].address}`);
  const file = join(scratch, 'ip-first.json');
  writeFileSync(file, JSON.stringify(pool));
  const added = await cli(['pool', 'add', file]);
  for (const line of [added.out.trimEnd(), ...added.warnings]) console.log(`   ${line}`);
  expect(added.code === 0, `lbctl pool add exited ${added.code}`);
  expect(added.warnings.some((w) => w.startsWith('warning ip_origin ') && w.includes('.origins.0.address')), 'the admin API gave no ip_origin warning for by-ip');
  const lb = await adminApi('POST', '/load_balancers', { id: 'ip-first', hostname: 'ip.localhost', default_pools: ['ip-first'] });
  expect(lb.status === 201, `POST /load_balancers answered ${lb.status}: ${JSON.stringify(lb.json?.error ?? lb.json)}`);

  const seen = emulator.log.length;
  console.log('   a load balancer for Host ip.localhost, then four requests:');
  const replies = [];
  for (let i = 0; i < 4; i++) replies.push(await get('ip.localhost'));
  for (const r of replies) console.log(`   ${r.status} ${r.origin ?? '-'}  x-lb-attempts: ${r.attempts ?? '-'}  ${r.body.slice(0, 60)}`);
  const refused = emulator.log.slice(seen).filter((e) => new URL(e.url).hostname === '127.0.0.1');
  console.log(`   the edge refused ${refused.length} subrequest(s) to ${new URL(target.url).host} with 403 "error code: 1003"`);
  expect(replies.every((r) => r.status === 200 && r.origin === target.name), `ip.localhost was not served by ${target.name}: ${replies.map((r) => `${r.status} ${r.origin}`).join(', ')}`);
  expect(replies[0].attempts === '2', `the first request took x-lb-attempts ${replies[0].attempts}, expected 2 (the IP origin refused, then ${target.name})`);
  expect(refused.length > 0 && refused.every((e) => e.outcome === 403), 'the edge emulator did not refuse the IP-literal subrequest');
}

/**
 * The Cloudflare export of examples/, with its origins given by name on the edge (backend1.localhost).
 * @param {string} scratch
 */
function exportFile(scratch) {
  const file = join(root, 'examples', 'cloudflare-export.json');
  if (!edge) return file;
  const data = JSON.parse(readFileSync(file, 'utf8'));
  const pools = Array.isArray(data.pools) ? data.pools : (data.pools?.result ?? []);
  for (const pool of pools) {
    for (const origin of pool.origins ?? []) origin.address = `${origin.name}.${EDGE_ZONE}`;
  }
  const named = join(scratch, 'cloudflare-export.json');
  writeFileSync(named, JSON.stringify(data));
  return named;
}

/** @param {{ origins: Origin[], emulator: EdgeEmulator | undefined, scratch: string }} options */
async function tour({ origins, emulator, scratch }) {
  /** @type {string[]} */
  const problems = [];
  /** @type {Expect} */
  const expect = (ok, what) => {
    if (!ok) problems.push(what);
  };

  console.log('\n1. Round robin (Host: rr.localhost), like the seeds\' IPVS rr run:');
  const rr = [];
  for (let i = 0; i < 6; i++) rr.push(await get('rr.localhost'));
  for (const r of rr) console.log(`   ${r.origin}  ${r.body}`);
  expect(new Set(rr.map((r) => r.origin)).size === 3, 'round robin did not reach all three origins');

  console.log('\n2. Weights 2:1 over 30 requests (Host: weighted.localhost):');
  const weighted = [];
  for (let i = 0; i < 30; i++) weighted.push((await get('weighted.localhost')).origin);
  console.log(`   ${count(weighted)}`);
  expect(weighted.filter((o) => o === 'backend1').length === 20, 'weights 2:1 did not give 20/10');

  console.log('\n3. A sticky session (Host: sticky.localhost): the cookie pins the origin:');
  const first = await get('sticky.localhost');
  const cookie = first.setCookie.split(';')[0];
  const again = [];
  for (let i = 0; i < 4; i++) again.push((await get('sticky.localhost', { cookie })).origin);
  console.log(`   first: ${first.origin}, Set-Cookie: ${cookie.slice(0, 40)}…`);
  console.log(`   with the cookie: ${again.join(', ')}`);
  expect(cookie.startsWith('__lb_affinity=') && again.every((o) => o === first.origin), 'the sticky session moved');

  console.log('\n4. Geo steering (any other host), simulated clients:');
  for (const [label, headers, pool] of /** @type {[string, Record<string, string>, string][]} */ ([
    ['x-lb-sim-country: BR', { 'x-lb-sim-country': 'BR' }, 'sa'],
    ['x-lb-sim-lat/lon: Paris', { 'x-lb-sim-lat': '48.86', 'x-lb-sim-lon': '2.35' }, 'eu'],
    ['x-lb-sim-colo: ORD', { 'x-lb-sim-colo': 'ORD' }, 'us'],
  ])) {
    const r = await get('app.localhost', headers);
    console.log(`   ${label.padEnd(26)} -> PoP ${r.pop}, pool ${r.pool}: ${r.body}`);
    expect(r.pool === pool, `${label} went to ${r.pool}, expected ${pool}`);
  }

  console.log('\n5. Operating it with lbctl: drain backend1 of pool "all", then look (like ipvsadm -L -n --stats):');
  const drained = await cli(['origin', 'drain', 'all', 'backend1']);
  expect(drained.code === 0, `lbctl origin drain exited ${drained.code}`);
  const status = await cli(['status']);
  console.log(status.out.replace(/^/gm, '   ').trimEnd());
  expect(status.code === 0 && /backend1\s+\S+\s+\S+\s+drain/.test(status.out), 'lbctl status did not show backend1 draining');
  const after = [];
  for (let i = 0; i < 4; i++) after.push((await get('rr.localhost')).origin);
  console.log(`   new requests now go to: ${after.join(', ')}`);
  expect(!after.includes('backend1'), 'a drained origin still took new requests');
  expect((await cli(['origin', 'undrain', 'all', 'backend1'])).code === 0, 'lbctl origin undrain failed');

  await seed001Step(expect);
  if (emulator) await ipLiteralStep({ origins, emulator, scratch, expect });

  if (check) {
    // Last, since it replaces the demo's configuration: bring a Cloudflare export.
    const step = edge ? 8 : 7;
    const origin = edge ? ' (its origins by name: backend1.localhost…)' : '';
    console.log(`\n${step}. lbctl import-cloudflare --apply examples/cloudflare-export.json${origin}, then a client from Brazil:`);
    const imported = await cli(['import-cloudflare', exportFile(scratch), '--apply']);
    const pools = imported.code === 0 ? JSON.parse(imported.out).pools.map((/** @type {{ id: string }} */ p) => p.id) : [];
    console.log(`   pools: ${pools.join(', ')}`);
    expect(pools.includes('sa-saopaulo'), `lbctl import-cloudflare exited ${imported.code}`);
    const br = await get('app.example.com', { 'x-lb-sim-country': 'BR' });
    console.log(`   x-lb-sim-country: BR -> pool ${br.pool}: ${br.body}`);
    expect(br.pool === 'sa-saopaulo' && br.body.includes('Server 3'), `the imported geo steering sent BR to ${br.pool}`);
  }
  return problems;
}

function printCurls() {
  console.log(`
Try it yourself (Switchyard on ${base}, admin token "${token}"):

  for i in $(seq 6); do curl -s -H 'Host: rr.localhost' ${base}/; done
  for i in $(seq 30); do curl -s -o /dev/null -w '%header{x-lb-origin}\\n' -H 'Host: weighted.localhost' ${base}/; done | sort | uniq -c
  curl -si -c /tmp/lb.jar -b /tmp/lb.jar -H 'Host: sticky.localhost' ${base}/ | grep -iE 'set-cookie|x-lb-origin'
  curl -si -H 'x-lb-sim-country: BR' ${base}/ | grep -i x-lb-
  curl -si -H 'x-lb-sim-lat: 35.68' -H 'x-lb-sim-lon: 139.69' ${base}/ | grep -i x-lb-
  curl -si -H 'Host: shop.localhost' ${base}/api/search | grep -iE '^HTTP|retry-after|x-lb-pool'   # 21 times in 10 s: 429
  curl -si -X POST -H 'Host: shop.localhost' ${base}/photos/123 | grep -iE '^HTTP|location'
  curl -s -H 'Authorization: Bearer ${token}' ${base}/__lb/api/config
  LB_TOKEN=${token} npm run lbctl -- status
  LB_TOKEN=${token} npm run lbctl -- explain --host app.localhost --country BR
  LB_TOKEN=${token} npm run simulate${edge ? `\n  curl -si -H 'Host: ip.localhost' ${base}/ | grep -i x-lb-      # the IP origin, refused by the edge` : ''}

Dashboard: ${base}/__lb/ (token "${token}")

Press Ctrl-C to stop.`);
}

/**
 * Switchyard under wrangler's dev server (workerd, local KV and Durable Object kept in
 * `persist`). Wrangler's own output (banner, request log) is off; the Worker's
 * warnings and errors still reach stderr. With `emulator`, it is the Worker's
 * outbound service: every subrequest goes through it.
 * @param {{ origins: Origin[], persist: string, emulator: EdgeEmulator | undefined }} options
 */
async function startSwitchyard({ origins, persist, emulator }) {
  // wrangler's dev server waits forever for a port that is taken: say so at once.
  await new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error) =>
      reject(/** @type {NodeJS.ErrnoException} */ (error).code === 'EADDRINUSE' ? new Error(`127.0.0.1:${lbPort} is in use: stop what listens there, or set DEMO_PORT`) : error),
    );
    probe.listen(lbPort, '127.0.0.1', () => probe.close(resolve));
  });
  /** @type {NodeJS.Signals[]} */
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const worker = await startDevWorker({
    port: lbPort,
    persist,
    secrets: { ADMIN_TOKEN: token },
    vars: { LB_SIMULATION: 'on', LB_CONFIG: JSON.stringify(demoConfig(origins)), ...(emulator ? { LB_ZONES: EDGE_ZONE } : {}) },
    outboundService: emulator?.fetch,
    structuredLogsHandler: ({ level, message }) => {
      if (level === 'warn' || level === 'error') process.stderr.write(`switchyard ${level}: ${message.trimEnd()}\n`);
    },
  });
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`wrangler's dev server was not ready within 60 s`)), 60_000);
  });
  try {
    await Promise.race([worker.ready, timeout]);
  } finally {
    clearTimeout(timer);
  }
  // Miniflare's handlers kill workerd and exit at once on a signal; the demo's own
  // stop() disposes of the Worker itself, then stops the origins and removes its files.
  // (Its exit hook still kills workerd if the process ends some other way.)
  for (const [signal, listeners] of before) {
    for (const listener of process.listeners(signal)) {
      if (!listeners.has(listener)) process.off(signal, listener);
    }
  }
  return worker;
}

async function main() {
  const origins = await Promise.all(backends.map(startOrigin));
  console.log('Origins:');
  const width = Math.max(24, ...origins.map((o) => addressOf(o).length + 1));
  origins.forEach((o, i) => console.log(`   ${o.name.padEnd(9)} ${addressOf(o).padEnd(width)} ${backends[i].region}`));

  const emulator = edge ? new EdgeEmulator({ zones: [EDGE_ZONE] }) : undefined;
  if (emulator) {
    console.log(
      `Edge emulator: every subrequest of the Worker goes through it, as on Cloudflare's network: IP addresses are refused\n` +
        `   (error 1003), names under .${EDGE_ZONE} resolve to 127.0.0.1, a refused connection is a 521.`,
    );
  }

  const persist = mkdtempSync(join(tmpdir(), 'switchyard-demo-'));
  // Also when a signal during start-up ends the process before stop() can run.
  process.on('exit', () => rmSync(persist, { recursive: true, force: true }));
  /** @type {Awaited<ReturnType<typeof startSwitchyard>> | undefined} */
  let worker;
  let stopping = false;
  /** @param {number} code */
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    await Promise.race([worker?.dispose().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
    await Promise.all(origins.map((o) => o.stop()));
    rmSync(persist, { recursive: true, force: true });
    process.exit(code);
  };
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));

  try {
    worker = await startSwitchyard({ origins, persist, emulator });
    await waitForHealthz();
  } catch (error) {
    console.error(`Switchyard did not start: ${error instanceof Error ? error.message : error}`);
    return stop(1);
  }
  const problems = await tour({ origins, emulator, scratch: persist });
  if (problems.length > 0) console.error(`\nThe tour found problems:\n - ${problems.join('\n - ')}`);
  if (check) return stop(problems.length === 0 ? 0 : 1);
  printCurls();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
