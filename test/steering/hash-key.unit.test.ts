import { describe, expect, it } from 'vitest';

import { parseHashKey, type ConfigInput, type HashKey } from '../../src/config/schema';
import { PassiveHealth } from '../../src/health/passive';
import { decide, type SteeringRequest } from '../../src/steering/decide';
import { describeHashKey, requestKeyHash } from '../../src/steering/hash-key';
import { hash32 } from '../../src/steering/origin-pick';
import { facts, loadBalancer, origin, planFor, pool, request } from '../support/configs';
import { clientIps } from '../support/random';

const key = (text: string): HashKey => parseHashKey(text)!;
const url = (text: string) => new URL(text, 'https://app.example.com');
const read = (spec: string, path = '/', headers: HeadersInit = {}) => requestKeyHash(key(spec), url(path), new Headers(headers));

describe('requestKeyHash: reading the key from the request', () => {
  it('ip is the caller\'s: nothing is read', () => {
    expect(read('ip', '/a?b=1', { 'x-user': 'u' })).toBeUndefined();
  });

  it('path hashes the path alone; uri the path and the query', () => {
    expect(read('path', '/files/a.txt?v=1')).toBe(hash32('/files/a.txt'));
    expect(read('path', '/files/a.txt?v=2')).toBe(hash32('/files/a.txt'));
    expect(read('uri', '/files/a.txt?v=1')).toBe(hash32('/files/a.txt?v=1'));
    expect(read('uri', '/files/a.txt')).toBe(hash32('/files/a.txt'));
  });

  it('header: by name, whatever its case; missing or empty is no key', () => {
    expect(read('header:X-User', '/', { 'x-user': 'alice' })).toBe(hash32('alice'));
    expect(read('header:x-user', '/', { 'X-USER': 'alice' })).toBe(hash32('alice'));
    expect(read('header:x-user', '/', {})).toBeUndefined();
    expect(read('header:x-user', '/', { 'x-user': '' })).toBeUndefined();
  });

  it('cookie: the named cookie among others, spaces and quotes aside; a longer name or an empty value is not it', () => {
    const cookie = (value: string) => read('cookie:sid', '/', { cookie: value });
    expect(cookie('sid=abc')).toBe(hash32('abc'));
    expect(cookie('a=1; sid=abc; b=2')).toBe(hash32('abc'));
    expect(cookie('a=1;sid=abc ;b=2')).toBe(hash32('abc'));
    expect(cookie('sid="abc"')).toBe(hash32('abc'));
    expect(cookie('xsid=zzz; sid=abc')).toBe(hash32('abc'));
    expect(cookie('sidx=zzz; sid2=abc')).toBeUndefined();
    expect(cookie('sid=; other=1')).toBeUndefined();
    expect(cookie('sid')).toBeUndefined();
    expect(read('cookie:sid', '/', {})).toBeUndefined();
  });

  it('query: the first parameter of that name, as sent; a longer name or an empty value is not it', () => {
    expect(read('query:user', '/?user=alice')).toBe(hash32('alice'));
    expect(read('query:user', '/?a=1&user=alice&user=bob')).toBe(hash32('alice'));
    expect(read('query:user', '/?xuser=bob&user=alice')).toBe(hash32('alice'));
    expect(read('query:user', '/?a%20b=1&user=al%20ice')).toBe(hash32('al%20ice'));
    expect(read('query:user', '/?username=alice')).toBeUndefined();
    expect(read('query:user', '/?user=&a=1')).toBeUndefined();
    expect(read('query:user', '/')).toBeUndefined();
    expect(read('query:user', '/?')).toBeUndefined();
  });

  it('without the request (the dry run, the PoP map) there is no key', () => {
    for (const spec of ['path', 'uri', 'header:x', 'cookie:x', 'query:x']) expect(requestKeyHash(key(spec), undefined, undefined)).toBeUndefined();
  });

  it('names the key for the trace', () => {
    expect(['ip', 'path', 'uri', 'header:x-user', 'cookie:sid', 'query:u'].map((spec) => describeHashKey(key(spec)))).toEqual([
      'client IP',
      'path',
      'uri',
      'header x-user',
      'cookie sid',
      'query u',
    ]);
  });
});

describe("decide: a hash pool's hash_key", () => {
  const ORIGINS = Array.from({ length: 10 }, (_, i) => `o${i}`);
  const byUser = (origins: Parameters<typeof pool>[1] = ORIGINS, hashKey = 'header:x-user'): ConfigInput => ({
    pools: [pool('p', origins, { origin_steering: { policy: 'hash', hash_key: hashKey } })],
    load_balancers: [loadBalancer({ default_pools: ['p'] })],
  });
  const USERS = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);

  function assign(input: ConfigInput, users: readonly string[], ips: readonly string[] = users.map(() => '192.0.2.1')): string[] {
    const { plan, lb } = planFor(input);
    const passive = new PassiveHealth();
    return users.map((user, i) => decide(plan, lb, request({ facts: facts({ ip: ips[i] }), headers: new Headers({ 'x-user': user }), passive })).candidates[0].name);
  }

  it('keeps each user on one origin whatever its address, and spreads 10,000 users evenly', () => {
    const fromOne = assign(byUser(), USERS);
    const fromMany = assign(byUser(), USERS, clientIps(USERS.length));
    expect(fromMany).toEqual(fromOne);
    for (const name of ORIGINS) {
      const share = fromOne.filter((n) => n === name).length / USERS.length;
      expect(share, name).toBeGreaterThanOrEqual(0.05);
      expect(share, name).toBeLessThanOrEqual(0.15);
    }
  });

  it('removing one of 10 origins remaps only its own users (about 1/10 of them)', () => {
    const before = assign(byUser(), USERS);
    const after = assign(byUser(ORIGINS.map((name) => origin(name, { enabled: name !== 'o4' }))), USERS);
    let moved = 0;
    after.forEach((name, i) => {
      expect(name).not.toBe('o4');
      if (before[i] === 'o4') moved++;
      else expect(name, USERS[i]).toBe(before[i]);
    });
    expect(moved / USERS.length).toBeGreaterThan(0.05);
    expect(moved / USERS.length).toBeLessThan(0.15);
  });

  it('a request without the key falls back to the client IP, exactly as hash_key ip would place it', () => {
    const ips = clientIps(500);
    const { plan, lb } = planFor(byUser());
    const onIp = planFor(byUser(ORIGINS, 'ip'));
    for (const ip of ips) {
      const withoutKey = decide(plan, lb, request({ facts: facts({ ip }), headers: new Headers() })).candidates[0].name;
      expect(withoutKey).toBe(decide(onIp.plan, onIp.lb, request({ facts: facts({ ip }) })).candidates[0].name);
    }
  });

  it('path and uri keep a URL on one origin', () => {
    for (const spec of ['path', 'uri']) {
      const { plan, lb } = planFor(byUser(ORIGINS, spec));
      const origins = new Set(clientIps(50).map((ip) => decide(plan, lb, request({ facts: facts({ ip }), url: url('/files/big.iso?x=1') })).candidates[0].name));
      expect(origins.size, spec).toBe(1);
    }
  });

  it('the trace says which key was hashed, and when the client IP stood in', () => {
    const { plan, lb } = planFor(byUser());
    const trace: string[] = [];
    decide(plan, lb, request({ headers: new Headers({ 'x-user': 'alice' }), trace }));
    expect(trace.some((line) => /^pool p: o\d by hash on header x-user of 10 usable origin\(s\)$/.test(line))).toBe(true);
    const fallback: string[] = [];
    decide(plan, lb, request({ headers: new Headers(), trace: fallback }));
    expect(fallback.some((line) => line.includes('by hash on client IP (no header x-user in the request)'))).toBe(true);
    const onIp = planFor(byUser(ORIGINS, 'ip'));
    const ipTrace: string[] = [];
    decide(onIp.plan, onIp.lb, request({ trace: ipTrace }));
    expect(ipTrace.some((line) => line.includes('by hash on client IP of'))).toBe(true);
  });

  it('reads the request only for a hash pool with such a key', () => {
    const untouchable = <T extends object>(target: T): T =>
      new Proxy(target, {
        get() {
          throw new Error('the request was read');
        },
      });
    const noReading: Partial<SteeringRequest> = { headers: untouchable(new Headers()), url: untouchable(url('/')) };
    for (const steering of [{ policy: 'round_robin' as const }, { policy: 'random' as const }, { policy: 'hash' as const }, { policy: 'hash' as const, hash_key: 'ip' }]) {
      const { plan, lb } = planFor({ pools: [pool('p', ORIGINS, { origin_steering: steering })], load_balancers: [loadBalancer({ default_pools: ['p'], retries: 3 })] });
      expect(decide(plan, lb, request(noReading)).candidates).toHaveLength(4);
    }
  });

  it('affinity placement comes first: header affinity hashes its session key, not the pool key', () => {
    const input: ConfigInput = {
      ...byUser(),
      load_balancers: [loadBalancer({ default_pools: ['p'], session_affinity: 'header', session_affinity_attributes: { headers: ['x-session'] } })],
    };
    const { plan, lb } = planFor(input);
    const seen = new Set(
      USERS.slice(0, 50).map((user) => decide(plan, lb, request({ sessionKey: 'session-1', headers: new Headers({ 'x-user': user }) })).candidates[0].name),
    );
    expect(seen.size).toBe(1);
  });
});
