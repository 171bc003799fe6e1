#!/usr/bin/env node
// The demo: three loopback origins answering like the seeds' backends, in three
// simulated regions; Switchyard under `wrangler dev` with simulation on and a demo
// configuration; a short tour of what it does, then it serves until Ctrl-C.
//
//   npm start              run the demo and keep serving
//   npm start -- --check   run the tour once and exit (non-zero if anything is off)
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Origin } from './lib/origins.mjs';
import { run as lbctl } from './lib/lbctl/run.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');
const lbPort = Number(process.env.DEMO_PORT ?? 8787);
const token = process.env.DEMO_ADMIN_TOKEN ?? 'demo-token';
const base = `http://127.0.0.1:${lbPort}`;

// Bodies as in the seeds' backends.
const backends = [
  { name: 'backend1', port: 8081, body: '<h1>Response from Backend Server 1</h1>\n', region: 'Europe (Frankfurt)' },
  { name: 'backend2', port: 8082, body: '<h2>*** Response from Backend Server 2 ***</h2>\n', region: 'North America (Ashburn)' },
  { name: 'backend3', port: 8083, body: '<h1>Response from Backend Server 3</h1>\n', region: 'South America (São Paulo)' },
];

async function startOrigin(spec) {
  try {
    return await new Origin(spec).start();
  } catch {
    // The seeds' port is taken: any free port will do.
    return new Origin({ ...spec, port: 0 }).start();
  }
}

function demoConfig(origins) {
  const [b1, b2, b3] = origins.map((o) => o.url);
  return {
    pools: [
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

async function waitForHealthz(child, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with code ${child.exitCode}`);
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

/** GET / with a Host header (fetch() may not set Host, node:http may). */
function get(host, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/`, { headers: { host, ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const h = (name) => res.headers[name] ?? null;
        resolve({
          status: res.statusCode,
          setCookie: (res.headers['set-cookie'] ?? [])[0] ?? '',
          body: Buffer.concat(chunks).toString('utf8').trim(),
          origin: h('x-lb-origin'),
          pool: h('x-lb-pool'),
          pop: h('x-lb-pop'),
        });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function count(values) {
  const counts = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return Object.entries(counts)
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');
}

async function tour() {
  const problems = [];
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
  for (const [label, headers, pool] of [
    ['x-lb-sim-country: BR', { 'x-lb-sim-country': 'BR' }, 'sa'],
    ['x-lb-sim-lat/lon: Paris', { 'x-lb-sim-lat': '48.86', 'x-lb-sim-lon': '2.35' }, 'eu'],
    ['x-lb-sim-colo: ORD', { 'x-lb-sim-colo': 'ORD' }, 'us'],
  ]) {
    const r = await get('app.localhost', headers);
    console.log(`   ${label.padEnd(26)} -> PoP ${r.pop}, pool ${r.pool}: ${r.body}`);
    expect(r.pool === pool, `${label} went to ${r.pool}, expected ${pool}`);
  }

  console.log('\n5. Operating it with lbctl: drain backend1 of pool "all", then look (like ipvsadm -L -n --stats):');
  const cli = async (...argv) => {
    let out = '';
    const stdout = { write: (chunk) => void (out += chunk) };
    const code = await lbctl(argv, { stdout, stderr: process.stderr, env: { LB_URL: base, LB_TOKEN: token, NO_COLOR: '1' } });
    return { code, out };
  };
  const drained = await cli('origin', 'drain', 'all', 'backend1');
  expect(drained.code === 0, `lbctl origin drain exited ${drained.code}`);
  const status = await cli('status');
  console.log(status.out.replace(/^/gm, '   ').trimEnd());
  expect(status.code === 0 && /backend1\s+\S+\s+\S+\s+drain/.test(status.out), 'lbctl status did not show backend1 draining');
  const after = [];
  for (let i = 0; i < 4; i++) after.push((await get('rr.localhost')).origin);
  console.log(`   new requests now go to: ${after.join(', ')}`);
  expect(!after.includes('backend1'), 'a drained origin still took new requests');
  expect((await cli('origin', 'undrain', 'all', 'backend1')).code === 0, 'lbctl origin undrain failed');

  if (check) {
    // Last, since it replaces the demo's configuration: bring a Cloudflare export.
    console.log('\n6. lbctl import-cloudflare --apply examples/cloudflare-export.json, then a client from Brazil:');
    const imported = await cli('import-cloudflare', join(root, 'examples', 'cloudflare-export.json'), '--apply');
    const pools = imported.code === 0 ? JSON.parse(imported.out).pools.map((p) => p.id) : [];
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
  curl -s -H 'Authorization: Bearer ${token}' ${base}/__lb/api/config
  LB_TOKEN=${token} npm run lbctl -- status
  LB_TOKEN=${token} npm run lbctl -- explain --host app.localhost --country BR
  LB_TOKEN=${token} npm run simulate

Dashboard: ${base}/__lb/ (token "${token}")

Press Ctrl-C to stop.`);
}

async function main() {
  const origins = await Promise.all(backends.map(startOrigin));
  console.log('Origins:');
  origins.forEach((o, i) => console.log(`   ${o.name.padEnd(9)} ${o.url.padEnd(24)} ${backends[i].region}`));

  const persist = mkdtempSync(join(tmpdir(), 'switchyard-demo-'));
  const wrangler = join(root, 'node_modules', '.bin', 'wrangler');
  const child = spawn(
    wrangler,
    [
      'dev',
      '--ip', '127.0.0.1',
      '--port', String(lbPort),
      '--persist-to', persist,
      '--show-interactive-dev-session=false',
      '--var', 'LB_SIMULATION:on',
      '--var', `ADMIN_TOKEN:${token}`,
      '--var', `LB_CONFIG:${JSON.stringify(demoConfig(origins))}`,
    ],
    { cwd: root, stdio: ['ignore', check ? 'ignore' : 'inherit', 'inherit'] },
  );

  let stopping = false;
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    child.kill('SIGINT');
    await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(origins.map((o) => o.stop()));
    rmSync(persist, { recursive: true, force: true });
    process.exit(code);
  };
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  child.on('exit', (code) => {
    if (!stopping) {
      console.error(`wrangler dev exited (${code})`);
      stop(1);
    }
  });

  await waitForHealthz(child);
  const problems = await tour();
  if (problems.length > 0) console.error(`\nThe tour found problems:\n - ${problems.join('\n - ')}`);
  if (check) return stop(problems.length === 0 ? 0 : 1);
  printCurls();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
