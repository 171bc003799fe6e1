// A Worker on workerd itself, with a generated capnp config: what the benchmark runs
// (Miniflare, and so `wrangler dev`, put their own plumbing in front of the Worker and
// cost two thirds of the throughput) and what the tests use where that plumbing would
// hide something, such as a GET body, which workerd hands to the Worker and Miniflare
// drops. KV is a small in-memory service (workerd has no KV of its own); Durable
// Objects are workerd's, with SQLite on disk.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const WORKERD = join(root, 'node_modules/@cloudflare/workerd-linux-64/bin/workerd');
const COMPATIBILITY_DATE = '2026-08-01';

/**
 * Bundles the Worker as `wrangler deploy` would (`--dry-run` into `outdir`); returns the entry module's path.
 * @param {string} outdir
 */
export function buildSwitchyard(outdir) {
  const run = spawnSync(process.execPath, [join(root, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', outdir], { cwd: root, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${run.stderr}`);
  return join(outdir, 'index.js');
}

/**
 * A capnp string literal.
 * @param {string} value
 */
const capnpString = (value) => JSON.stringify(value);

/**
 * A free TCP port on 127.0.0.1.
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts workerd serving the module at `scriptPath` on a free loopback port, with
 * `bindings` as text vars; `switchyard` adds the SNAPSHOTS KV namespace and the
 * ControlPlane and StatsShard Durable Objects. Resolves once `ready.path` answers 2xx.
 * @param {{ dir: string, scriptPath: string, bindings: Record<string, string>, switchyard?: boolean, inspector?: number, ready?: { path: string, headers?: Record<string, string> } }} options
 * @returns {Promise<{ url: string, port: number, pid: number | undefined, stop(): void, stderr(): string }>}
 */
export async function startWorkerd({ dir, scriptPath, bindings, switchyard = false, inspector, ready = { path: '/' } }) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'worker.js'), readFileSync(scriptPath));
  writeFileSync(join(dir, 'kv.js'), KV_SERVICE);
  mkdirSync(join(dir, 'do'), { recursive: true });
  const port = await freePort();
  const textBindings = Object.entries(bindings).map(([key, value]) => {
    writeFileSync(join(dir, `var-${key}.txt`), value);
    return `(name = ${capnpString(key)}, text = embed ${capnpString(`var-${key}.txt`)})`;
  });
  const ownBindings = switchyard ? ['(name = "SNAPSHOTS", kvNamespace = (name = "kv"))', '(name = "CONTROL", durableObjectNamespace = "ControlPlane")', '(name = "STATS", durableObjectNamespace = "StatsShard")'] : [];
  writeFileSync(
    join(dir, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .main),
    (name = "kv", worker = .kv),
    (name = "internet", network = (allow = ["public", "private", "local"])),
    (name = "do-disk", disk = (path = ${capnpString(join(dir, 'do'))}, writable = true)),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const main :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js") ],
  compatibilityDate = "${COMPATIBILITY_DATE}",
  compatibilityFlags = ["nodejs_compat"],
  bindings = [ ${[...textBindings, ...ownBindings].join(', ')} ],
  ${switchyard ? DURABLE_OBJECTS : ''}
);
const kv :Workerd.Worker = (
  modules = [ (name = "kv.js", esModule = embed "kv.js") ],
  compatibilityDate = "${COMPATIBILITY_DATE}",
);
`,
  );
  const flags = inspector === undefined ? [] : ['--inspector-addr', `127.0.0.1:${inspector}`];
  const child = spawn(WORKERD, ['serve', join(dir, 'config.capnp'), '--experimental', ...flags], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const stop = () => child.kill();
  const url = `http://127.0.0.1:${port}/`;
  try {
    await waitFor(new URL(ready.path, url).href, ready.headers);
  } catch {
    stop();
    throw new Error(`workerd did not start: ${stderr.slice(0, 2000)}`);
  }
  return { url, port, pid: child.pid, stop, stderr: () => stderr };
}

/**
 * Polls `url` until it answers 2xx (10 s at most).
 * @param {string} url
 * @param {Record<string, string>} [headers]
 */
export async function waitFor(url, headers = {}) {
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(url, { headers });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not come up`);
}

const DURABLE_OBJECTS =
  'durableObjectNamespaces = [ (className = "ControlPlane", uniqueKey = "switchyard-control", enableSql = true), (className = "StatsShard", uniqueKey = "switchyard-stats", enableSql = true) ], durableObjectStorage = (localDisk = "do-disk"),';

/** The KV binding's protocol, in memory: enough for the snapshot's get and put. */
const KV_SERVICE = `const store = new Map();
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const key = decodeURIComponent(url.pathname.slice(1));
    if (request.method === 'GET') {
      const value = store.get(key);
      return value === undefined ? new Response(null, { status: 404 }) : new Response(value);
    }
    if (request.method === 'PUT') {
      store.set(key, await request.arrayBuffer());
      return new Response(null);
    }
    if (request.method === 'DELETE') {
      store.delete(key);
      return new Response(null);
    }
    return new Response(null, { status: 405 });
  },
};
`;
