import { describe, expect, it } from 'vitest';
import { parseRateLimitKey, type RateLimitKey } from '../../src/config/schema';
import { clientNetwork, rateLimitKey, rateLimiter } from '../../src/proxy/rate-limit';
import type { Env } from '../../src/env';
import type { ClientFacts } from '../../src/steering/facts';
import { normalizedPath } from '../../src/steering/rules';

// What a client would have to change to get a fresh rate limit count: nothing a
// trivial rewrite of the same request can reach (SPEC §9).

const facts = (ip: string): ClientFacts => ({ ip, country: undefined, lat: undefined, lon: undefined, colo: undefined, region: undefined, source: 'cf' });
const key = (value: string) => parseRateLimitKey(value) as RateLimitKey;
const keyOf = (spec: string, path: string, headers: Record<string, string> = {}, ip = '192.0.2.1') =>
  rateLimitKey('lb', key(spec), new URL(path, 'https://shop.example'), new Headers(headers), facts(ip));

describe('rate limit keys', () => {
  it('count an IPv6 client by its /64, an IPv4-mapped address as IPv4, any spelling of one address alike', () => {
    expect(clientNetwork('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('2001:DB8:1:2:dead:beef:0:1')).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('2001:db8:1:2:0:0:0:1')).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(clientNetwork('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientNetwork('192.0.2.7')).toBe('192.0.2.7');
    expect(clientNetwork('')).toBe('unknown');
  });

  it('count a path as Cloudflare normalises it: escapes of unreserved characters, doubled slashes, dot segments', () => {
    const search = keyOf('path', '/api/search');
    for (const path of ['/api//search', '/api/%73earch', '/api/%73%65arch', '/api///search', '/api/x/%2E%2E/search', '/api/./search']) {
      expect([path, keyOf('path', path)]).toEqual([path, search]);
    }
    expect(keyOf('path', '/api/search%2f')).toBe(keyOf('path', '/api/search%2F'));
    expect(keyOf('path', '/api/search%2F')).not.toBe(search);
    expect(keyOf('path', '/api/search?q=1')).toBe(search);
  });

  it('count a header by its first value, whatever follows; without the header, by the client address', () => {
    const first = keyOf('header:x-api-token', '/', { 'x-api-token': 'T' });
    const headers = new Headers([
      ['x-api-token', 'T'],
      ['x-api-token', 'junk'],
    ]);
    expect(rateLimitKey('lb', key('header:x-api-token'), new URL('https://shop.example/'), headers, facts('192.0.2.1'))).toBe(first);
    expect(keyOf('header:x-api-token', '/', { 'x-api-token': ' T ,' })).toBe(first);
    expect(keyOf('header:x-api-token', '/', {})).toBe(keyOf('ip', '/'));
    expect(keyOf('header:x-api-token', '/', { 'x-api-token': '' })).toBe(keyOf('ip', '/'));
  });

  it('count a cookie by its value, and each load balancer apart', () => {
    expect(keyOf('cookie:session', '/', { cookie: 'a=1; session=abc' })).toBe(keyOf('cookie:session', '/x', { cookie: 'session=abc' }));
    expect(rateLimitKey('other', key('ip'), new URL('https://shop.example/'), new Headers(), facts('192.0.2.1'))).not.toBe(keyOf('ip', '/'));
  });

  it('bound a hostile key: a 100,000-character header becomes a short key', () => {
    const long = keyOf('header:x-api-token', '/', { 'x-api-token': 'a'.repeat(100_000) });
    expect(long.length).toBeLessThan(200);
    expect(long).not.toBe(keyOf('header:x-api-token', '/', { 'x-api-token': 'b'.repeat(100_000) }));
  });
});

describe('normalizedPath', () => {
  it('leaves a plain path alone and keeps reserved escapes escaped, upper-cased', () => {
    expect(normalizedPath('/photos/123')).toBe('/photos/123');
    expect(normalizedPath('/a%2fb%3f')).toBe('/a%2Fb%3F');
    expect(normalizedPath('/%7Euser')).toBe('/~user');
  });
});

describe('rateLimiter: which bindings count', () => {
  const limiter = { limit: async () => ({ success: true }) };
  it('takes a Rate Limiting binding, and nothing that only answers every method name', () => {
    const env = {
      LIMIT: limiter,
      SERVICE: { fetch: () => undefined, limit: () => undefined },
      DO: { idFromName: () => undefined, limit: () => undefined },
      VAR: 'x',
    } as unknown as Env;
    expect(rateLimiter(env, 'LIMIT')).toBe(limiter);
    expect(rateLimiter(env, 'SERVICE')).toBeUndefined();
    expect(rateLimiter(env, 'DO')).toBeUndefined();
    expect(rateLimiter(env, 'VAR')).toBeUndefined();
    expect(rateLimiter(env, 'MISSING')).toBeUndefined();
    expect(rateLimiter(env, '__proto__')).toBeUndefined();
    expect(rateLimiter(env, 'constructor')).toBeUndefined();
  });
});
