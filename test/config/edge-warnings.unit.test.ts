import { describe, expect, it } from 'vitest';

import { edgeFindings, edgeWarnings, type EdgeFacts } from '../../src/config/edge-warnings';
import type { ConfigInput } from '../../src/config/schema';
import { loadBalancer, origin, pool, validConfig } from '../support/configs';

// SPEC §10: what is valid but will not work on Cloudflare's edge.

const facts = (zones?: string[], bindings: string[] = []): EdgeFacts => ({ hasBinding: (name) => bindings.includes(name), zones });
const warn = (input: ConfigInput, edge: EdgeFacts = facts(['example.com'])) => edgeWarnings(validConfig(input), edge);
const summary = (input: ConfigInput, edge?: EdgeFacts) => warn(input, edge).map((w) => `${w.path} ${w.code}`);

const hostnameConfig = (): ConfigInput => ({
  monitors: [{ id: 'root', path: '/health' }],
  pools: [
    pool('eu', [origin('e1', { address: 'https://e1.example.com' }), origin('e2', { address: 'e2.example.com:8443' })], { monitor: 'root' }),
    pool('us', [origin('u1', { address: 'https://u1.example.net/app' })]),
  ],
  load_balancers: [loadBalancer({ hostname: 'app.example.com', default_pools: ['eu'], fallback_pool: 'us' })],
});

describe('edgeWarnings: a clean configuration', () => {
  it('has none for origins by DNS name without Host overrides, with or without LB_ZONES', () => {
    expect(warn(hostnameConfig())).toEqual([]);
    expect(warn(hostnameConfig(), facts(undefined))).toEqual([]);
  });

  it('has none for a Host equal to the address host, in any case and with a port', () => {
    const doc = hostnameConfig();
    doc.pools![0].origins[0].header = { host: ['E1.example.com:443'] };
    expect(warn(doc, facts(undefined))).toEqual([]);
  });
});

describe('edgeWarnings: ip_origin', () => {
  it('names an IPv4 or bracketed IPv6 address without network, at its address', () => {
    const doc: ConfigInput = {
      pools: [pool('eu', [origin('a', { address: 'http://10.0.0.1:8081' }), origin('b', { address: 'b.example.com' }), origin('c', { address: '[2001:db8::1]:8080' })])],
    };
    const warnings = warn(doc);
    expect(warnings.map((w) => `${w.path} ${w.code}`)).toEqual(['pools.0.origins.0.address ip_origin', 'pools.0.origins.2.address ip_origin']);
    expect(warnings[0].message).toMatch(/10\.0\.0\.1 is an IP address.*1003.*DNS name.*VPC binding in "network"/);
    expect(warnings[1].message).toContain('[2001:db8::1]');
  });

  it('sees through the shorthand forms URL parsing normalises (127.1, bare host:port)', () => {
    expect(summary({ pools: [pool('p', [origin('a', { address: '127.1:80' })])] })).toEqual(['pools.0.origins.0.address ip_origin']);
  });

  it('is not raised for an IP address reached through a VPC binding the Worker has', () => {
    const doc: ConfigInput = { pools: [pool('p', [origin('a', { address: 'http://10.0.0.1:8081', network: 'PRIVATE_NET' })])] };
    expect(summary(doc, facts(['example.com'], ['PRIVATE_NET']))).toEqual([]);
  });
});

describe('edgeWarnings: unknown_binding', () => {
  it('names a network the Worker has no binding for, at its network field', () => {
    const doc: ConfigInput = {
      pools: [pool('p', [origin('a', { address: 'http://10.0.0.1', network: 'NOPE' }), origin('b', { address: 'http://10.0.0.2', network: 'VPC' })])],
    };
    const warnings = warn(doc, facts(['example.com'], ['VPC']));
    expect(warnings.map((w) => `${w.path} ${w.code}`)).toEqual(['pools.0.origins.0.network unknown_binding']);
    expect(warnings[0].message).toMatch(/"NOPE".*wrangler\.toml/);
  });

  it('warns of any Host override for an origin behind a binding: its address is the URL, and its host the Host', () => {
    const doc: ConfigInput = {
      pools: [pool('p', [origin('a', { address: 'http://app.internal', network: 'VPC', header: { Host: ['other.internal'] } })])],
      load_balancers: [loadBalancer({ hostname: 'x.example.org', default_pools: ['p'], preserve_host: true })],
    };
    expect(summary(doc, facts(undefined, ['VPC']))).toEqual(['pools.0.origins.0.header.Host host_override', 'load_balancers.0.preserve_host host_override']);
    const plain: ConfigInput = { pools: [pool('p', [origin('a', { address: 'http://app.internal', network: 'VPC' })])] };
    expect(summary(plain, facts(undefined, ['VPC']))).toEqual([]);
  });
});

describe('edgeWarnings: host_override from an origin header', () => {
  const doc = (host: string, address = 'https://b1.example.com'): ConfigInput => ({
    pools: [pool('eu', [origin('b1', { address, header: { HOST: [host] } })])],
  });

  it('cannot be checked without LB_ZONES, and says so', () => {
    const warnings = warn(doc('app.example.com'), facts(undefined));
    expect(warnings.map((w) => `${w.path} ${w.code}`)).toEqual(['pools.0.origins.0.header.HOST host_override']);
    expect(warnings[0].message).toContain('set LB_ZONES');
  });

  it('is fine when both names are in one of the zones', () => {
    expect(warn(doc('app.example.com'), facts(['example.org', 'Example.com.']))).toEqual([]);
    expect(warn(doc('example.com'), facts(['example.com']))).toEqual([]);
  });

  it('names the wanted Host when it is outside the zones', () => {
    const [warning] = warn(doc('app.other.net'), facts(['example.com']));
    expect(warning).toMatchObject({ path: 'pools.0.origins.0.header.HOST', code: 'host_override' });
    expect(warning.message).toMatch(/"app\.other\.net" is outside the Worker's zones \(example\.com\)/);
    expect(warning.message).not.toContain('"b1.example.com" is outside');
  });

  it('names the origin address host when it is outside the zones', () => {
    const [warning] = warn(doc('app.example.com', 'https://b1.example.net'), facts(['example.com']));
    expect(warning.message).toMatch(/"b1\.example\.net" is outside/);
  });

  it('refuses names in two different zones', () => {
    const [warning] = warn(doc('app.example.org'), facts(['example.com', 'example.org']));
    expect(warning.message).toMatch(/not one zone/);
  });

  it('does not count a look-alike suffix as inside the zone', () => {
    expect(summary(doc('app.notexample.com'), facts(['example.com']))).toEqual(['pools.0.origins.0.header.HOST host_override']);
  });

  it('is not raised on top of ip_origin', () => {
    expect(summary(doc('app.example.com', 'http://192.0.2.1'), facts(undefined))).toEqual(['pools.0.origins.0.address ip_origin']);
  });
});

describe('edgeWarnings: host_override from a monitor', () => {
  const doc = (type: 'http' | 'tcp' = 'http', host = 'status.example.org'): ConfigInput => ({
    monitors: [{ id: 'other' }, { id: 'root', type, header: { Host: [host] } }],
    pools: [pool('eu', [origin('e1', { address: 'e1.example.com' }), origin('e2', { address: 'e2.example.com' })], { monitor: 'root' }), pool('us', ['u1'])],
  });

  it('is raised once per origin of each pool using the monitor, at the monitor header', () => {
    const warnings = warn(doc(), facts(['example.com']));
    expect(warnings.map((w) => `${w.path} ${w.code}`)).toEqual(['monitors.1.header.Host host_override', 'monitors.1.header.Host host_override']);
    expect(warnings[0].message).toMatch(/pool eu origin e1.*"status\.example\.org" is outside/);
    expect(warnings[1].message).toMatch(/pool eu origin e2/);
  });

  it('is fine inside the zone, and unchecked without zones', () => {
    expect(warn(doc('http', 'status.example.com'), facts(['example.com']))).toEqual([]);
    expect(warn(doc(), facts(['example.com', 'example.org'])).map((w) => w.message)).toEqual([
      expect.stringMatching(/not one zone/),
      expect.stringMatching(/not one zone/),
    ]);
    expect(warn(doc(), facts(undefined)).map((w) => w.message)).toEqual([expect.stringContaining('set LB_ZONES'), expect.stringContaining('set LB_ZONES')]);
  });

  it('ignores a tcp monitor, which sends no Host', () => {
    expect(warn(doc('tcp'), facts(undefined))).toEqual([]);
  });
});

describe('edgeWarnings: host_override from preserve_host', () => {
  const doc = (hostname: string, address = 'https://o1.example.com'): ConfigInput => ({
    pools: [pool('main', [origin('o1', { address })]), pool('geo', [origin('g1', { address })]), pool('unused', [origin('x1', { address })])],
    load_balancers: [loadBalancer({ hostname, default_pools: ['main'], region_pools: { WEU: ['geo'] }, preserve_host: true })],
  });

  it('covers every pool the load balancer can send to, at its preserve_host', () => {
    const warnings = edgeFindings(validConfig(doc('app.example.org')), facts(['example.com']));
    expect(warnings.map((w) => `${w.path} ${w.pool}/${w.origin} ${w.certain}`)).toEqual([
      'load_balancers.0.preserve_host main/o1 true',
      'load_balancers.0.preserve_host geo/g1 true',
    ]);
    expect(warnings[0].message).toMatch(/client's Host \(app\.example\.org\) for pool main origin o1.*"app\.example\.org" is outside/);
  });

  it('is fine for an exact hostname in the zone, and unchecked without zones', () => {
    expect(warn(doc('app.example.com'))).toEqual([]);
    const unchecked = edgeFindings(validConfig(doc('app.example.com')), facts(undefined));
    expect(unchecked.map((w) => w.certain)).toEqual([false, false]);
    expect(unchecked[0].message).toContain('set LB_ZONES');
  });

  it('checks "*.example.com" by its suffix', () => {
    expect(warn(doc('*.example.com'))).toEqual([]);
    expect(warn(doc('*.example.com'), facts(['app.example.com']))).not.toEqual([]);
    expect(warn(doc('*.shop.example.com'))).toEqual([]);
    const [outside] = warn(doc('*.example.org'));
    expect(outside.message).toMatch(/"example\.org" is outside/);
  });

  it('cannot check "*" even with zones, but still names an origin outside them', () => {
    const unchecked = edgeFindings(validConfig(doc('*')), facts(['example.com']));
    expect(unchecked.map((w) => w.certain)).toEqual([false, false]);
    expect(unchecked[0].message).toMatch(/any client Host.*cannot be checked for hostname "\*"/);
    const outside = edgeFindings(validConfig(doc('*', 'https://o1.example.net')), facts(['example.com']));
    expect(outside.map((w) => w.certain)).toEqual([true, true]);
    expect(outside[0].message).toMatch(/"o1\.example\.net" is outside/);
  });

  it('needs no override when the hostname is the origin host itself, nor without preserve_host', () => {
    expect(warn(doc('o1.example.com'), facts(undefined))).toEqual([]);
    const off = doc('app.example.org');
    off.load_balancers![0].preserve_host = false;
    expect(warn(off)).toEqual([]);
  });
});

describe('edgeWarnings: order and shape', () => {
  it('lists findings in config order, one per origin and cause, with only path, code and message', () => {
    const doc: ConfigInput = {
      monitors: [{ id: 'root', header: { Host: ['probe.example.org'] } }],
      pools: [
        pool('a', [origin('a1', { address: '10.0.0.1' }), origin('a2', { address: 'a2.example.com', header: { Host: ['x.example.org'] } })], { monitor: 'root' }),
        pool('b', [origin('b1', { address: 'b1.internal', network: 'NOPE' })]),
      ],
      load_balancers: [
        loadBalancer({ id: 'one', hostname: 'one.example.org', default_pools: ['a'], preserve_host: true }),
        loadBalancer({ id: 'two', hostname: 'two.example.org', default_pools: ['b'], fallback_pool: 'a', preserve_host: true }),
      ],
    };
    const warnings = warn(doc);
    expect(warnings.map((w) => `${w.path} ${w.code}`)).toEqual([
      'pools.0.origins.0.address ip_origin',
      'pools.0.origins.1.header.Host host_override',
      'monitors.0.header.Host host_override',
      'load_balancers.0.preserve_host host_override',
      'load_balancers.1.preserve_host host_override',
      'pools.1.origins.0.network unknown_binding',
      // b1 is behind a binding: preserve_host cannot change what it is sent.
      'load_balancers.1.preserve_host host_override',
    ]);
    for (const w of warnings) expect(Object.keys(w).sort()).toEqual(['code', 'message', 'path']);
    expect(warn(doc)).toEqual(warnings);
  });
});
