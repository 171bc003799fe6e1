import { describe, expect, it } from 'vitest';

import { parseHashKey, parsePublicUrl, type ConfigInput } from '../../src/config/schema';
import { validateConfig } from '../../src/config/validate';
import { Plan } from '../../src/steering/plan';
import { loadBalancer, origin, pool, validConfig } from '../support/configs';

type PoolInput = NonNullable<ConfigInput['pools']>[number];
type OriginInput = PoolInput['origins'][number];

function documentWith(poolExtra: Partial<PoolInput>, originExtra: Partial<OriginInput> = {}): ConfigInput {
  return {
    pools: [pool('p', [origin('a', originExtra), 'b'], poolExtra)],
    load_balancers: [loadBalancer({ default_pools: ['p'] })],
  };
}

function issues(input: ConfigInput): { path: string; message: string }[] {
  const result = validateConfig(input);
  return result.ok ? [] : result.issues;
}

describe('config: origin_steering.hash_key', () => {
  it('defaults to ip', () => {
    expect(validConfig(documentWith({})).pools[0].origin_steering).toEqual({ policy: 'round_robin', hash_key: 'ip' });
    expect(validConfig(documentWith({ origin_steering: { policy: 'hash' } })).pools[0].origin_steering).toEqual({ policy: 'hash', hash_key: 'ip' });
  });

  it.each(['ip', 'path', 'uri', 'header:x-user', 'header:X-User-Id', 'cookie:session_id', 'query:user', "header:a.b~c!#$%&'*+^_`|"])(
    'accepts %s on a hash pool',
    (hashKey) => {
      expect(issues(documentWith({ origin_steering: { policy: 'hash', hash_key: hashKey } }))).toEqual([]);
    },
  );

  it.each(['', 'IP', 'host', 'header', 'header:', 'cookie:', 'query:', 'header:x user', 'header:x:y', 'cookie:a;b', 'query:a=b', 'body:x', ':x', 'header:é'])(
    'refuses %j, at its path',
    (hashKey) => {
      const found = issues(documentWith({ origin_steering: { policy: 'hash', hash_key: hashKey } }));
      expect(found.map((i) => i.path)).toEqual(['pools.0.origin_steering.hash_key']);
      expect(found[0].message).toMatch(/header:, cookie: or query:/);
    },
  );

  it('is refused on a pool whose policy hashes nothing', () => {
    const found = issues(documentWith({ origin_steering: { policy: 'round_robin', hash_key: 'path' } }));
    expect(found).toEqual([{ path: 'pools.0.origin_steering.hash_key', message: 'only the hash policy hashes a key; the policy is round_robin' }]);
  });

  it('parses into its kind and name', () => {
    expect(parseHashKey('ip')).toEqual({ kind: 'ip' });
    expect(parseHashKey('uri')).toEqual({ kind: 'uri' });
    expect(parseHashKey('header:X-User')).toEqual({ kind: 'header', name: 'X-User' });
    expect(parseHashKey('cookie:sid')).toEqual({ kind: 'cookie', name: 'sid' });
    expect(parseHashKey('query:u')).toEqual({ kind: 'query', name: 'u' });
    expect(parseHashKey('header')).toBeUndefined();
  });
});

describe('config: public_url', () => {
  it('is absent unless set, and "" means none', () => {
    const config = validConfig(documentWith({}, { public_url: '' }));
    expect(config.pools[0].origins[0].public_url).toBe('');
    expect('public_url' in config.pools[0].origins[1]).toBe(false);
    const plan = new Plan(1, config, {}, new Set());
    expect(plan.pools.get('p')!.origins.map((o) => o.publicUrl)).toEqual([undefined, undefined]);
  });

  it.each([
    ['https://a.example.net', 'https://a.example.net'],
    ['https://a.example.net/', 'https://a.example.net'],
    ['http://a.example.net:8080/files/', 'http://a.example.net:8080/files'],
    ['HTTPS://A.Example.NET/Files', 'https://a.example.net/Files'],
    ['http://127.0.0.1:9000', 'http://127.0.0.1:9000'],
    ['https://[2001:db8::1]/x', 'https://[2001:db8::1]/x'],
  ])('accepts %s; the compiled origin has %s, ready for a path', (value, compiled) => {
    const config = validConfig(documentWith({}, { public_url: value }));
    expect(config.pools[0].origins[0].public_url).toBe(value);
    expect(new Plan(1, config, {}, new Set()).pools.get('p')!.origins[0].publicUrl).toBe(compiled);
  });

  it.each([
    'a.example.net',
    '//a.example.net',
    '/files',
    'ftp://a.example.net',
    'https://',
    'https://a.example.net/?x=1',
    'https://a.example.net/?',
    'https://a.example.net/#top',
    'https://user:pass@a.example.net',
    'https://user@a.example.net',
    'javascript://a.example.net/%0aalert(1)',
    ' https://a.example.net',
  ])('refuses %j, at its path', (value) => {
    const found = issues(documentWith({}, { public_url: value }));
    expect(found.map((i) => i.path)).toEqual(['pools.0.origins.0.public_url']);
    expect(parsePublicUrl(value)).toBeUndefined();
  });
});

describe('config: load_shedding', () => {
  it('defaults to shedding nothing, as Cloudflare', () => {
    expect(validConfig(documentWith({})).pools[0].load_shedding).toEqual({
      default_percent: 0,
      default_policy: 'random',
      session_percent: 0,
      session_policy: 'hash',
    });
    expect(new Plan(1, validConfig(documentWith({})), {}, new Set()).pools.get('p')!.shedding).toBeUndefined();
  });

  it('fills the fields left out', () => {
    expect(validConfig(documentWith({ load_shedding: { default_percent: 30 } })).pools[0].load_shedding).toEqual({
      default_percent: 30,
      default_policy: 'random',
      session_percent: 0,
      session_policy: 'hash',
    });
  });

  it.each([0, 0.5, 30, 99.9, 100])('accepts %d percent', (percent) => {
    expect(issues(documentWith({ load_shedding: { default_percent: percent, session_percent: percent } }))).toEqual([]);
  });

  it.each([-1, -0.01, 100.01, 101, Number.NaN, Number.POSITIVE_INFINITY])('refuses %d percent, at each field', (percent) => {
    expect(issues(documentWith({ load_shedding: { default_percent: percent, session_percent: percent } })).map((i) => i.path)).toEqual([
      'pools.0.load_shedding.default_percent',
      'pools.0.load_shedding.session_percent',
    ]);
  });

  it('takes random or hash for new traffic, hash alone for sessions (as Cloudflare)', () => {
    expect(issues(documentWith({ load_shedding: { default_policy: 'hash' } }))).toEqual([]);
    const bad = { default_policy: 'round_robin', session_policy: 'random' } as unknown as PoolInput['load_shedding'];
    expect(issues(documentWith({ load_shedding: bad })).map((i) => i.path)).toEqual([
      'pools.0.load_shedding.default_policy',
      'pools.0.load_shedding.session_policy',
    ]);
  });

  it('refuses unknown fields in it', () => {
    const typo = { default_precent: 10 } as unknown as PoolInput['load_shedding'];
    expect(issues(documentWith({ load_shedding: typo })).map((i) => i.path)).toEqual(['pools.0.load_shedding']);
  });
});
