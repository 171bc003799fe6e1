import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compactConfig, compactJson, DEFAULTS, expandStored, MAX_CONFIG_BYTES, MAX_FULL_CONFIG_BYTES, oversize, storedText } from '../../src/config/compact';
import type { ConfigInput } from '../../src/config/schema';
import { loadBalancer, MONITOR, origin, pool, validConfig } from '../support/configs';

/** Every field of every resource set to something other than its default. */
const EVERYTHING: ConfigInput = {
  monitors: [
    {
      id: 'm',
      type: 'https',
      method: 'HEAD',
      path: '/health',
      header: { Host: ['app.example'] },
      expected_codes: '200',
      expected_body: 'ok',
      interval: 10,
      timeout: 2,
      retries: 1,
      consecutive_up: 3,
      consecutive_down: 4,
    },
  ],
  pools: [
    pool('eu', [origin('a', { weight: 2, enabled: false, drain: true, backup: true, header: { Host: ['a.example'] }, network: 'VPC' }), 'b'], {
      name: 'Europe',
      enabled: false,
      minimum_origins: 2,
      monitor: 'm',
      latitude: 50.1,
      longitude: 8.7,
      origin_steering: { policy: 'hash' },
      slow_start: 30,
    }),
    pool('us', ['c']),
  ],
  load_balancers: [
    loadBalancer({
      hostname: 'App.Example',
      enabled: false,
      default_pools: ['eu', 'us'],
      fallback_pool: 'us',
      steering_policy: 'random',
      random_steering: { default_weight: 2, pool_weights: { eu: 3 } },
      region_pools: { WEU: ['eu'] },
      country_pools: { US: ['us'] },
      pop_pools: { LHR: ['eu'] },
      session_affinity: 'header',
      session_affinity_ttl: 60,
      session_affinity_attributes: { headers: ['X-Session'], samesite: 'Strict', secure: 'Always', zero_downtime_failover: 'temporary' },
      request_headers: { 'X-Test': '1' },
      preserve_host: true,
      retries: 0,
      retry_on: ['timeout', 'timeout', '500'],
      attempt_timeout_ms: 500,
      read_timeout_ms: 0,
      passive_health: { max_fails: 1, fail_timeout: 5, max_ejection_percent: 100 },
      expose_headers: false,
    }),
  ],
};

describe('compactConfig', () => {
  it('leaves out exactly the default-valued fields', () => {
    const config = validConfig({ monitors: [MONITOR], pools: [pool('p', ['a'], { monitor: 'mon' })], load_balancers: [loadBalancer({ default_pools: ['p'] })] });
    expect(compactConfig(config)).toEqual({
      monitors: [{ id: 'mon' }],
      pools: [{ id: 'p', monitor: 'mon', origins: [{ name: 'a', address: 'http://a.internal:8080' }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['p'] }],
    });
    expect(compactConfig(validConfig({}))).toEqual({});
  });

  it('keeps every field that differs from its default, as validated', () => {
    const config = validConfig(EVERYTHING);
    const compact = compactConfig(config);
    expect(compact.pools?.[0]).toMatchObject({ name: 'Europe', enabled: false, origin_steering: { policy: 'hash' }, slow_start: 30 });
    expect(compact.pools?.[0].origins?.[0]).toEqual(config.pools[0].origins[0]);
    expect(compact.pools?.[0].origins?.[1]).toEqual({ name: 'b', address: 'http://b.internal:8080' });
    // Values as validation left them: the host lower-cased, retry_on without repeats.
    expect(compact.load_balancers?.[0]).toMatchObject({ hostname: 'app.example', retry_on: ['timeout', '500'] });
    expect(compact.monitors?.[0]).toEqual(config.monitors[0]);
  });

  it('validates back to the same configuration', () => {
    const config = validConfig(EVERYTHING);
    expect(validConfig(JSON.parse(compactJson(config)))).toEqual(config);

    // Any mix of default and non-default origin fields round-trips.
    const originFields = fc.record(
      {
        weight: fc.constantFrom(0, 1, 2.5),
        enabled: fc.boolean(),
        drain: fc.boolean(),
        backup: fc.boolean(),
        header: fc.constantFrom<Record<string, string[]>>({}, { Host: ['h.example'] }),
        network: fc.constantFrom('', 'NET'),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.array(originFields, { minLength: 1, maxLength: 5 }), fc.constantFrom('round_robin', 'hash') as fc.Arbitrary<'round_robin' | 'hash'>, (fields, policy) => {
        const doc = validConfig({
          pools: [pool('p', fields.map((f, i) => origin(`o${i}`, f)), { origin_steering: { policy } })],
          load_balancers: [loadBalancer({ default_pools: ['p'] })],
        });
        expect(validConfig(JSON.parse(compactJson(doc)))).toEqual(doc);
      }),
      { numRuns: 200 },
    );
  });
});

describe('the size limit', () => {
  const manyOrigins = (count: number) =>
    validConfig({
      pools: [pool('big', Array.from({ length: count }, (_, i) => origin(`o${i}`, { address: `http://10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8080` })))],
      load_balancers: [loadBalancer({ default_pools: ['big'] })],
    });

  it('counts a 10,000-origin configuration by what it says, not by its defaults', () => {
    const config = manyOrigins(10_000);
    const full = new TextEncoder().encode(JSON.stringify(config)).byteLength;
    expect(full).toBeGreaterThan(MAX_CONFIG_BYTES);
    expect(oversize(config)).toBeUndefined();
  });

  it('names the size and the limit when a configuration is over it', () => {
    const message = oversize(manyOrigins(30_000));
    expect(message).toMatch(/^the configuration is \d+ bytes as compact JSON .* at most 1048576 \(1 MiB\)/);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const chars = Math.floor(MAX_CONFIG_BYTES / 3);
    const config = validConfig({ pools: [pool('p', ['a'], { name: 'é'.repeat(256) })], load_balancers: [loadBalancer({ default_pools: ['p'] })] });
    const text = compactJson(config).replace('é'.repeat(256), '€'.repeat(chars));
    expect(text.length).toBeLessThan(MAX_CONFIG_BYTES);
    expect(oversize(config, text)).toBeDefined();
  });
});

describe('nested objects', () => {
  it('lose their default fields one by one, and validate back', () => {
    const config = validConfig({
      pools: [pool('p', ['a'])],
      load_balancers: [
        loadBalancer({
          default_pools: ['p'],
          session_affinity_attributes: { secure: 'Always' },
          passive_health: { max_fails: 1 },
          random_steering: { pool_weights: { p: 3 } },
        }),
      ],
    });
    expect(compactConfig(config).load_balancers?.[0]).toEqual({
      id: 'main',
      hostname: '*',
      default_pools: ['p'],
      session_affinity_attributes: { secure: 'Always' },
      passive_health: { max_fails: 1 },
      random_steering: { pool_weights: { p: 3 } },
    });
    expect(validConfig(JSON.parse(compactJson(config)))).toEqual(config);
  });
});

describe('the stored form', () => {
  const config = validConfig({ pools: [pool('p', ['a', origin('b', { weight: 3 })])], load_balancers: [loadBalancer({ default_pools: ['p'] })] });

  it('carries the defaults it leaves out, and expands back to the configuration', () => {
    const text = storedText(compactJson(config));
    expect(JSON.parse(text).$defaults).toEqual(JSON.parse(JSON.stringify(DEFAULTS)));
    expect(validConfig(expandStored(JSON.parse(text)) as ConfigInput)).toEqual(config);
    expect(validConfig(expandStored(JSON.parse(storedText(compactJson(validConfig({}))))) as ConfigInput)).toEqual(validConfig({}));
  });

  it('keeps the values it was stored with when a later release changes a default', () => {
    // Stored when an origin's default weight was 5: origin a (which had that weight) kept no weight field.
    const stored = JSON.parse(storedText(compactJson(config)));
    stored.$defaults.origin.weight = 5;
    const read = validConfig(expandStored(stored) as ConfigInput);
    expect(read.pools[0].origins.map((o) => o.weight)).toEqual([5, 3]);
  });

  it('reads a configuration stored with its defaults written out as it is', () => {
    expect(expandStored(JSON.parse(JSON.stringify(config)))).toEqual(JSON.parse(JSON.stringify(config)));
  });

  it('passes damaged defaults on for validation to refuse, or ignores a part that is not an object', () => {
    const stored = JSON.parse(storedText(compactJson(config)));
    expect(() => expandStored({ ...stored, $defaults: 5 })).not.toThrow();
    expect(expandStored({ ...stored, $defaults: { origin: 'x' } })).toMatchObject({ pools: [{ origins: [{ name: 'a' }, { name: 'b', weight: 3 }] }] });
  });
});

describe('the limit on the form GET writes', () => {
  it('refuses a configuration whose defaults written out would not fit a PUT body', () => {
    // Minimal load balancers are about 15 times larger with their defaults written out.
    const lbs = Array.from({ length: 16_000 }, (_, i) => loadBalancer({ id: `l${i}`, hostname: `h${i}.t`, default_pools: ['p'] }));
    const config = validConfig({ pools: [pool('p', ['a'])], load_balancers: lbs });
    expect(new TextEncoder().encode(compactJson(config)).byteLength).toBeLessThan(MAX_CONFIG_BYTES);
    expect(new TextEncoder().encode(JSON.stringify(config)).byteLength).toBeGreaterThan(MAX_FULL_CONFIG_BYTES);
    expect(oversize(config)).toMatch(/with its defaults written out, as GET returns it; at most 8388608/);
  });
});
