import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate';
import { isLoop, upstreamHeaders, upstreamRoute, type ClientSide } from '../../src/proxy/upstream';
import { Plan } from '../../src/steering/plan';

function setup(lbExtra: Record<string, unknown> = {}) {
  const result = validateConfig({
    pools: [
      {
        id: 'p',
        origins: [
          { name: 'plain', address: '10.0.0.1:8080' },
          { name: 'named', address: 'https://origin.example.net/api/', header: { Host: ['b1.internal'] } },
        ],
      },
    ],
    load_balancers: [{ id: 'main', hostname: '*', default_pools: ['p'], ...lbExtra }],
  });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  const plan = new Plan(1, result.config, {}, new Set());
  const [plain, named] = plan.pools.get('p')!.origins;
  return { lb: result.config.load_balancers[0], plain, named };
}

const client = (headers: Record<string, string> = {}): ClientSide => ({
  url: new URL('https://www.example.com:8443/a/b?c=1'),
  headers: new Headers(headers),
  ip: '203.0.113.9',
  pop: 'FRA',
  lbName: 'switchyard',
});

describe('where an attempt goes (SPEC §10: a Worker cannot set Host)', () => {
  const to = new URL('https://www.example.com:8443/a/b?c=1');
  const zones = ['example.net', 'example.com'];

  it("joins the origin address, its path prefix and the request path and query; the address's own host needs no override", () => {
    const { lb, plain } = setup();
    expect(upstreamRoute(plain, to, lb, zones)).toEqual({ url: 'http://10.0.0.1:8080/a/b?c=1', resolveOverride: undefined });
  });

  it("puts header.Host in the URL and resolves it to the address's hostname when both are in one zone", () => {
    const { lb, named } = setup();
    const result = validateConfig({
      pools: [{ id: 'p', origins: [{ name: 'o', address: 'https://origin.example.net/api/', header: { Host: ['App.Example.NET:9999'] } }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['p'] }],
    });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const [inZone] = new Plan(1, result.config, {}, new Set()).pools.get('p')!.origins;
    expect(upstreamRoute(inZone, to, lb, zones)).toEqual({ url: 'https://app.example.net/api/a/b?c=1', resolveOverride: 'origin.example.net' });
    // b1.internal is in no zone: the edge would ignore the override and look the name
    // up, so the origin gets its address's own host instead.
    expect(upstreamRoute(named, to, lb, zones)).toEqual({ url: 'https://origin.example.net/api/a/b?c=1', resolveOverride: undefined });
    expect(upstreamRoute(inZone, to, lb, undefined).resolveOverride).toBeUndefined();
  });

  it("sends the client's host with preserve_host only into the origin's own zone: a client cannot choose the destination", () => {
    const result = validateConfig({
      pools: [{ id: 'p', origins: [{ name: 'o', address: 'https://origin.example.net/api/' }, { name: 'ip', address: '10.0.0.1:8080' }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['p'], preserve_host: true }],
    });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const [o, ip] = new Plan(1, result.config, {}, new Set()).pools.get('p')!.origins;
    const lb = result.config.load_balancers[0];
    expect(upstreamRoute(o, new URL('https://shop.example.net/x'), lb, zones)).toEqual({ url: 'https://shop.example.net/api/x', resolveOverride: 'origin.example.net' });
    // www.example.com is in another zone, 10.0.0.1 in none: the address is used as it is.
    expect(upstreamRoute(o, to, lb, zones).url).toBe('https://origin.example.net/api/a/b?c=1');
    expect(upstreamRoute(ip, new URL('http://evil.example.net/'), lb, zones)).toEqual({ url: 'http://10.0.0.1:8080/', resolveOverride: undefined });
  });

  it('sends an origin behind a VPC binding to its address, whatever Host is wanted', () => {
    const result = validateConfig({
      pools: [{ id: 'p', origins: [{ name: 'vpc', address: 'http://10.1.2.3:8080', network: 'PRIVATE_NET', header: { Host: ['app.example.net'] } }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['p'], preserve_host: true }],
    });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const [vpc] = new Plan(1, result.config, {}, new Set()).pools.get('p')!.origins;
    expect(upstreamRoute(vpc, to, result.config.load_balancers[0], zones)).toEqual({ url: 'http://10.1.2.3:8080/a/b?c=1', resolveOverride: undefined });
  });
});

describe('upstream headers', () => {
  it('keeps a WebSocket upgrade and drops other upgrades', () => {
    const { lb } = setup();
    const ws = upstreamHeaders(client({ connection: 'Upgrade', upgrade: 'websocket' }), lb);
    expect(ws.get('upgrade')).toBe('websocket');
    expect(ws.get('connection')).toBe('Upgrade');
    const h2c = upstreamHeaders(client({ connection: 'Upgrade', upgrade: 'h2c' }), lb);
    expect(h2c.get('upgrade')).toBeNull();
  });

  it("strips the simulation headers and a check region prober's mark: a client cannot pass as a probe", () => {
    const { lb } = setup();
    const h = upstreamHeaders(client({ 'x-lb-sim-ip': '192.0.2.1', 'x-lb-probe-region': 'WEU', 'x-kept': '1' }), lb);
    expect(h.get('x-lb-sim-ip')).toBeNull();
    expect(h.get('x-lb-probe-region')).toBeNull();
    expect(h.get('x-kept')).toBe('1');
  });

  it('quotes a host with a port in Forwarded and appends to existing forwarding fields', () => {
    const { lb } = setup();
    const h = upstreamHeaders(client({ forwarded: 'for=198.51.100.1', via: '1.1 edge' }), lb);
    expect(h.get('forwarded')).toBe('for=198.51.100.1, for=203.0.113.9;proto=https;host="www.example.com:8443"');
    expect(h.get('via')).toBe('1.1 edge, 1.1 switchyard');
    expect(h.get('x-lb-pop')).toBe('FRA');
  });
});

describe('CDN-Loop', () => {
  it('finds this balancer in a list with parameters, case-insensitively, and nothing else', () => {
    expect(isLoop('cdn-a, Switchyard; v=2', 'switchyard')).toBe(true);
    expect(isLoop('switchyard-other', 'switchyard')).toBe(false);
    expect(isLoop(null, 'switchyard')).toBe(false);
  });
});
