// npm run preflight: the check on sample configurations and temporary wrangler.toml
// files, then the command line end to end (file, stdin, the admin API, exit codes).
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { preflight, type DeploySettings } from '../../scripts/lib/preflight/check';
import { readDeploySettings } from '../../scripts/lib/preflight/load.mjs';
import { run } from '../../scripts/lib/preflight/run.mjs';
import type { ConfigInput } from '../../src/config/schema';
import { loadBalancer, origin, pool } from '../support/configs';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-preflight-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A wrangler.toml as a deploy would have it, with `extra` TOML appended and `vars` replacing the [vars] table. */
function wranglerToml(name: string, { vars = {}, extra = '', kvId = '0f2ac74b498b48028cb68387c421e279' }: { vars?: Record<string, string>; extra?: string; kvId?: string } = {}): string {
  const path = join(dir, name);
  const varLines = Object.entries(vars).map(([key, value]) => `${key} = ${JSON.stringify(value)}`);
  writeFileSync(
    path,
    [
      'name = "switchyard"',
      'main = "src/index.ts"',
      'compatibility_date = "2026-08-01"',
      'routes = [{ pattern = "app.example.com/*", zone_name = "example.com" }, { pattern = "lb-admin.example.com/*", zone_name = "example.com" }]',
      '',
      '[[kv_namespaces]]',
      'binding = "SNAPSHOTS"',
      `id = "${kvId}"`,
      '',
      '[[durable_objects.bindings]]',
      'name = "CONTROL"',
      'class_name = "ControlPlane"',
      '',
      extra,
      '',
      '[vars]',
      ...varLines,
      '',
    ].join('\n'),
  );
  return path;
}

const READY_VARS = { LB_SIMULATION: 'off', ADMIN_HOSTNAME: 'lb-admin.example.com', LB_ZONES: 'example.com' };
const VPC = '[[vpc_services]]\nbinding = "PRIVATE_API"\nservice_id = "0199aaaa"\n\n[[vpc_networks]]\nbinding = "OFFICE"\nnetwork_id = "0199bbbb"\n\n[[services]]\nbinding = "OTHER"\nservice = "other-worker"';

const cleanConfig = (): ConfigInput => ({
  pools: [pool('eu', [origin('e1', { address: 'https://e1.example.com' }), origin('p1', { address: 'http://10.1.0.1:8080', network: 'PRIVATE_API' })])],
  load_balancers: [loadBalancer({ hostname: 'app.example.com', default_pools: ['eu'] })],
});

const rows = (report: ReturnType<typeof preflight>) => report.findings.map((f) => `${f.source} ${f.path} ${f.code} ${f.severity}`);

// Loading wrangler's config reader and bundling the check take a few seconds on a busy machine.
const SLOW = { timeout: 30_000 };

describe('preflight: wrangler.toml', SLOW, () => {
  it('reads bindings, vars and routes as wrangler resolves them', async () => {
    const deploy = await readDeploySettings(wranglerToml('read.toml', { vars: READY_VARS, extra: VPC }), undefined);
    expect(deploy.file).toBe('read.toml');
    expect(deploy.vars).toMatchObject(READY_VARS);
    expect([...deploy.vpc_services!, ...deploy.vpc_networks!, ...deploy.services!].map((b) => b.binding)).toEqual(['PRIVATE_API', 'OFFICE', 'OTHER']);
    expect(deploy.kv_namespaces).toEqual([expect.objectContaining({ binding: 'SNAPSHOTS' })]);
  });

  it("reads the project's own Rate Limiting binding with its period", async () => {
    const deploy = await readDeploySettings(join(import.meta.dirname, '../../wrangler.toml'), undefined);
    expect(deploy.ratelimits).toEqual([expect.objectContaining({ name: 'SEARCH_LIMIT', simple: { limit: 20, period: 10 } })]);
  });

  it('passes a ready deployment and a clean configuration: no findings, exit 0', async () => {
    const deploy = await readDeploySettings(wranglerToml('ready.toml', { vars: READY_VARS, extra: VPC }), undefined);
    const report = preflight(deploy, [{ label: 'config.json', document: cleanConfig() }]);
    expect(report.findings).toEqual([]);
    expect(report.exitCode).toBe(0);
    expect(report.checked).toEqual(['ready.toml', 'config.json']);
  });

  it('fails the shipped placeholders: the KV namespace id and no ADMIN_HOSTNAME', async () => {
    const deploy = await readDeploySettings(wranglerToml('shipped.toml', { kvId: 'switchyard-snapshots', vars: { LB_SIMULATION: 'off' } }), undefined);
    const report = preflight(deploy, []);
    expect(rows(report)).toEqual([
      'shipped.toml kv_namespaces.0.id kv_placeholder error',
      'shipped.toml vars.ADMIN_HOSTNAME no_admin_hostname error',
    ]);
    expect(report.findings[0]!.message).toContain('npx wrangler kv namespace create SNAPSHOTS');
    expect(report.exitCode).toBe(1);
  });

  it('warns about simulation on and an admin host no route reaches, without failing', () => {
    const deploy: DeploySettings = {
      file: 'w.toml',
      vars: { ...READY_VARS, LB_SIMULATION: 'ON', ADMIN_HOSTNAME: 'admin.example.org' },
      kv_namespaces: [{ binding: 'SNAPSHOTS', id: 'abc' }],
      routes: ['app.example.com/*', { pattern: '*.shop.example.com/*', zone_name: 'example.com' }],
    };
    const report = preflight(deploy, []);
    expect(rows(report)).toEqual(['w.toml vars.LB_SIMULATION simulation_on warning', 'w.toml vars.ADMIN_HOSTNAME admin_not_routed warning']);
    expect(report.exitCode).toBe(0);
    expect(preflight({ ...deploy, vars: { ...deploy.vars, LB_SIMULATION: 'off', ADMIN_HOSTNAME: 'lb.shop.example.com' } }, []).findings).toEqual([]);
  });

  it('refuses a deployment without the SNAPSHOTS namespace', () => {
    expect(rows(preflight({ file: 'w.toml', vars: READY_VARS }, []))).toEqual(['w.toml kv_namespaces missing_kv error']);
  });

  it('checks one wrangler environment with --env, whose vars and bindings are its own', async () => {
    const path = wranglerToml('envs.toml', { vars: READY_VARS, extra: VPC });
    appendFileSync(path, '\n[env.staging]\nname = "switchyard-staging"\n[env.staging.vars]\nLB_SIMULATION = "on"\n');
    const deploy = await readDeploySettings(path, 'staging');
    expect(deploy.file).toBe('envs.toml [env.staging]');
    expect(rows(preflight(deploy, []))).toEqual([
      'envs.toml [env.staging] kv_namespaces missing_kv error',
      'envs.toml [env.staging] vars.LB_SIMULATION simulation_on warning',
      'envs.toml [env.staging] vars.ADMIN_HOSTNAME no_admin_hostname error',
    ]);
  });
});

describe('preflight: the configuration', () => {
  const ready: DeploySettings = {
    file: 'wrangler.toml',
    vars: READY_VARS,
    kv_namespaces: [{ binding: 'SNAPSHOTS', id: 'abc' }],
    vpc_networks: [{ binding: 'OFFICE' }],
    services: [{ binding: 'OTHER' }],
    routes: [{ pattern: 'app.example.com/*', zone_name: 'example.com' }, 'lb-admin.example.com/*'],
  };

  it("fails a rate limit naming a binding wrangler.toml does not declare, and warns when its period is not the binding's", () => {
    const deploy: DeploySettings = { ...ready, ratelimits: [{ name: 'SEARCH_LIMIT', simple: { limit: 20, period: 10 } }] };
    const rule = (name: string, rate_limit: { binding: string; period?: 10 | 60 }) => ({ name, condition: 'true', overrides: { rate_limit } });
    const doc: ConfigInput = {
      pools: [pool('eu', [origin('a', { address: 'https://a.example.com' })])],
      load_balancers: [
        loadBalancer({
          hostname: 'app.example.com',
          default_pools: ['eu'],
          rules: [rule('ok', { binding: 'SEARCH_LIMIT', period: 10 }), rule('default', { binding: 'SEARCH_LIMIT' }), rule('typo', { binding: 'SERCH_LIMIT' })],
        }),
      ],
    };
    const report = preflight(deploy, [{ label: 'config.json', document: doc }]);
    expect(rows(report)).toEqual([
      'config.json load_balancers.0.rules.2.overrides.rate_limit.binding unknown_binding error',
      'config.json load_balancers.0.rules.1.overrides.rate_limit.period rate_limit_period warning',
    ]);
  });

  it('fails an IP origin and a network wrangler.toml does not declare, at their paths', () => {
    const doc: ConfigInput = {
      pools: [
        pool('eu', [
          origin('ip', { address: 'http://192.0.2.1:8080' }),
          origin('v6', { address: '[2001:db8::2]' }),
          origin('office', { address: 'http://10.0.0.1', network: 'OFFICE' }),
          origin('svc', { address: 'http://api.internal', network: 'OTHER' }),
          origin('nope', { address: 'http://10.0.0.2', network: 'PRIVATE_API' }),
        ]),
      ],
    };
    const report = preflight(ready, [{ label: 'config.json', document: doc }]);
    expect(rows(report)).toEqual([
      'config.json pools.0.origins.0.address ip_origin error',
      'config.json pools.0.origins.1.address ip_origin error',
      'config.json pools.0.origins.4.network unknown_binding error',
    ]);
    expect(report.exitCode).toBe(1);
  });

  it('Host overrides: unchecked without LB_ZONES (warnings, with the zone of the routes as a hint); checked with it', () => {
    const doc: ConfigInput = {
      pools: [pool('eu', [origin('e1', { address: 'https://e1.example.com', header: { Host: ['app.example.com'] } })])],
      load_balancers: [loadBalancer({ hostname: 'app.example.com', default_pools: ['eu'], preserve_host: true })],
    };
    const noZones = preflight({ ...ready, vars: { ...READY_VARS, LB_ZONES: '' } }, [{ label: 'c', document: doc }]);
    expect(rows(noZones)).toEqual([
      'c pools.0.origins.0.header.Host host_override warning',
      'c load_balancers.0.preserve_host host_override warning',
      'wrangler.toml vars.LB_ZONES no_zones warning',
    ]);
    expect(noZones.findings[2]!.message).toContain('LB_ZONES = "example.com" (the zone_name of the routes)');
    expect(noZones.exitCode).toBe(0);

    expect(preflight(ready, [{ label: 'c', document: doc }]).findings).toEqual([]);
    const outside = preflight({ ...ready, vars: { ...READY_VARS, LB_ZONES: 'example.org' } }, [{ label: 'c', document: doc }]);
    expect(rows(outside)).toEqual(['c pools.0.origins.0.header.Host host_override error', 'c load_balancers.0.preserve_host host_override error']);
    expect(outside.exitCode).toBe(1);
  });

  it('reports an invalid configuration with its validation issues, and fails', () => {
    const report = preflight(ready, [{ label: 'bad.json', document: { pools: [{ id: 'eu', origins: [{ name: 'a', address: 'ftp://x' }] }] } }]);
    expect(rows(report)).toEqual(['bad.json pools.0.origins.0.address invalid_config error']);
    expect(report.exitCode).toBe(1);
  });

  it('checks the LB_CONFIG seed in wrangler.toml too', () => {
    const seeded = (value: string) => preflight({ ...ready, vars: { ...READY_VARS, LB_CONFIG: value } }, []);
    expect(rows(seeded(JSON.stringify({ pools: [pool('p', [origin('a', { address: '10.0.0.9' })])] })))).toEqual([
      'wrangler.toml vars.LB_CONFIG pools.0.origins.0.address ip_origin error',
    ]);
    expect(rows(seeded('{not json'))).toEqual(['wrangler.toml vars.LB_CONFIG invalid_json error']);
  });
});

describe('npm run preflight', SLOW, () => {
  const capture = () => {
    const out = { text: '', write: (s: string) => void (out.text += s) };
    return out;
  };
  const ready = () => wranglerToml('cli.toml', { vars: READY_VARS, extra: VPC });

  it('prints "path  code  severity  message" rows under each source and exits 1 on an error', async () => {
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ pools: [pool('eu', [origin('a', { address: 'http://10.0.0.1:8081' })])] }));
    const stdout = capture();
    const code = await run([config, '--config', ready()], { stdout, stderr: capture(), env: {} });
    expect(code).toBe(1);
    expect(stdout.text).toMatch(/^cli\.toml: nothing to report\nconfig\.json:\n {2}pools\.0\.origins\.0\.address {2}ip_origin {2}error {2}10\.0\.0\.1 is an IP address/);
    expect(stdout.text).toMatch(/1 error, 0 warnings/);
  });

  it('exits 0 for a clean configuration on stdin', async () => {
    const stdout = capture();
    const stdin = Readable.from([JSON.stringify(cleanConfig())]);
    expect(await run(['-', '--config', ready()], { stdout, stderr: capture(), stdin, env: {} })).toBe(0);
    expect(stdout.text).toContain('stdin: nothing to report');
    expect(stdout.text).toContain('Nothing found that would fail on the edge');
  });

  it('checks the stored configuration with LB_URL and LB_TOKEN, through the lbctl client', async () => {
    const seen: string[] = [];
    const fetchStub = (async (url: string, init: RequestInit) => {
      seen.push(`${init.method} ${url} ${(init.headers as Record<string, string>).authorization}`);
      return new Response(JSON.stringify({ version: 7, config: { pools: [pool('eu', [origin('a', { address: '[::1]:80' })])] }, warnings: [] }), {
        headers: { 'content-type': 'application/json' },
      });
    }) as typeof fetch;
    const stdout = capture();
    const code = await run(['--config', ready()], { stdout, stderr: capture(), env: { LB_URL: 'https://lb-admin.example.com', LB_TOKEN: 't0ken' }, fetch: fetchStub });
    expect(seen).toEqual(['GET https://lb-admin.example.com/__lb/api/config Bearer t0ken']);
    expect(code).toBe(1);
    expect(stdout.text).toMatch(/https:\/\/lb-admin\.example\.com \(version 7\):\n {2}pools\.0\.origins\.0\.address {2}ip_origin/);
  });

  it('exits 2 on a usage error or a missing file, 3 when the admin API cannot be reached', async () => {
    const stderr = capture();
    expect(await run(['--config', join(dir, 'absent.toml')], { stdout: capture(), stderr, env: {} })).toBe(2);
    expect(stderr.text).toContain('absent.toml');
    expect(await run(['a.json', 'b.json', '--config', ready()], { stdout: capture(), stderr: capture(), env: {} })).toBe(2);
    expect(await run([join(dir, 'missing.json'), '--config', ready()], { stdout: capture(), stderr: capture(), env: {} })).toBe(2);
    const refused = (async () => {
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') });
    }) as typeof fetch;
    const unreachable = capture();
    expect(await run(['--config', ready()], { stdout: capture(), stderr: unreachable, env: { LB_URL: 'http://127.0.0.1:1', LB_TOKEN: 'x' }, fetch: refused })).toBe(3);
    expect(unreachable.text).toContain('ECONNREFUSED');
  });
});
