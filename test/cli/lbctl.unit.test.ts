// lbctl end to end in-process: run() against a small admin API stand-in on loopback
// that records each request and answers with canned JSON.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { run } from '../../scripts/lib/lbctl/run.mjs';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
interface Canned {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  hang?: boolean;
}
/** A canned answer, or one made for the request (for a sequence of answers). */
type Route = Canned | ((request: Seen) => Canned);

const TOKEN = 'test-token';
let server: Server;
let base: string;
let seen: Seen[] = [];
let routes: Record<string, Route> = {};
let dir: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(request);
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const route = routes[`${req.method} ${path}`];
      const canned = typeof route === 'function' ? route(request) : route;
      if (canned?.hang) return; // never answers: the client's timeout must fire
      const status = canned?.status ?? (canned ? 200 : 404);
      const body = canned?.body ?? { error: { code: 'not_found', message: `no route ${req.method} ${path}` } };
      res.writeHead(status, { 'content-type': 'application/json', ...canned?.headers });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), 'lbctl-test-'));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  seen = [];
  routes = {};
});

class Capture {
  text = '';
  isTTY = false;
  write(chunk: string) {
    this.text += chunk;
    return true;
  }
}

async function lbctl(argv: string[], options: { env?: Record<string, string>; stdin?: string; timeoutMs?: number; tty?: boolean } = {}) {
  const stdout = new Capture();
  const stderr = new Capture();
  stdout.isTTY = stderr.isTTY = options.tty === true;
  const code = await run(argv, {
    stdout,
    stderr,
    env: options.env ?? { LB_URL: base, LB_TOKEN: TOKEN },
    stdin: Readable.from([options.stdin ?? '']),
    timeoutMs: options.timeoutMs,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const CONFIG = {
  pools: [
    { id: 'eu', name: 'Europe', minimum_origins: 1, origin_steering: { policy: 'round_robin' }, origins: [{ name: 'backend1', address: 'http://127.0.0.1:8081', weight: 1, enabled: true, drain: false, backup: false }] },
  ],
  load_balancers: [{ id: 'geo', hostname: '*', default_pools: ['eu'] }],
};

function file(name: string, content: string) {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('lbctl against an admin API', () => {
  it('status: reads config, health, stats and pops with the bearer token; a missing /stats shows "-"', async () => {
    routes['GET /__lb/api/config'] = { body: { version: 3, config: CONFIG } };
    routes['GET /__lb/api/health'] = {
      body: {
        pools: [{ id: 'eu', healthy: true, healthy_origins: 1, minimum_origins: 1 }],
        origins: [{ pool: 'eu', origin: 'backend1', healthy: true, state: 'healthy', consecutive_up: 2, consecutive_down: 0, last_check_at: null, rtt_ms: null, reason: null }],
      },
    };
    routes['GET /__lb/api/pops'] = { body: { pops: [{ colo: 'FRA', city: 'Frankfurt', country: 'DE', region: 'WEU', withdrawn: true }, { colo: 'ORD', withdrawn: false }] } };

    const { code, stdout, stderr } = await lbctl(['status']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe(
      [
        `Switchyard ${base}  configuration version 3: 1 pool, 1 load balancer`,
        '  ORIGIN    ADDRESS                WEIGHT  STATE   HEALTH   REQUESTS',
        'Pool eu (Europe)  healthy 1/1  policy round_robin',
        '  backend1  http://127.0.0.1:8081       1  active  healthy         -',
        'PoPs withdrawn: 1 of 2 (FRA)',
        '',
      ].join('\n'),
    );
    expect(seen.map((r) => `${r.method} ${r.url}`).sort()).toEqual([
      'GET /__lb/api/config',
      'GET /__lb/api/health',
      'GET /__lb/api/pops',
      'GET /__lb/api/stats',
    ]);
    for (const r of seen) {
      expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(r.headers['content-type']).toBeUndefined();
    }
  });

  it('config get prints only the configuration, so it can be saved and put back', async () => {
    routes['GET /__lb/api/config'] = { body: { version: 3, config: CONFIG } };
    const { code, stdout } = await lbctl(['config', 'get']);
    expect(code).toBe(0);
    expect(stdout).toBe(`${JSON.stringify(CONFIG, null, 2)}\n`);
  });

  it('config put sends the file as JSON with If-Match', async () => {
    routes['PUT /__lb/api/config'] = { body: { version: 6 } };
    const content = JSON.stringify(CONFIG);
    const { code, stdout } = await lbctl(['config', 'put', file('cfg.json', content), '--if-match', '5']);
    expect(code).toBe(0);
    expect(stdout).toBe('configuration stored: version 6\n');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'PUT', url: '/__lb/api/config', body: content });
    expect(seen[0].headers['content-type']).toBe('application/json');
    expect(seen[0].headers['if-match']).toBe('"5"');
    expect(seen[0].headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('config put - reads stdin', async () => {
    routes['PUT /__lb/api/config'] = { body: { version: 2 } };
    const { code, stdout } = await lbctl(['config', 'put', '-'], { env: { LB_URL: base, LB_TOKEN: TOKEN }, stdin: '{"pools":[]}' });
    expect(code).toBe(0);
    expect(stdout).toBe('configuration stored: version 2\n');
    expect(seen[0].body).toBe('{"pools":[]}');
    expect(seen[0].headers['if-match']).toBeUndefined();
  });

  it('config put --dry-run asks for a dry run and shows the changes, who moves and the sessions that leave', async () => {
    const move = (client: string, colo: string, before: string, after: string) => ({
      client,
      country: 'JP',
      colo,
      population: 1,
      before: { pool: 'eu', origin: before },
      after: { pool: 'eu', origin: after },
    });
    routes['PUT /__lb/api/config'] = {
      body: {
        version: 4,
        diff: { added: ['pool ap'], removed: [], changed: [{ resource: 'origin eu/backend1', fields: [{ field: 'enabled', before: true, after: false }] }] },
        warnings: [],
        impact: {
          sample: { clients: 300, population: 2_100_000_000, description: '' },
          load_balancers: [
            {
              id: 'main',
              hostname: 'app.example',
              change: 'changed',
              before: null,
              after: null,
              moved: { clients: 3, population: 45_000_000 },
              moves: [move('Tokyo, JP', 'NRT', 'backend1', 'backend2'), move('Osaka, JP', 'KIX', 'backend1', 'backend2')],
              sessions: { pinned: 300, leaving: 3, by_origin: { 'eu/backend1': 3 } },
            },
            { id: 'api', hostname: 'api.example', change: 'unchanged', before: null, after: null, moved: { clients: 0, population: 0 }, moves: [], sessions: null },
          ],
        },
      },
    };
    const { code, stdout } = await lbctl(['config', 'put', file('dry.json', JSON.stringify(CONFIG)), '--dry-run']);
    expect(code).toBe(0);
    expect(seen[0]).toMatchObject({ method: 'PUT', url: '/__lb/api/config?dry_run=true' });
    expect(stdout).toBe(
      [
        'dry run against version 4: nothing stored',
        '  + pool ap',
        '  ~ origin eu/backend1: enabled true -> false',
        'impact on 300 sample clients (2.1 bn people):',
        '  load balancer main (app.example): 3 clients move (45.0 M people)',
        '    Tokyo, JP (NRT)  eu/backend1  ->  eu/backend2',
        '    Osaka, JP (KIX)  eu/backend1  ->  eu/backend2',
        '    and 1 more',
        '    pinned sessions: 3 of 300 would leave their origin (eu/backend1 3)',
        '  load balancer api (api.example): unchanged',
        '',
      ].join('\n'),
    );
  });

  it('origin commands send the PATCH, POST and DELETE bodies', async () => {
    routes['PATCH /__lb/api/pools/eu/origins/backend1'] = { body: { version: 8, origin: {} } };
    routes['POST /__lb/api/pools/eu/origins'] = { body: { version: 9, origin: {} } };
    routes['DELETE /__lb/api/pools/eu/origins/b4'] = { body: { version: 10 } };

    expect(await lbctl(['origin', 'weight', 'eu', 'backend1', '3', '--if-match', '"7"'])).toEqual({
      code: 0,
      stdout: 'origin eu/backend1 weight 3: version 8\n',
      stderr: '',
    });
    expect((await lbctl(['origin', 'drain', 'eu', 'backend1'])).stdout).toBe('origin eu/backend1 draining: version 8\n');
    expect((await lbctl(['origin', 'add', 'eu', 'b4', 'http://10.0.0.4', '--backup'])).stdout).toBe('origin eu/b4 added: version 9\n');
    expect((await lbctl(['origin', 'rm', 'eu', 'b4'])).stdout).toBe('origin eu/b4 removed: version 10\n');

    expect(seen.map((r) => [r.method, r.url, r.body, r.headers['if-match'], r.headers['content-type']])).toEqual([
      ['PATCH', '/__lb/api/pools/eu/origins/backend1', '{"weight":3}', '"7"', 'application/json'],
      ['PATCH', '/__lb/api/pools/eu/origins/backend1', '{"drain":true}', undefined, 'application/json'],
      ['POST', '/__lb/api/pools/eu/origins', '{"name":"b4","address":"http://10.0.0.4","backup":true}', undefined, 'application/json'],
      ['DELETE', '/__lb/api/pools/eu/origins/b4', '', undefined, undefined],
    ]);
  });

  it('explain and events pass their options as the query', async () => {
    routes['GET /__lb/api/explain'] = { body: { facts: {}, load_balancer: null, pools: [], candidates: [{ pool: 'sa', origin: 'b3', address: 'http://x' }], trace: ['t'] } };
    routes['GET /__lb/api/events'] = { body: { events: [] } };
    expect((await lbctl(['explain', '--country', 'BR', '--lat', '-23.5', '--lon', '-46.6'])).code).toBe(0);
    expect((await lbctl(['events', '--limit', '5', '--kind', 'health'])).stdout).toBe('no events\n');
    expect(seen.map((r) => r.url)).toEqual([
      '/__lb/api/explain?country=BR&lat=-23.5&lon=-46.6',
      '/__lb/api/events?limit=5&kind=health',
    ]);
  });

  it('import-cloudflare: the config on stdout, unmapped notes and the stored version on stderr', async () => {
    routes['POST /__lb/api/import/cloudflare'] = {
      body: { config: CONFIG, unmapped: [{ path: 'pools.0.notification_email', message: 'no notifications' }], version: 4 },
    };
    const { code, stdout, stderr } = await lbctl(['import-cloudflare', file('cf.json', '{"result":[]}'), '--apply']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(CONFIG);
    expect(stderr).toBe('unmapped: pools.0.notification_email: no notifications\nconfiguration stored: version 4\n');
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/__lb/api/import/cloudflare?apply=true', body: '{"result":[]}' });
  });

  it('--json prints the response as JSON', async () => {
    const body = { version: 3, config: CONFIG };
    routes['GET /__lb/api/config'] = { body };
    const { code, stdout } = await lbctl(['config', 'get', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(body);

    routes['GET /__lb/api/pops'] = { body: { pops: [{ colo: 'FRA', withdrawn: true }] } };
    expect(JSON.parse((await lbctl(['--json', 'pop', 'list'])).stdout)).toEqual({ pops: [{ colo: 'FRA', withdrawn: true }] });
  });

  it('exits 1 and prints code, message and issues when the server refuses', async () => {
    routes['PUT /__lb/api/config'] = {
      status: 400,
      body: {
        error: {
          code: 'invalid_config',
          message: 'the document is not a valid configuration',
          issues: [{ path: 'pools.0.origins.1.weight', message: 'Too small: expected number to be >=0' }],
        },
      },
    };
    const { code, stdout, stderr } = await lbctl(['config', 'put', file('bad.json', '{"pools":[]}')]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'lbctl: invalid_config: the document is not a valid configuration\n  pools.0.origins.1.weight: Too small: expected number to be >=0\n',
    );
  });

  it('exits 1 on a refused token, even for status', async () => {
    routes['GET /__lb/api/config'] = { status: 401, body: { error: { code: 'unauthorized', message: 'missing or wrong bearer token' } } };
    const { code, stderr } = await lbctl(['status']);
    expect(code).toBe(1);
    expect(stderr).toContain('lbctl: unauthorized: missing or wrong bearer token\n');
  });

  it('exits 3 when nothing listens on the port', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));

    const { code, stdout, stderr } = await lbctl(['status', '--url', url, '--token', TOKEN], { env: {} });
    expect(code).toBe(3);
    expect(stdout).toBe('');
    expect(stderr).toMatch(new RegExp(`^lbctl: cannot reach ${url}: .*ECONNREFUSED.*; is the demo running \\(npm start\\)\\?\\n$`));
  });

  it('exits 3 when the server does not answer in time', async () => {
    routes['GET /__lb/api/health'] = { hang: true };
    const { code, stderr } = await lbctl(['health'], { env: { LB_URL: base, LB_TOKEN: TOKEN }, timeoutMs: 200 });
    expect(code).toBe(3);
    expect(stderr).toContain(`cannot reach ${base}: no answer within 0.2 s`);
  });

  it('exits 2 without a token, saying how to set it', async () => {
    const { code, stderr } = await lbctl(['status'], { env: { LB_URL: base } });
    expect(code).toBe(2);
    expect(stderr).toContain('set LB_TOKEN or pass --token');
    expect(stderr).toContain('export LB_TOKEN=demo-token');
    expect(seen).toEqual([]);
  });

  it('exits 2 with the usage line on a usage error, before any request', async () => {
    const { code, stderr } = await lbctl(['origin', 'weight', 'eu']);
    expect(code).toBe(2);
    expect(stderr).toBe('lbctl: origin weight: missing <name> <weight>\nusage: lbctl origin weight <pool> <name> <N> [--if-match N]\n');
    expect((await lbctl(['config', 'put', join(dir, 'missing.json')])).stderr).toContain('cannot read');
    expect((await lbctl(['pool', 'add', file('not-json.json', '{pool')])).code).toBe(2);
    expect(seen).toEqual([]);
  });

  it('prints help on --help and exits 0', async () => {
    const { code, stdout } = await lbctl(['--help'], { env: {} });
    expect(code).toBe(0);
    expect(stdout).toContain('usage: lbctl <command>');
  });

  it('runs as a program: node scripts/lbctl.mjs status --url … --token …', async () => {
    routes['GET /__lb/api/config'] = { body: { version: 1, config: CONFIG } };
    const script = fileURLToPath(new URL('../../scripts/lbctl.mjs', import.meta.url));
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [script, 'status', '--url', base, '--token', TOKEN], (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
      );
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Pool eu (Europe)  health unknown  policy round_robin');

    const usage = await new Promise<number>((resolve) => {
      execFile(process.execPath, [script, 'nope'], (error) => resolve(error ? Number(error.code) : 0));
    });
    expect(usage).toBe(2);
  });
});

describe('lbctl and the warnings of an answer', () => {
  // SPEC §7: valid here, but will not work on Cloudflare's edge. Never a refusal.
  const IP = {
    path: 'pools.0.origins.0.address',
    code: 'ip_origin',
    message: '127.0.0.1 is an IP address: Cloudflare refuses a Worker\'s subrequest to an IP (error 1003)',
  };
  const HOST = { path: 'load_balancers.0.preserve_host', code: 'host_override', message: 'preserve_host sends any client Host to pool eu origin backend1' };
  const LINES = `warning ip_origin pools.0.origins.0.address: ${IP.message}\nwarning host_override load_balancers.0.preserve_host: ${HOST.message}\n`;

  /** Runs a command against an answer first without warnings, then with them: stdout and the exit code must not move. */
  async function withAndWithout(argv: string[], route: string, body: Record<string, unknown>, options: Parameters<typeof lbctl>[1] = {}) {
    routes[route] = { body: { ...body, warnings: [] } };
    const plain = await lbctl(argv, options);
    routes[route] = { body: { ...body, warnings: [IP, HOST] } };
    const warned = await lbctl(argv, options);
    expect(warned.code).toBe(plain.code);
    expect(warned.stdout).toBe(plain.stdout);
    return { plain, warned };
  }

  it('config get: the configuration alone on stdout, the warnings on stderr', async () => {
    const { plain, warned } = await withAndWithout(['config', 'get'], 'GET /__lb/api/config', { version: 3, config: CONFIG });
    expect(plain).toEqual({ code: 0, stdout: `${JSON.stringify(CONFIG, null, 2)}\n`, stderr: '' });
    expect(warned.stderr).toBe(LINES);
  });

  it('config put: stored (exit 0), then the warnings', async () => {
    const cfg = file('warned.json', JSON.stringify(CONFIG));
    const { plain, warned } = await withAndWithout(['config', 'put', cfg], 'PUT /__lb/api/config', { version: 7 });
    expect(plain).toEqual({ code: 0, stdout: 'configuration stored: version 7\n', stderr: '' });
    expect(warned.stderr).toBe(LINES);
  });

  it('pool and origin commands: the resource answers carry them too', async () => {
    const pool = file('pool.json', JSON.stringify(CONFIG.pools[0]));
    const added = await withAndWithout(['pool', 'add', pool], 'POST /__lb/api/pools', { version: 4, pool: CONFIG.pools[0] });
    expect(added.warned.stdout).toBe('pool eu added: version 4\n');
    expect(added.warned.stderr).toBe(LINES);

    const got = await withAndWithout(['pool', 'get', 'eu'], 'GET /__lb/api/pools/eu', { pool: CONFIG.pools[0] });
    expect(got.warned.stdout).toBe(`${JSON.stringify(CONFIG.pools[0], null, 2)}\n`);
    expect(got.warned.stderr).toBe(LINES);

    const origin = await withAndWithout(['origin', 'add', 'eu', 'b2', 'http://127.0.0.1:8082'], 'POST /__lb/api/pools/eu/origins', { version: 5, origin: {} });
    expect(origin.warned.stdout).toBe('origin eu/b2 added: version 5\n');
    expect(origin.warned.stderr).toBe(LINES);

    const drained = await withAndWithout(['origin', 'drain', 'eu', 'backend1'], 'PATCH /__lb/api/pools/eu/origins/backend1', { version: 6, origin: {} });
    expect(drained.warned.stderr).toBe(LINES);
  });

  it('status: the view on stdout as before, the configuration\'s warnings on stderr', async () => {
    const { plain, warned } = await withAndWithout(['status'], 'GET /__lb/api/config', { version: 3, config: CONFIG });
    expect(plain.stdout).toContain('Pool eu (Europe)');
    expect(plain.stderr).toBe('');
    expect(warned.stderr).toBe(LINES);
  });

  it('import-cloudflare: after the unmapped notes and the stored version', async () => {
    const { warned } = await withAndWithout(['import-cloudflare', file('cf2.json', '{}'), '--apply'], 'POST /__lb/api/import/cloudflare', {
      config: CONFIG,
      unmapped: [{ path: 'pools.0.notification_email', message: 'no notifications' }],
      version: 4,
    });
    expect(JSON.parse(warned.stdout)).toEqual(CONFIG);
    expect(warned.stderr).toBe(`unmapped: pools.0.notification_email: no notifications\nconfiguration stored: version 4\n${LINES}`);
  });

  it('--json: stdout is the answer as it came (warnings included), stderr says them too', async () => {
    const body = { version: 3, config: CONFIG, warnings: [IP, HOST] };
    routes['GET /__lb/api/config'] = { body };
    const { code, stdout, stderr } = await lbctl(['config', 'get', '--json']);
    expect(code).toBe(0);
    expect(stdout).toBe(`${JSON.stringify(body, null, 2)}\n`);
    expect(stderr).toBe(LINES);
  });

  it('colours "warning" on a terminal, not with NO_COLOR', async () => {
    routes['GET /__lb/api/config'] = { body: { version: 3, config: CONFIG, warnings: [IP] } };
    const tty = await lbctl(['config', 'get'], { tty: true });
    expect(tty.stderr).toBe(`\x1b[33mwarning\x1b[39m ip_origin ${IP.path}: ${IP.message}\n`);
    const noColor = await lbctl(['config', 'get'], { tty: true, env: { LB_URL: base, LB_TOKEN: TOKEN, NO_COLOR: '1' } });
    expect(noColor.stderr).toBe(`warning ip_origin ${IP.path}: ${IP.message}\n`);
  });

  it('a refused call shows the error only', async () => {
    routes['PUT /__lb/api/config'] = { status: 412, body: { error: { code: 'version_mismatch', message: 'stale' }, warnings: [IP] } };
    const { code, stdout, stderr } = await lbctl(['config', 'put', file('stale.json', '{}'), '--if-match', '1']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).not.toContain('warning');
  });
});

describe('lbctl rule commands against an admin API', () => {
  const RULES = [
    { name: 'api', priority: 5, disabled: false, terminates: false, condition: 'http.request.uri.path wildcard "/api/*"', fixed_response: null, overrides: { default_pools: ['us'] } },
    { name: 'down', priority: 0, disabled: true, terminates: true, condition: 'http.request.uri.path eq "/down"', fixed_response: { status_code: 503, message_body: '' }, overrides: {} },
  ];
  const LB = { id: 'main', hostname: 'app.example', default_pools: ['eu'], rules: RULES };
  const ROUTE = '/__lb/api/load_balancers/main';
  const PUT = (r: Seen) => r.method === 'PUT';
  const IP = { path: 'pools.0.origins.0.address', code: 'ip_origin', message: '127.0.0.1 is an IP address' };

  /** GET answers the load balancer as it is now, with its resource ETag; PUT stores what it is sent if If-Match holds. */
  function loadBalancerRoutes(initial: object, { stale = 0 } = {}) {
    let current: any = initial;
    let tag = 1;
    let staleLeft = stale;
    const etag = () => `"r${String(tag).padStart(16, '0')}"`;
    routes[`GET ${ROUTE}`] = () => ({ body: { version: 10 + tag, load_balancer: current, warnings: [IP] }, headers: { etag: etag() } });
    routes[`PUT ${ROUTE}`] = (r) => {
      if (staleLeft > 0) {
        // Someone else's change lands between lbctl's read and its write.
        staleLeft--;
        tag++;
        current = { ...current, rules: [...(current.rules ?? []), { name: `other${tag}`, condition: 'http.host eq "x"' }] };
        return { status: 412, body: { error: { code: 'version_mismatch', message: `If-Match ${r.headers['if-match']} does not match the current load balancer` } } };
      }
      if (r.headers['if-match'] !== etag()) return { status: 412, body: { error: { code: 'version_mismatch', message: 'stale' } } };
      current = JSON.parse(r.body);
      tag++;
      return { body: { version: 10 + tag, load_balancer: current, warnings: [] }, headers: { etag: etag() } };
    };
    return () => current;
  }

  it('rule list: the rules in the order they are tried', async () => {
    routes[`GET ${ROUTE}`] = { body: { version: 4, load_balancer: LB, warnings: [] } };
    const { code, stdout, stderr } = await lbctl(['rule', 'list', 'main']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe(
      [
        'PRIORITY  NAME  STATE     TERMINATES  ACTION            CONDITION',
        '       0  down  disabled  yes         fixed 503         http.request.uri.path eq "/down"',
        '       5  api   enabled   no          default_pools=us  http.request.uri.path wildcard "/api/*"',
        '',
      ].join('\n'),
    );
    const listed = JSON.parse((await lbctl(['rule', 'list', 'main', '--json'])).stdout);
    expect(listed).toEqual({ version: 4, load_balancer: 'main', rules: RULES });
  });

  it('rule add: reads the load balancer, writes it back with the rule and the ETag it read', async () => {
    const stored = loadBalancerRoutes(LB);
    const { code, stdout, stderr } = await lbctl([
      'rule', 'add', 'main', '--name', 'search', '--condition', 'http.request.uri.path eq "/search"', '--priority', '1',
      '--override-json', '{"origin_steering":{"policy":"hash","hash_key":"path"}}', '--fallback-pool', 'us',
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe('rule search added to load balancer main: version 12\n');
    expect(seen.map((r) => [r.method, r.url, r.headers['if-match']])).toEqual([
      ['GET', ROUTE, undefined],
      ['PUT', ROUTE, `"r${'1'.padStart(16, '0')}"`],
    ]);
    expect(stored().rules).toEqual([
      ...RULES,
      { name: 'search', priority: 1, condition: 'http.request.uri.path eq "/search"', overrides: { origin_steering: { policy: 'hash', hash_key: 'path' }, fallback_pool: 'us' } },
    ]);
  });

  it('rule add: a change made in between is kept: read again, the rule added to it', async () => {
    const stored = loadBalancerRoutes(LB, { stale: 1 });
    const { code, stdout } = await lbctl(['rule', 'add', 'main', '--name', 'late', '--condition', 'http.host eq "late"']);
    expect(code).toBe(0);
    expect(stdout).toBe('rule late added to load balancer main: version 13\n');
    expect(seen.map((r) => r.method)).toEqual(['GET', 'PUT', 'GET', 'PUT']);
    expect(stored().rules.map((r: { name: string }) => r.name)).toEqual(['api', 'down', 'other2', 'late']);
  });

  it('rule add: gives up after three changes in between, saying so', async () => {
    loadBalancerRoutes(LB, { stale: 5 });
    const { code, stdout, stderr } = await lbctl(['rule', 'add', 'main', '--name', 'late', '--condition', 'http.host eq "late"']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(seen.filter(PUT)).toHaveLength(3);
    expect(stderr).toMatch(/^lbctl: version_mismatch: If-Match "r0+3" does not match the current load balancer\nhint: it changed 3 times while lbctl was changing it; run the command again\n$/);
  });

  it('rule add --if-match: the operator\'s version, and a stale one is refused, not retried', async () => {
    loadBalancerRoutes(LB);
    const { code, stderr } = await lbctl(['rule', 'add', 'main', '--name', 'x', '--condition', 'http.host eq "x"', '--if-match', '3']);
    expect(code).toBe(1);
    expect(seen.filter(PUT).map((r) => r.headers['if-match'])).toEqual(['"3"']);
    expect(stderr).toContain('lbctl: version_mismatch: stale\nhint: the configuration changed since you read it');
  });

  it('rule add: the API\'s refusal printed as lbctl prints every one, issues and all', async () => {
    routes[`GET ${ROUTE}`] = { body: { version: 4, load_balancer: LB } };
    routes[`PUT ${ROUTE}`] = {
      status: 400,
      body: {
        error: {
          code: 'invalid_config',
          message: 'the load balancer is not valid',
          issues: [{ path: 'rules.2.condition', message: 'expected an operator after http.host (column 11)' }],
        },
      },
    };
    const { code, stdout, stderr } = await lbctl(['rule', 'add', 'main', '--name', 'bad', '--condition', 'http.host']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe('lbctl: invalid_config: the load balancer is not valid\n  rules.2.condition: expected an operator after http.host (column 11)\n');
  });

  it('rule add: a name already there is refused before anything is written', async () => {
    loadBalancerRoutes(LB);
    const { code, stderr } = await lbctl(['rule', 'add', 'main', '--name', 'api', '--condition', 'http.host eq "x"']);
    expect(code).toBe(1);
    expect(stderr).toBe('lbctl: already_exists: load balancer main already has a rule "api"; remove it first (lbctl rule rm main api)\n');
    expect(seen.filter(PUT)).toEqual([]);
  });

  it('rule add on a load balancer that does not exist: the GET\'s 404', async () => {
    const { code, stderr } = await lbctl(['rule', 'add', 'nope', '--name', 'a', '--condition', 'http.host eq "x"']);
    expect(code).toBe(1);
    expect(stderr).toBe('lbctl: not_found: no route GET /__lb/api/load_balancers/nope\n');
  });

  it('rule rm: writes the load balancer back without the rule; the warnings are those of the change', async () => {
    const stored = loadBalancerRoutes(LB);
    const { code, stdout, stderr } = await lbctl(['rule', 'rm', 'main', 'down']);
    expect(code).toBe(0);
    expect(stdout).toBe('rule down removed from load balancer main: version 12\n');
    // The read's warnings describe the configuration before the change: not said.
    expect(stderr).toBe('');
    expect(stored().rules).toEqual([RULES[0]]);

    const missing = await lbctl(['rule', 'rm', 'main', 'down']);
    expect(missing).toEqual({ code: 1, stdout: '', stderr: 'lbctl: not_found: load balancer main has no rule "down"; its rules: "api"\n' });
  });

  it('rule rm --json prints the answer to the change', async () => {
    loadBalancerRoutes(LB);
    const { stdout } = await lbctl(['rule', 'rm', 'main', 'api', '--json']);
    expect(JSON.parse(stdout)).toMatchObject({ version: 12, load_balancer: { id: 'main', rules: [RULES[1]] } });
  });

  it('rule test: asks explain with method, headers and facts, and says which rules matched and what was decided', async () => {
    routes['GET /__lb/api/explain'] = {
      body: {
        request: { method: 'POST', url: 'http://app.example/api/search' },
        load_balancer: { id: 'main', hostname: 'app.example', steering_policy: '', policy: 'off' },
        pools: [{ id: 'us', verdict: 'eligible' }],
        fallback_used: false,
        candidates: [
          { pool: 'us', origin: 'us1', address: 'http://us1.example.net', weight: 1, drain: false, backup: false },
          { pool: 'us', origin: 'us2', address: 'http://us2.example.net', weight: 1, drain: false, backup: false },
        ],
        affinity: { mode: 'none', outcome: 'off', pin: null },
        rules: ['api'],
        fixed_response: null,
        trace: ['load balancer main (hostname app.example) for host app.example', 'rule down: no match', 'rule api: matched; overrides default_pools', 'steering off: [us]'],
      },
    };
    const { code, stdout } = await lbctl([
      'rule', 'test', 'app.example', '/api/search', '--method', 'post', '--header', 'x-user: alice', '--header', 'x-env:prod', '--country', 'de', '--ip', '203.0.113.9',
    ]);
    expect(code).toBe(0);
    const url = new URL(seen[0].url, 'http://x');
    expect(url.pathname).toBe('/__lb/api/explain');
    expect([...url.searchParams]).toEqual([
      ['host', 'app.example'],
      ['path', '/api/search'],
      ['method', 'POST'],
      ['header', 'x-user: alice'],
      ['header', 'x-env:prod'],
      ['country', 'DE'],
      ['ip', '203.0.113.9'],
    ]);
    expect(stdout).toBe(
      [
        'POST http://app.example/api/search: load balancer main (hostname app.example)',
        '  rule down: no match',
        '  rule api: matched; overrides default_pools',
        'matched: api',
        'pools: us eligible',
        'decision: pool us, origin us1 (http://us1.example.net)',
        '  then us/us2',
        '',
      ].join('\n'),
    );
  });
});
