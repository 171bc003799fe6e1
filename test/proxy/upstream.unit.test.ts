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

  it("joins the origin address, its path prefix and the request path and query; the address's own host needs no override", () => {
    const { lb, plain } = setup();
    expect(upstreamRoute(plain, to, lb)).toEqual({ url: 'http://10.0.0.1:8080/a/b?c=1', resolveOverride: undefined });
  });

  it("puts header.Host in the URL and resolves it to the address's hostname", () => {
    const { lb, named } = setup();
    expect(upstreamRoute(named, to, lb)).toEqual({ url: 'https://b1.internal/api/a/b?c=1', resolveOverride: 'origin.example.net' });
  });

  it("sends the client's host with preserve_host (on the origin's port), header.Host still first", () => {
    const preserving = setup({ preserve_host: true });
    expect(upstreamRoute(preserving.plain, to, preserving.lb)).toEqual({ url: 'http://www.example.com:8080/a/b?c=1', resolveOverride: '10.0.0.1' });
    expect(upstreamRoute(preserving.named, to, preserving.lb).url).toBe('https://b1.internal/api/a/b?c=1');
  });

  it('leaves resolving to the binding for an origin behind a VPC network', () => {
    const result = validateConfig({
      pools: [{ id: 'p', origins: [{ name: 'vpc', address: 'http://10.1.2.3:8080', network: 'PRIVATE_NET', header: { Host: ['App.Internal:9999'] } }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['p'] }],
    });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const plan = new Plan(1, result.config, {}, new Set());
    const [vpc] = plan.pools.get('p')!.origins;
    expect(upstreamRoute(vpc, to, result.config.load_balancers[0])).toEqual({ url: 'http://app.internal:8080/a/b?c=1', resolveOverride: undefined });
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
