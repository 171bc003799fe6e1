import { describe, expect, it } from 'vitest';
import { compactConfig } from '../../src/config/compact';
import { ConfigSchema, type ConfigInput } from '../../src/config/schema';
import { validateConfig } from '../../src/config/validate';
import { loadBalancer, pool, validConfig } from '../support/configs';

function withRules(rules: unknown[]): ConfigInput {
  return {
    pools: [pool('web', ['a']), pool('api', ['b'])],
    load_balancers: [loadBalancer({ default_pools: ['web'], rules } as Parameters<typeof loadBalancer>[0])],
  };
}

function issues(input: ConfigInput) {
  const result = validateConfig(input);
  return result.ok ? [] : result.issues;
}

describe('load balancer rules in the schema', () => {
  it('fills in the defaults of a rule', () => {
    const config = validConfig(withRules([{ name: 'api', condition: 'http.request.uri.path wildcard "/api/*"', overrides: { default_pools: ['api'] } }]));
    expect(config.load_balancers[0]!.rules).toEqual([
      {
        name: 'api',
        priority: 0,
        disabled: false,
        terminates: false,
        condition: 'http.request.uri.path wildcard "/api/*"',
        fixed_response: null,
        overrides: { default_pools: ['api'] },
      },
    ]);
  });

  it('leaves rules out when a load balancer has none', () => {
    expect(validConfig(withRules([])).load_balancers[0]!.rules).toEqual([]);
    expect(validConfig({ pools: [pool('web', ['a'])], load_balancers: [loadBalancer({ default_pools: ['web'] })] }).load_balancers[0]!.rules).toBeUndefined();
  });

  it('refuses a condition that does not compile, naming the path and the column', () => {
    const found = issues(withRules([{ name: 'ok', condition: 'http.host eq "a"' }, { name: 'bad', condition: 'http.host eq' }]));
    expect(found).toHaveLength(1);
    expect(found[0]!.path).toBe('load_balancers.0.rules.1.condition');
    expect(found[0]!.message).toMatch(/column \d+/);
  });

  it('refuses overrides naming unknown pools, at their path', () => {
    const found = issues(
      withRules([{ name: 'r', condition: 'http.host eq "a"', overrides: { default_pools: ['nope'], fallback_pool: 'gone', country_pools: { DE: ['x'] } } }]),
    );
    expect(found.map((i) => i.path).sort()).toEqual([
      'load_balancers.0.rules.0.overrides.country_pools.DE.0',
      'load_balancers.0.rules.0.overrides.default_pools.0',
      'load_balancers.0.rules.0.overrides.fallback_pool',
    ]);
  });

  it('refuses an override of a field rules do not override, as an unknown key', () => {
    expect(issues(withRules([{ name: 'r', condition: 'http.host eq "a"', overrides: { retries: 0 } as never }])).map((i) => i.path)).toEqual([
      'load_balancers.0.rules.0.overrides',
    ]);
  });

  it('checks the extension overrides: a binding name, a key, a redirect status, a hash key only with hash', () => {
    const at = (overrides: Record<string, unknown>) => issues(withRules([{ name: 'r', condition: 'true', overrides }])).map((i) => i.path);
    expect(at({ rate_limit: {} })).toEqual(['load_balancers.0.rules.0.overrides.rate_limit.binding']);
    expect(at({ rate_limit: { binding: 'SEARCH-LIMIT' } })).toEqual(['load_balancers.0.rules.0.overrides.rate_limit.binding']);
    expect(at({ rate_limit: { binding: 'SEARCH_LIMIT', key: 'uri' } })).toEqual(['load_balancers.0.rules.0.overrides.rate_limit.key']);
    expect(at({ rate_limit: { binding: 'SEARCH_LIMIT', key: 'header:x-api-token', period: 30 } })).toEqual(['load_balancers.0.rules.0.overrides.rate_limit.period']);
    expect(at({ rate_limit: { binding: 'SEARCH_LIMIT', key: 'cookie:session' } })).toEqual([]);
    expect(at({ origin_steering: { policy: 'random', hash_key: 'path' } })).toEqual(['load_balancers.0.rules.0.overrides.origin_steering.hash_key']);
    expect(at({ origin_steering: { policy: 'hash', hash_key: 'header:x-client-id' } })).toEqual([]);
    expect(at({ redirect: { status_code: 200 } })).toEqual(['load_balancers.0.rules.0.overrides.redirect.status_code']);
  });

  it('a redirect needs a public_url on every origin the rule can reach, the fallback pool included', () => {
    const config = {
      pools: [
        { id: 'a', origins: [{ name: 'a1', address: 'a1.example', public_url: 'https://a1.example' }] },
        { id: 'b', origins: [{ name: 'b1', address: 'b1.example' }, { name: 'b2', address: 'b2.example', public_url: '' }] },
      ],
      load_balancers: [
        {
          id: 'lb',
          hostname: '*',
          default_pools: ['b'],
          rules: [
            { name: 'ok', condition: 'true', terminates: true, overrides: { default_pools: ['a'], redirect: {} } },
            { name: 'fallback', condition: 'true', overrides: { default_pools: ['a'], fallback_pool: 'b', redirect: { status_code: 302 } } },
            { name: 'inherits', condition: 'true', overrides: { redirect: { status_code: 301 } } },
          ],
        },
      ],
    };
    const result = ConfigSchema.safeParse(config);
    expect(result.success).toBe(false);
    const found = result.error!.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    expect(found).toEqual([
      { path: 'load_balancers.0.rules.1.overrides.redirect', message: expect.stringContaining('b/b1, b/b2') },
      { path: 'load_balancers.0.rules.2.overrides.redirect', message: expect.stringContaining('b/b1, b/b2') },
    ]);
    expect(ConfigSchema.parse({ ...config, load_balancers: [{ ...config.load_balancers[0]!, rules: [config.load_balancers[0]!.rules[0]!] }] }).load_balancers[0]!.rules![0]!.overrides.redirect).toEqual({
      status_code: 307,
    });
  });

  it('header affinity set by a rule needs a header', () => {
    const found = issues(withRules([{ name: 'r', condition: 'http.host eq "a"', overrides: { session_affinity: 'header' } }]));
    expect(found.map((i) => i.path)).toEqual(['load_balancers.0.rules.0.overrides.session_affinity_attributes.headers']);
  });

  it('bounds fixed responses and the number of rules', () => {
    expect(issues(withRules([{ name: 'r', condition: 'http.host eq "a"', fixed_response: { status_code: 600 } }])).length).toBe(1);
    expect(issues(withRules([{ name: 'r', condition: 'http.host eq "a"', fixed_response: { message_body: 'x'.repeat(64 * 1024 + 1) } }])).length).toBe(1);
    const many = Array.from({ length: 101 }, (_, i) => ({ name: `r${i}`, condition: 'http.host eq "a"' }));
    expect(issues(withRules(many)).map((i) => i.path)).toEqual(['load_balancers.0.rules']);
  });

  it('round-trips through the compact form', () => {
    const config = validConfig(
      withRules([
        { name: 'down', condition: 'http.request.uri.path eq "/maintenance"', terminates: true, fixed_response: { status_code: 503, message_body: 'later' } },
        { name: 'api', priority: 2, condition: 'http.request.uri.path wildcard "/api/*"', overrides: { default_pools: ['api'], steering_policy: 'random' } },
      ]),
    );
    const compact = compactConfig(config);
    expect(JSON.stringify(compact)).toContain('"rules"');
    expect(validConfig(compact as ConfigInput)).toEqual(config);
  });
});
