import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate';
import { hostFor, isLoop, upstreamHeaders, upstreamUrl, type ClientSide } from '../../src/proxy/upstream';
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

describe('Host sent upstream', () => {
  it("is the origin's header.Host, else the client's with preserve_host, else the origin's own", () => {
    const { lb, plain, named } = setup();
    expect(hostFor(named, client(), lb)).toBe('b1.internal');
    expect(hostFor(plain, client(), lb)).toBe('10.0.0.1:8080');
    const preserving = setup({ preserve_host: true });
    expect(hostFor(preserving.plain, client(), preserving.lb)).toBe('www.example.com:8443');
    expect(hostFor(preserving.named, client(), preserving.lb)).toBe('b1.internal');
  });
});

describe('upstream URL', () => {
  it('joins the origin address, its path prefix and the request path and query', () => {
    const { plain, named } = setup();
    expect(upstreamUrl(plain, new URL('https://x/a/b?c=1'))).toBe('http://10.0.0.1:8080/a/b?c=1');
    expect(upstreamUrl(named, new URL('https://x/a/b?c=1'))).toBe('https://origin.example.net/api/a/b?c=1');
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
