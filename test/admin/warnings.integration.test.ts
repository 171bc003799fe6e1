import { describe, expect, it } from 'vitest';
import cloudflareExport from '../../examples/cloudflare-export.json';
import { admin, configure } from '../support/worker';

// SPEC §7/§10: every admin answer that returns a configuration or a resource names
// what is valid but will not work on Cloudflare's edge, and never refuses for it.
// This project's Worker has no LB_ZONES and a PRIVATE_NET service binding.

interface Warning {
  path: string;
  code: string;
  message: string;
}
type WithWarnings = { version: number; warnings: Warning[] } & Record<string, unknown>;

async function call(method: string, path: string, body?: unknown): Promise<WithWarnings> {
  const res = await admin(method, path, body);
  expect(res.status, `${method} ${path}: ${res.status}`).toBeLessThan(300);
  return (await res.json()) as WithWarnings;
}

const codes = (body: WithWarnings) => body.warnings.map((w) => `${w.path} ${w.code}`);

const withIpOrigin = () => ({
  monitors: [{ id: 'root', path: '/health', header: { Host: ['status.example.com'] } }],
  pools: [
    { id: 'eu', origins: [{ name: 'named', address: 'https://eu1.example.com' }, { name: 'ip', address: 'http://192.0.2.10:8080' }] },
    { id: 'us', monitor: 'root', origins: [{ name: 'u1', address: 'https://us1.example.com' }] },
  ],
  load_balancers: [{ id: 'main', hostname: 'app.example.com', default_pools: ['eu', 'us'] }],
});

describe('warnings on the configuration', () => {
  it('PUT answers 200 with an ip_origin warning at the address, and GET shows it too', async () => {
    const res = await admin('PUT', '/config', withIpOrigin());
    expect(res.status).toBe(200);
    const put = (await res.json()) as WithWarnings;
    expect(codes(put)).toEqual(['pools.0.origins.1.address ip_origin', 'monitors.0.header.Host host_override']);
    expect(put.warnings[0]!.message).toMatch(/192\.0\.2\.10 is an IP address.*1003/);
    // No LB_ZONES in this Worker: the monitor's Host cannot be checked.
    expect(put.warnings[1]!.message).toMatch(/pool us origin u1.*set LB_ZONES/);

    const got = await call('GET', '/config');
    expect(got.version).toBe(put.version);
    expect(got.warnings).toEqual(put.warnings);
  });

  it('is an empty list for origins by DNS name without Host overrides', async () => {
    const clean = { pools: [{ id: 'eu', origins: [{ name: 'a', address: 'https://a.example.com' }] }], load_balancers: [{ id: 'main', hostname: '*', default_pools: ['eu'] }] };
    const res = await admin('PUT', '/config', clean);
    expect(((await res.json()) as WithWarnings).warnings).toEqual([]);
    expect((await call('GET', '/config')).warnings).toEqual([]);
    expect((await call('GET', '/pools/eu')).warnings).toEqual([]);
  });

  it('names a network this Worker has no binding for, and none it has', async () => {
    const doc = withIpOrigin();
    doc.pools[1]!.origins.push({ name: 'private', address: 'http://10.0.0.5:8080', network: 'PRIVATE_NET' } as never);
    doc.pools[1]!.origins.push({ name: 'nope', address: 'http://10.0.0.6:8080', network: 'NOPE' } as never);
    const put = await call('PUT', '/config', doc);
    expect(codes(put)).toEqual([
      'pools.0.origins.1.address ip_origin',
      'monitors.0.header.Host host_override',
      'pools.1.origins.2.network unknown_binding',
    ]);
    expect(put.warnings[2]!.message).toContain('"NOPE"');
  });

  it('the Cloudflare import carries the warnings of its converted configuration', async () => {
    const dry = await call('POST', '/import/cloudflare', cloudflareExport);
    expect(dry.warnings.length).toBeGreaterThan(0);
    expect(dry.warnings.every((w) => w.code === 'ip_origin' && /^pools\.\d+\.origins\.\d+\.address$/.test(w.path))).toBe(true);
  });
});

describe('warnings on resources', () => {
  it('a pool, its origins and the lists carry the warnings about them', async () => {
    await configure(withIpOrigin());
    expect(codes(await call('GET', '/pools/eu'))).toEqual(['pools.0.origins.1.address ip_origin']);
    // The monitor's Host concerns the origins of the pool using it.
    expect(codes(await call('GET', '/pools/us'))).toEqual(['monitors.0.header.Host host_override']);
    expect(codes(await call('GET', '/pools'))).toEqual(['pools.0.origins.1.address ip_origin', 'monitors.0.header.Host host_override']);
    expect(codes(await call('GET', '/pools/eu/origins'))).toEqual(['pools.0.origins.1.address ip_origin']);
    expect(codes(await call('GET', '/pools/eu/origins/ip'))).toEqual(['pools.0.origins.1.address ip_origin']);
    expect((await call('GET', '/pools/eu/origins/named')).warnings).toEqual([]);
    expect(codes(await call('GET', '/monitors/root'))).toEqual(['monitors.0.header.Host host_override']);
    expect(codes(await call('GET', '/monitors'))).toEqual(['monitors.0.header.Host host_override']);
    expect((await call('GET', '/load_balancers/main')).warnings).toEqual([]);
  });

  it('a change answers with the warnings of the configuration it leaves, and is never refused for them', async () => {
    await configure(withIpOrigin());
    const patched = await call('PATCH', '/pools/eu/origins/named', { address: '198.51.100.7:80' });
    expect(codes(patched)).toEqual(['pools.0.origins.0.address ip_origin']);
    const fixed = await call('PATCH', '/pools/eu/origins/named', { address: 'eu2.example.com' });
    expect(fixed.warnings).toEqual([]);

    const added = await call('POST', '/pools/eu/origins', { name: 'nope', address: 'http://10.0.0.6', network: 'NOPE' });
    expect(codes(added)).toEqual(['pools.0.origins.2.network unknown_binding']);
    const replaced = await call('PUT', '/pools/eu/origins/nope', { address: 'http://10.0.0.6', network: 'PRIVATE_NET' });
    expect(replaced.warnings).toEqual([]);

    const lb = await call('PUT', '/load_balancers/main', { hostname: 'app.example.com', default_pools: ['eu'], preserve_host: true });
    // One per origin of its pools a Host override cannot reach: "named" (no LB_ZONES) and
    // "nope" (behind a VPC binding, where the address is the URL); not "ip" (ip_origin says enough).
    expect(codes(lb)).toEqual(['load_balancers.0.preserve_host host_override', 'load_balancers.0.preserve_host host_override']);
    expect(lb.warnings[0]!.message).toMatch(/client's Host \(app\.example\.com\) for pool eu origin named.*set LB_ZONES/);

    const created = await call('POST', '/pools', { id: 'ap', origins: [{ name: 'a1', address: '[2001:db8::1]:8080' }] });
    expect(codes(created)).toEqual(['pools.2.origins.0.address ip_origin']);

    // A DELETE returns no resource: it carries the warnings of the whole configuration left.
    const deleted = await call('DELETE', '/pools/eu/origins/ip');
    expect(codes(deleted)).toEqual([
      'load_balancers.0.preserve_host host_override',
      'load_balancers.0.preserve_host host_override',
      'monitors.0.header.Host host_override',
      'pools.2.origins.0.address ip_origin',
    ]);
  });
});

describe('warnings in the OpenAPI document', () => {
  it('documents warnings on the configuration and resource answers', async () => {
    type Schema = { properties?: Record<string, unknown>; $ref?: string; anyOf?: Schema[] };
    type Doc = {
      paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>>;
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    const doc = (await (await admin('GET', '/openapi.json')).json()) as Doc;
    const answer = (path: string, method: string, status = '200') => doc.paths[`/__lb/api${path}`]![method]!.responses[status]!.content!['application/json']!.schema;
    for (const [path, method, status] of [
      ['/config', 'get'],
      ['/config', 'put'],
      ['/pools', 'get'],
      ['/pools', 'post', '201'],
      ['/pools/{pool}', 'get'],
      ['/pools/{pool}/origins/{origin}', 'patch'],
      ['/monitors/{id}', 'put'],
      ['/load_balancers/{id}', 'delete'],
      ['/import/cloudflare', 'post'],
    ] as const) {
      // A union (PUT /config: stored or dry run) carries warnings in every alternative.
      const schema = answer(path, method, status);
      for (const alternative of schema.anyOf ?? [schema]) {
        const resolved = alternative.$ref === undefined ? alternative : doc.components.schemas[alternative.$ref.split('/').at(-1)!]!;
        expect(Object.keys(resolved.properties ?? {}), `${method} ${path}`).toContain('warnings');
      }
    }
    expect(Object.keys(doc.components.schemas.Warning!.properties).sort()).toEqual(['code', 'message', 'path']);
  });
});

describe('configuration that would break the proxy contract (SPEC §1, §8)', () => {
  it.each([
    ['request_headers naming CDN-Loop', (doc: ReturnType<typeof withIpOrigin>) => Object.assign(doc.load_balancers[0]!, { request_headers: { 'CDN-Loop': 'x' } }), 'load_balancers.0.request_headers.CDN-Loop'],
    ['a request_headers value with CR LF', (doc: ReturnType<typeof withIpOrigin>) => Object.assign(doc.load_balancers[0]!, { request_headers: { 'X-A': 'x\r\nInjected: 1' } }), 'load_balancers.0.request_headers.X-A'],
    ['a bad monitor header name', (doc: ReturnType<typeof withIpOrigin>) => Object.assign(doc.monitors[0]!, { header: { 'X Bad': ['1'] } }), 'monitors.0.header.X Bad'],
  ])('refuses %s with 400 invalid_config and its path; the stored version is unchanged', async (_what, breakIt, path) => {
    const version = await configure(withIpOrigin());
    const doc = withIpOrigin();
    breakIt(doc);
    const res = await admin('PUT', '/config', doc);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; issues: { path: string }[] } };
    expect(error.code).toBe('invalid_config');
    expect(error.issues.map((i) => i.path)).toEqual([path]);
    const stored = (await (await admin('GET', '/config')).json()) as { version: number };
    expect(stored.version).toBe(version);
  });
});
