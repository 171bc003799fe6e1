import { describe, expect, it } from 'vitest';

import sample from '../../examples/cloudflare-export.json';
import { importCloudflare, importRefusal, type ImportNote } from '../../src/config/cloudflare-import';
import { ID_PATTERN, type Config } from '../../src/config/schema';
import { validateConfig } from '../../src/config/validate';
import { regionOfCountry } from '../../src/geo/regions';
import { MAX_RULES } from '../../src/rules/schema';
import { decide, type Decision } from '../../src/steering/decide';
import { withOverrides } from '../../src/steering/plan';
import { evaluateRules, requestView, type CompiledRule } from '../../src/steering/rules';
import type { HealthMap } from '../../src/health/state';
import { compile, facts, request } from '../support/configs';

// The Cloudflare id of the sample's http monitor.
const APP_HEALTH = '043bb2491db6303aaf8b94afec0978ad';

/** Imports, validates (failing the test with the issues if invalid) and returns the filled-in config and the notes. */
function imported(input: unknown): { config: Config; unmapped: ImportNote[]; paths: string[] } {
  const result = importCloudflare(input);
  const validation = validateConfig(result.config);
  if (!validation.ok) throw new Error(`imported config is invalid: ${JSON.stringify(validation.issues)}`);
  return { config: validation.config, unmapped: result.unmapped, paths: result.unmapped.map((n) => n.path) };
}

const message = (unmapped: readonly ImportNote[], path: string) => unmapped.find((n) => n.path === path)?.message;

/**
 * Steers a request for `url` as the request path does: the load balancer for its host,
 * its rules evaluated, then the decision with the matching rules' overrides, or the
 * fixed response that answers instead.
 */
function steerRequest(
  config: Config,
  url: string,
  client: Parameters<typeof facts>[0] = {},
  health: HealthMap = {},
  headers: Record<string, string> = {},
): { decision?: Decision; fixed?: CompiledRule['fixed']; rules: string[] } {
  const plan = compile(config, health);
  const target = new URL(url);
  const hostLb = plan.loadBalancerFor(target.hostname);
  if (hostLb === undefined) throw new Error(`no load balancer for ${target.hostname}`);
  const clientFacts = facts(client);
  const outcome = evaluateRules(hostLb.rules, requestView('GET', target, new Headers(headers), clientFacts, undefined, hostLb.config.hostname));
  const rules = outcome.matched.map((i) => hostLb.rules[i]!.name);
  if (outcome.fixed !== undefined) return { fixed: outcome.fixed.fixed, rules };
  return { decision: decide(plan, withOverrides(hostLb, outcome.matched), request({ facts: clientFacts })), rules };
}

// Small Cloudflare objects for the edge cases: ids are 32 hex digits, as the API's.
const cfId = (n: number) => n.toString(16).padStart(32, '0');
const cfOrigin = (name: string, extra: Record<string, unknown> = {}) => ({ name, address: '192.0.2.10', enabled: true, weight: 1, ...extra });
const cfPool = (id: number, name: string, extra: Record<string, unknown> = {}) => ({ id: cfId(id), name, origins: [cfOrigin('o1')], ...extra });
const cfLb = (name: string, defaultPools: unknown[], extra: Record<string, unknown> = {}) => ({
  id: cfId(0xfff),
  name,
  default_pools: defaultPools,
  ...extra,
});

describe('importCloudflare: the sample export (examples/cloudflare-export.json)', () => {
  const { config, unmapped, paths } = imported(sample);

  it('derives readable ids and rewrites every reference to them', () => {
    expect(config.monitors.map((m) => m.id)).toEqual(['app-health']);
    expect(config.pools.map((p) => [p.id, p.monitor])).toEqual([
      ['eu-frankfurt', 'app-health'],
      ['us-ashburn', 'app-health'],
      ['sa-saopaulo', undefined],
    ]);
    const [lb] = config.load_balancers;
    expect(lb).toMatchObject({
      id: 'app-example-com',
      hostname: 'app.example.com',
      default_pools: ['eu-frankfurt', 'us-ashburn'],
      fallback_pool: 'us-ashburn',
      steering_policy: 'geo',
      region_pools: { WEU: ['eu-frankfurt'], ENAM: ['us-ashburn'], SSAM: ['sa-saopaulo'] },
      country_pools: { BR: ['sa-saopaulo'] },
      pop_pools: { GRU: ['sa-saopaulo'] },
    });
    // No Cloudflare id survives anywhere in the result.
    expect(JSON.stringify(config)).not.toMatch(/[0-9a-f]{32}/);
  });

  it('keeps the monitor, pool and origin settings that have a Switchyard equivalent', () => {
    expect(config.monitors[0]).toEqual({
      id: 'app-health',
      type: 'http',
      method: 'GET',
      path: '/health',
      header: { Host: ['app.example.com'] },
      expected_codes: '2xx',
      expected_body: '',
      interval: 60,
      timeout: 5,
      retries: 2,
      consecutive_up: 2,
      consecutive_down: 3,
    });
    expect(config.pools.map((p) => p.origins.map((o) => [o.name, o.address, o.weight]))).toEqual([
      [['backend1', 'http://127.0.0.1:8081', 1]],
      [['backend2', 'http://127.0.0.1:8082', 1]],
      [['backend3', 'http://127.0.0.1:8083', 1]],
    ]);
    expect(config.pools.map((p) => [p.name, p.latitude, p.longitude, p.origin_steering.policy, p.minimum_origins])).toEqual([
      ['eu-frankfurt', 50.11, 8.68, 'random', 1],
      ['us-ashburn', 39.04, -77.49, 'random', 1],
      ['sa-saopaulo', -23.55, -46.63, 'random', 1],
    ]);
    expect(config.load_balancers[0].session_affinity).toBe('cookie');
    expect(config.load_balancers[0].session_affinity_ttl).toBe(3600);
    expect(config.load_balancers[0].session_affinity_attributes).toEqual({
      headers: [],
      samesite: 'Lax',
      secure: 'Auto',
      zero_downtime_failover: 'sticky',
    });
  });

  it('lists exactly what could not be imported, and nothing left at its default', () => {
    expect(paths).toEqual(['monitors[1].type', 'pools[1].notification_email', 'pools[2].monitor']);
    expect(message(unmapped, 'monitors[1].type')).toContain('icmp_ping');
    expect(message(unmapped, 'pools[2].monitor')).toMatch(/"sa ping".*no active health checks/);
  });

  it('converts the rule, its pool rewritten', () => {
    expect(config.load_balancers[0].rules).toEqual([
      {
        name: 'API v2 is served from Ashburn only',
        priority: 0,
        disabled: false,
        terminates: true,
        condition: 'http.request.uri.path contains "/api/v2/"',
        fixed_response: null,
        overrides: { default_pools: ['us-ashburn'] },
      },
    ]);
  });

  describe('steers as the export describes', () => {
    function steer(client: Parameters<typeof facts>[0], health: HealthMap = {}, url = 'https://app.example.com/'): Decision {
      const steered = steerRequest(config, url, client, health);
      if (steered.decision === undefined) throw new Error(`a fixed response answered ${url}`);
      return steered.decision;
    }
    const inCountry = (country: string) => ({ country, region: regionOfCountry(country) });

    it('a Brazilian client goes to the sa pool (country_pools)', () => {
      const decision = steer(inCountry('BR'));
      expect(decision.policyReason()).toBe('country_pools[BR]');
      expect(decision.candidates[0].pool).toBe('sa-saopaulo');
      expect(decision.candidates[0].url.href).toBe('http://127.0.0.1:8083/');
    });

    it('a client that reached GRU goes to sa even from the US (pop_pools first)', () => {
      const decision = steer({ ...inCountry('US'), colo: 'GRU' });
      expect(decision.candidates[0].pool).toBe('sa-saopaulo');
    });

    it('a client in WEU goes to eu, one in ENAM to us (region_pools)', () => {
      expect(steer(inCountry('FR')).candidates[0].pool).toBe('eu-frankfurt');
      expect(steer(inCountry('US')).candidates[0].pool).toBe('us-ashburn');
    });

    it('a client no map matches goes to the first default pool, eu, then us', () => {
      const decision = steer(inCountry('JP'));
      expect(decision.policyReason()).toBe('no geo match: default_pools');
      expect(decision.pools.map((p) => p.id)).toEqual(['eu-frankfurt', 'us-ashburn']);
      expect(decision.candidates.map((o) => o.pool)).toEqual(['eu-frankfurt', 'us-ashburn']);
    });

    it('pins new sessions with a cookie', () => {
      const decision = steer(inCountry('FR'));
      expect(decision.affinity).toBe('new');
      expect(decision.pinServed).toBe(true);
    });

    it('with eu and us down, a European client gets the fallback pool, us', () => {
      const down: HealthMap = { 'eu-frankfurt': { backend1: { healthy: false } }, 'us-ashburn': { backend2: { healthy: false } } };
      const decision = steer(inCountry('FR'), down);
      expect(decision.fallbackUsed).toBe(true);
      expect(decision.candidates[0].pool).toBe('us-ashburn');
    });

    it('the rule sends /api/v2/ to us where the default pools apply; the geo maps still come first', () => {
      const api = 'https://app.example.com/api/v2/items';
      expect(steerRequest(config, api, inCountry('JP')).rules).toEqual(['API v2 is served from Ashburn only']);
      expect(steer(inCountry('JP'), {}, api).pools.map((p) => p.id)).toEqual(['us-ashburn']);
      expect(steer(inCountry('JP'), {}, 'https://app.example.com/api/v1/items').pools.map((p) => p.id)).toEqual(['eu-frankfurt', 'us-ashburn']);
      expect(steer(inCountry('BR'), {}, api).candidates[0].pool).toBe('sa-saopaulo');
    });

    it('the sa pool lost its icmp monitor, so check results do not take it down', () => {
      const decision = steer(inCountry('BR'), { 'sa-saopaulo': { backend3: { healthy: false } } });
      expect(decision.candidates[0].pool).toBe('sa-saopaulo');
    });
  });
});

describe('importCloudflare: input shapes', () => {
  const reference = importCloudflare(sample);
  const envelopes = sample as unknown as Record<'monitors' | 'pools' | 'load_balancers', { result: unknown[] }>;
  const monitors = envelopes.monitors.result;
  const pools = envelopes.pools.result;
  const lbs = envelopes.load_balancers.result;

  it('bare arrays give the same result as API envelopes', () => {
    expect(importCloudflare({ monitors, pools, load_balancers: lbs })).toEqual(reference);
  });

  it('one mixed array is told apart by fields, whatever the order of the kinds', () => {
    // Load balancers before the pools they name, monitors after the pools using them:
    // within a kind the input order is kept, so the paths match too (pools[1] is the second pool).
    expect(importCloudflare([...lbs, ...pools, ...monitors])).toEqual(reference);
    expect(importCloudflare([lbs[0], pools[0], monitors[0], pools[1], monitors[1], pools[2]])).toEqual(reference);
  });

  it('an array of API responses, or one API response, is accepted too', () => {
    expect(importCloudflare([envelopes.load_balancers, envelopes.monitors, envelopes.pools])).toEqual(reference);
    const poolsOnly = importCloudflare(envelopes.pools);
    expect(poolsOnly.config.pools?.map((p) => p.id)).toEqual(['eu-frankfurt', 'us-ashburn', 'sa-saopaulo']);
    // Without the monitors, the pools' monitor references dangle.
    expect(poolsOnly.unmapped.map((n) => n.path)).toEqual(['pools[0].monitor', 'pools[1].monitor', 'pools[1].notification_email', 'pools[2].monitor']);
    expect(message(poolsOnly.unmapped, 'pools[0].monitor')).toBe(`unknown monitor "${APP_HEALTH}"; the pool has no active health checks`);
  });

  it('notes array items it cannot recognize and imports the rest', () => {
    const { config, paths } = imported([{ hello: 'world' }, 7, pools[0]]);
    expect(config.pools.map((p) => p.id)).toEqual(['eu-frankfurt']);
    expect(paths).toEqual(['input[0]', 'input[1]', 'pools[0].monitor']);
  });

  it('a kind that is neither an array nor an envelope is noted, not thrown', () => {
    const { config, paths } = imported({ monitors: 'nope', pools: [cfPool(1, 'a')] });
    expect(config.pools).toHaveLength(1);
    expect(paths).toEqual(['monitors']);
  });

  it.each([
    ['null', null],
    ['a number', 42],
    ['a string', 'monitors'],
    ['an empty object', {}],
    ['an object with none of the keys', { zones: [] }],
    ['an empty array', []],
    ['an array of non-Cloudflare values', [1, 'x', { a: 1 }]],
  ])('throws a clear Error on %s', (_, input) => {
    expect(() => importCloudflare(input)).toThrow(/Cloudflare/);
  });
});

describe('importCloudflare: ids', () => {
  it('makes duplicate pool, origin and monitor names unique and rewrites references to the right one', () => {
    const { config, paths } = imported({
      monitors: [
        { id: cfId(0xa1), type: 'http', description: 'Root check' },
        { id: cfId(0xa2), type: 'http', description: 'root check' },
        { id: 'ab12cd34ef56ab12cd34ef56ab12cd34', type: 'http' },
      ],
      pools: [
        cfPool(1, 'EU Frankfurt', { monitor: cfId(0xa2), origins: [cfOrigin('web'), cfOrigin('web'), cfOrigin('Web'), cfOrigin('')] }),
        cfPool(2, 'eu frankfurt', { monitor: cfId(0xa1) }),
        cfPool(3, 'São Paulo (primary)!', { monitor: 'ab12cd34ef56ab12cd34ef56ab12cd34' }),
      ],
      load_balancers: [cfLb('App.Example.com.', [cfId(2), cfId(1)], { region_pools: { SSAM: [cfId(3)] } }), cfLb('*.example.com', [cfId(1)])],
    });
    expect(paths).toEqual([]);
    expect(config.monitors.map((m) => m.id)).toEqual(['root-check', 'root-check-2', 'monitor-ab12cd34']);
    expect(config.pools.map((p) => [p.id, p.monitor])).toEqual([
      ['eu-frankfurt', 'root-check-2'],
      ['eu-frankfurt-2', 'root-check'],
      ['sao-paulo-primary', 'monitor-ab12cd34'],
    ]);
    // The unnamed origin is named after its address.
    expect(config.pools[0].origins.map((o) => o.name)).toEqual(['web', 'web-2', 'web-3', '192-0-2-10']);
    expect(config.load_balancers.map((lb) => [lb.id, lb.hostname, lb.default_pools])).toEqual([
      ['app-example-com', 'app.example.com', ['eu-frankfurt-2', 'eu-frankfurt']],
      ['wildcard-example-com', '*.example.com', ['eu-frankfurt']],
    ]);
    expect(config.load_balancers[0].region_pools).toEqual({ SSAM: ['sao-paulo-primary'] });
  });

  it('cuts long names to 64 characters, suffix included, and falls back when a name has no usable character', () => {
    const long = 'x'.repeat(100);
    const { config } = imported({ pools: [cfPool(1, long), cfPool(2, long), cfPool(3, '***'), { origins: [cfOrigin('o')] }] });
    const ids = config.pools.map((p) => p.id);
    expect(ids).toEqual(['x'.repeat(64), `${'x'.repeat(62)}-2`, `pool-${cfId(3).slice(0, 8)}`, 'pool-4']);
    for (const id of ids) expect(id).toMatch(ID_PATTERN);
  });

  it('a second load balancer for the same hostname is not imported', () => {
    const { config, paths } = imported({ pools: [cfPool(1, 'a')], load_balancers: [cfLb('a.example', [cfId(1)]), cfLb('A.example', [cfId(1)])] });
    expect(config.load_balancers).toHaveLength(1);
    expect(paths).toEqual(['load_balancers[1].name']);
  });
});

describe('importCloudflare: mapping rules', () => {
  it('least_connections becomes least_outstanding_requests, with a note, for pools and load balancers', () => {
    const { config, unmapped } = imported({
      pools: [cfPool(1, 'a', { origin_steering: { policy: 'least_connections' } })],
      load_balancers: [cfLb('a.example', [cfId(1)], { steering_policy: 'least_connections' })],
    });
    expect(config.pools[0].origin_steering.policy).toBe('least_outstanding_requests');
    expect(config.load_balancers[0].steering_policy).toBe('least_outstanding_requests');
    expect(unmapped).toEqual([
      { path: 'pools[0].origin_steering.policy', message: expect.stringContaining('least_outstanding_requests') },
      { path: 'load_balancers[0].steering_policy', message: expect.stringContaining('least_outstanding_requests') },
    ]);
  });

  it("origin steering defaults to Cloudflare's random, not Switchyard's round_robin; hash is kept", () => {
    const { config } = imported({ pools: [cfPool(1, 'a'), cfPool(2, 'b', { origin_steering: { policy: 'hash' } })] });
    expect(config.pools.map((p) => p.origin_steering.policy)).toEqual(['random', 'hash']);
  });

  it('drops dangling references with a note each and keeps the rest', () => {
    const ghost = cfId(0xdead);
    const { config, unmapped, paths } = imported({
      pools: [cfPool(1, 'a', { monitor: cfId(0xbeef) }), cfPool(2, 'b')],
      load_balancers: [
        cfLb('a.example', [cfId(1), ghost, cfId(2)], {
          fallback_pool: ghost,
          region_pools: { WEU: [ghost], ENAM: [cfId(2)], MARS: [cfId(1)] },
          country_pools: { br: [cfId(1)], BRA: [cfId(1)] },
          pop_pools: { gru: [cfId(2), ghost] },
          random_steering: { default_weight: 0.5, pool_weights: { [cfId(1)]: 2, [ghost]: 3 } },
        }),
      ],
    });
    expect(config.pools[0].monitor).toBeUndefined();
    const [lb] = config.load_balancers;
    expect(lb.default_pools).toEqual(['a', 'b']);
    expect(lb.fallback_pool).toBeUndefined();
    expect(lb.region_pools).toEqual({ ENAM: ['b'] });
    expect(lb.country_pools).toEqual({ BR: ['a'] });
    expect(lb.pop_pools).toEqual({ GRU: ['b'] });
    expect(lb.random_steering).toEqual({ default_weight: 0.5, pool_weights: { a: 2 } });
    expect(paths).toEqual([
      'pools[0].monitor',
      'load_balancers[0].default_pools[1]',
      'load_balancers[0].fallback_pool',
      'load_balancers[0].region_pools.WEU[0]',
      'load_balancers[0].region_pools.MARS',
      'load_balancers[0].country_pools.BRA',
      'load_balancers[0].pop_pools.gru[1]',
      `load_balancers[0].random_steering.pool_weights.${ghost}`,
    ]);
    expect(message(unmapped, 'load_balancers[0].fallback_pool')).toBe(`unknown pool "${ghost}"; reference dropped`);
  });

  it('drops pools without origins, the references to them, and load balancers left without pools', () => {
    const { config, unmapped, paths } = imported({
      pools: [cfPool(1, 'empty', { origins: [] }), cfPool(2, 'kept'), cfPool(3, 'unusable', { origins: [{ name: 'x', address: 'not a host' }] })],
      load_balancers: [cfLb('a.example', [cfId(1), cfId(2)], { fallback_pool: cfId(1) }), cfLb('b.example', [cfId(1), cfId(3)])],
    });
    expect(config.pools.map((p) => p.id)).toEqual(['kept']);
    expect(config.load_balancers.map((lb) => [lb.hostname, lb.default_pools, lb.fallback_pool])).toEqual([['a.example', ['kept'], undefined]]);
    expect(paths).toEqual([
      'pools[0].origins',
      'pools[2].origins[0].address',
      'pools[2].origins',
      'load_balancers[0].default_pools[0]',
      'load_balancers[0].fallback_pool',
      'load_balancers[1].default_pools[0]',
      'load_balancers[1].default_pools[1]',
      'load_balancers[1].default_pools',
    ]);
    expect(message(unmapped, 'load_balancers[0].default_pools[0]')).toMatch(/"empty" was not imported/);
  });

  it('builds origin addresses from the pool monitor type, the port field and the address kind', () => {
    const { config } = imported({
      monitors: [{ id: cfId(0xa1), type: 'https', expected_codes: '200' }],
      pools: [
        cfPool(1, 'tls', {
          monitor: cfId(0xa1),
          origins: [
            cfOrigin('a', { address: 'origin.example.com' }),
            cfOrigin('b', { address: 'origin.example.com', port: 8443 }),
            cfOrigin('c', { address: '2001:db8::1' }),
            cfOrigin('d', { address: 'https://origin.example.com/prefix' }),
          ],
        }),
        cfPool(2, 'plain', {
          origins: [
            cfOrigin('a', { address: '2001:db8::1', port: 8080 }),
            cfOrigin('b', { address: '[2001:db8::2]' }),
            cfOrigin('c', { address: 'Origin.Example.com', port: 0 }),
            cfOrigin('d', { address: '127.0.0.1:9000' }),
          ],
        }),
      ],
    });
    expect(config.pools.map((p) => p.origins.map((o) => o.address))).toEqual([
      ['https://origin.example.com', 'https://origin.example.com:8443', 'https://[2001:db8::1]', 'https://origin.example.com/prefix'],
      ['http://[2001:db8::1]:8080', 'http://[2001:db8::2]', 'http://origin.example.com', 'http://127.0.0.1:9000'],
    ]);
  });

  it('keeps Cloudflare origin weights as they are, 0 included', () => {
    const { config } = imported({
      pools: [cfPool(1, 'a', { origins: [cfOrigin('a', { weight: 0.75 }), cfOrigin('b', { weight: 0.25 }), cfOrigin('c', { weight: 0 })] })],
    });
    expect(config.pools[0].origins.map((o) => o.weight)).toEqual([0.75, 0.25, 0]);
  });

  it('drops unsupported monitor types and notes non-default monitor settings', () => {
    const { config, paths } = imported({
      monitors: [
        { id: cfId(1), type: 'smtp' },
        { id: cfId(2), type: 'udp_icmp' },
        {
          id: cfId(3),
          type: 'https',
          description: 'deep',
          port: 8443,
          follow_redirects: true,
          allow_insecure: true,
          probe_zone: 'example.com',
          method: 'POST',
          consecutive_up: 0,
          consecutive_down: 0,
        },
        { id: cfId(4), type: 'tcp', method: 'connection_established', port: 0, timeout: 3 },
      ],
    });
    expect(config.monitors.map((m) => [m.id, m.type, m.method, m.consecutive_up, m.consecutive_down])).toEqual([
      ['deep', 'https', 'GET', 1, 1],
      [`monitor-${cfId(4).slice(0, 8)}`, 'tcp', 'GET', 2, 3],
    ]);
    expect(config.monitors[1].timeout).toBe(3);
    expect(paths).toEqual([
      'monitors[0].type',
      'monitors[1].type',
      'monitors[2].method',
      'monitors[2].follow_redirects',
      'monitors[2].allow_insecure',
      'monitors[2].probe_zone',
      'monitors[2].port',
    ]);
  });

  it('clamps monitor numbers to the schema ranges with a note', () => {
    const { config, unmapped } = imported({
      monitors: [{ id: cfId(1), type: 'http', interval: 2, timeout: 120, retries: 9, consecutive_up: 2.4, consecutive_down: 3 }],
    });
    expect(config.monitors[0]).toMatchObject({ interval: 5, timeout: 60, retries: 5, consecutive_up: 2, consecutive_down: 3 });
    expect(unmapped.map((n) => n.path)).toEqual(['monitors[0].interval', 'monitors[0].timeout', 'monitors[0].retries', 'monitors[0].consecutive_up']);
    expect(message(unmapped, 'monitors[0].interval')).toBe('2 changed to 5 (Switchyard allows whole numbers 5..3600)');
  });

  it('notes load balancer and pool settings Switchyard does not have, only when they are not at their default', () => {
    const { config, paths } = imported({
      pools: [
        cfPool(1, 'a', {
          check_regions: ['WEU'],
          load_shedding: { default_percent: 20, default_policy: 'random', session_percent: 0, session_policy: 'hash' },
          notification_filter: { pool: { disable: true } },
          origins: [cfOrigin('o', { virtual_network_id: 'f1b2c3' })],
        }),
        cfPool(2, 'b', { check_regions: [], load_shedding: { default_percent: 0, session_percent: 0 }, notification_filter: null }),
      ],
      load_balancers: [
        cfLb('a.example', [cfId(1)], {
          proxied: false,
          ttl: 60,
          adaptive_routing: { failover_across_pools: true },
          location_strategy: { prefer_ecs: 'always', mode: 'resolver_ip' },
          networks: ['cloudflare', 'jdcloud'],
          session_affinity: 'header',
          session_affinity_attributes: { headers: ['X-Session'], drain_duration: 60, require_all_headers: true, samesite: 'Strict' },
        }),
        cfLb('b.example', [cfId(2)], {
          proxied: true,
          ttl: 30,
          rules: [],
          adaptive_routing: { failover_across_pools: false },
          location_strategy: { prefer_ecs: 'proximity', mode: 'pop' },
          networks: ['cloudflare'],
          session_affinity: '',
          session_affinity_ttl: 0,
          session_affinity_attributes: { drain_duration: 0, require_all_headers: false },
        }),
      ],
    });
    expect(paths).toEqual([
      'pools[0].origins[0].virtual_network_id',
      'pools[0].notification_filter',
      'load_balancers[0].session_affinity_attributes.drain_duration',
      'load_balancers[0].session_affinity_attributes.require_all_headers',
      'load_balancers[0].proxied',
      'load_balancers[0].adaptive_routing',
      'load_balancers[0].location_strategy',
      'load_balancers[0].networks',
    ]);
    const [a, b] = config.load_balancers;
    expect(a.session_affinity).toBe('header');
    expect(a.session_affinity_attributes).toMatchObject({ headers: ['x-session'], samesite: 'Strict' });
    expect(b.session_affinity).toBe('none');
    expect(b.session_affinity_ttl).toBe(82_800);
  });

  it('header affinity without header names falls back to none, with a note', () => {
    const { config, paths } = imported({ pools: [cfPool(1, 'a')], load_balancers: [cfLb('a.example', [cfId(1)], { session_affinity: 'header' })] });
    expect(config.load_balancers[0].session_affinity).toBe('none');
    expect(paths).toEqual(['load_balancers[0].session_affinity']);
  });

  it('notes fields it does not know, but not read-only ones or empty ones', () => {
    const { paths } = imported({
      pools: [cfPool(1, 'a', { healthy: false, disabled_at: '2025-01-01T00:00:00Z', created_on: 'x', shiny: 'yes', future: null })],
    });
    expect(paths).toEqual(['pools[0].shiny']);
  });
});

describe('importCloudflare: odd values are noted, never thrown', () => {
  const odd = {
    monitors: [
      { id: cfId(0xa1), type: 'http', interval: '60', timeout: null, expected_codes: 'two hundred', path: 'health', header: { Host: 'a.example', X: [1] } },
      'monitor',
      { id: cfId(0xa2), type: 7 },
    ],
    pools: [
      cfPool(1, 'a', {
        monitor: cfId(0xa1),
        enabled: 'yes',
        minimum_origins: '1',
        latitude: '50.1',
        longitude: 8.6,
        origin_steering: { policy: 'fastest' },
        origins: [cfOrigin('o1', { weight: 'heavy', enabled: 1, port: 'http' }), null, cfOrigin('o2', { address: 42 })],
      }),
      null,
      cfPool(2, 'b', { origins: 'all of them' }),
    ],
    load_balancers: [
      cfLb('a.example', [cfId(1), 5], {
        steering_policy: 42,
        session_affinity: 'sometimes',
        session_affinity_ttl: '1h',
        session_affinity_attributes: { samesite: 'lax', secure: true },
        region_pools: ['WEU'],
        random_steering: { default_weight: -1, pool_weights: { [cfId(1)]: 'x' } },
      }),
      cfLb('not a host name', [cfId(1)]),
      { default_pools: [cfId(1)] },
    ],
  };

  it('imports what makes sense, validates, and accounts for every odd value', () => {
    const { config, paths } = imported(odd);
    expect(config.monitors.map((m) => [m.id, m.path, m.interval, m.timeout, m.expected_codes, m.header])).toEqual([
      [`monitor-${cfId(0xa1).slice(0, 8)}`, '/', 60, 5, '2xx', { Host: ['a.example'] }],
    ]);
    expect(config.pools).toHaveLength(1);
    expect(config.pools[0]).toMatchObject({ id: 'a', enabled: true, minimum_origins: 1, origin_steering: { policy: 'random' } });
    expect([config.pools[0].latitude, config.pools[0].longitude]).toEqual([undefined, undefined]);
    expect(config.pools[0].origins.map((o) => [o.name, o.address, o.weight, o.enabled])).toEqual([['o1', 'http://192.0.2.10', 1, true]]);
    expect(config.load_balancers.map((lb) => [lb.hostname, lb.default_pools, lb.steering_policy, lb.session_affinity, lb.region_pools])).toEqual([
      ['a.example', ['a'], '', 'none', {}],
    ]);
    expect(paths).toEqual([
      'monitors[0].path',
      'monitors[0].header.X',
      'monitors[0].expected_codes',
      'monitors[0].interval',
      'monitors[1]',
      'monitors[2].type',
      'pools[0].origins[0].port',
      'pools[0].origins[0].weight',
      'pools[0].origins[0].enabled',
      'pools[0].origins[1]',
      'pools[0].origins[2].address',
      'pools[0].enabled',
      'pools[0].minimum_origins',
      'pools[0].latitude',
      'pools[0].origin_steering.policy',
      'pools[1]',
      'pools[2].origins',
      'pools[2].origins',
      'load_balancers[0].default_pools[1]',
      'load_balancers[0].region_pools',
      'load_balancers[0].steering_policy',
      'load_balancers[0].random_steering.default_weight',
      `load_balancers[0].random_steering.pool_weights.${cfId(1)}`,
      'load_balancers[0].session_affinity',
      'load_balancers[0].session_affinity_ttl',
      'load_balancers[0].session_affinity_attributes.samesite',
      'load_balancers[0].session_affinity_attributes.secure',
      'load_balancers[1].name',
      'load_balancers[2].name',
    ]);
  });

  it('an empty export imports to an empty, valid configuration', () => {
    const { config, paths } = imported({ monitors: { result: [], success: true }, pools: [], load_balancers: null });
    expect([config.monitors, config.pools, config.load_balancers, paths]).toEqual([[], [], [], []]);
  });
});

describe('importCloudflare: load balancer rules', () => {
  const EU = '5c47bfed950cf7ae18c2976c7a285250';
  const US = '7826a6f6351a308cfa2d61b4497cdb1e';
  const BOTS = 'http.request.uri.path matches "^/admin" and cf.bot_management.score lt 30';
  // A load balancer as GET /zones/:id/load_balancers returns it, with four rules.
  const shop = {
    pools: [cfPool(0, 'eu-frankfurt', { id: EU }), cfPool(0, 'us-ashburn', { id: US })],
    load_balancers: {
      success: true,
      result: [
        cfLb('shop.example.com', [EU, US], {
          fallback_pool: US,
          steering_policy: 'geo',
          region_pools: { WEU: [EU], ENAM: [US] },
          session_affinity: 'none',
          rules: [
            {
              name: 'API from Ashburn',
              condition: 'http.request.uri.path matches "^/api/" and not ip.src.country in {"DE" "FR"}',
              disabled: false,
              priority: 10,
              terminates: false,
              fixed_response: null,
              overrides: { default_pools: [US, EU], region_pools: { WEU: [US] }, session_affinity: 'cookie', session_affinity_ttl: 600 },
            },
            {
              name: 'Maintenance',
              condition: 'http.request.uri.path eq "/maintenance"',
              disabled: false,
              priority: 0,
              terminates: true,
              fixed_response: { message_body: '<h1>Back soon</h1>', status_code: 503, content_type: 'text/html', location: '' },
              overrides: {},
            },
            {
              name: 'Beta testers',
              condition: 'http.request.cookies["beta"] eq "1"',
              priority: 20,
              overrides: {
                default_pools: [EU],
                steering_policy: 'least_connections',
                adaptive_routing: { failover_across_pools: true },
                location_strategy: { mode: 'resolver_ip', prefer_ecs: 'always' },
                ttl: 30,
                shiny: true,
              },
            },
            { name: 'Keep bots out', condition: BOTS, priority: 5, fixed_response: { status_code: 403 } },
          ],
        }),
      ],
    },
  };
  const { config, unmapped, paths } = imported(shop);
  const shopUrl = (path: string) => `https://shop.example.com${path}`;
  const inCountry = (country: string) => ({ country, region: regionOfCountry(country) });

  it('converts each rule, its pool references rewritten and its settings mapped as the load balancer’s', () => {
    expect(config.load_balancers[0].rules).toEqual([
      {
        name: 'API from Ashburn',
        priority: 10,
        disabled: false,
        terminates: false,
        condition: 'http.request.uri.path matches "^/api/" and not ip.src.country in {"DE" "FR"}',
        fixed_response: null,
        overrides: {
          default_pools: ['us-ashburn', 'eu-frankfurt'],
          region_pools: { WEU: ['us-ashburn'] },
          session_affinity: 'cookie',
          session_affinity_ttl: 600,
        },
      },
      {
        name: 'Maintenance',
        priority: 0,
        disabled: false,
        terminates: true,
        condition: 'http.request.uri.path eq "/maintenance"',
        fixed_response: { status_code: 503, content_type: 'text/html', message_body: '<h1>Back soon</h1>' },
        overrides: {},
      },
      {
        name: 'Beta testers',
        priority: 20,
        disabled: false,
        terminates: false,
        condition: 'http.request.cookies["beta"] eq "1"',
        fixed_response: null,
        overrides: { default_pools: ['eu-frankfurt'], steering_policy: 'least_outstanding_requests' },
      },
    ]);
  });

  it('notes what has no equivalent at its path, and leaves out the rule whose condition does not compile', () => {
    const at = 'load_balancers[0].rules';
    expect(paths).toEqual([
      `${at}[2].overrides.steering_policy`,
      `${at}[2].overrides.adaptive_routing`,
      `${at}[2].overrides.location_strategy`,
      `${at}[2].overrides.ttl`,
      `${at}[2].overrides.shiny`,
      `${at}[3].condition`,
    ]);
    expect(message(unmapped, `${at}[2].overrides.ttl`)).toMatch(/^not supported/);
    expect(message(unmapped, `${at}[3].condition`)).toBe(
      `Cloudflare's condition ${JSON.stringify(BOTS)} does not compile in Switchyard's condition language: ` +
        'unknown field cf.bot_management.score at column 45; rule "Keep bots out" not imported',
    );
  });

  it('steers as the rules say', () => {
    const maintenance = steerRequest(config, shopUrl('/maintenance'), inCountry('US'));
    expect(maintenance.rules).toEqual(['Maintenance']);
    expect(maintenance.fixed).toEqual({ status_code: 503, content_type: 'text/html', message_body: '<h1>Back soon</h1>' });

    // The API rule: a client in WEU outside DE and FR goes to us; one in FR keeps the load balancer's eu.
    const api = steerRequest(config, shopUrl('/api/cart'), inCountry('GB'));
    expect(api.rules).toEqual(['API from Ashburn']);
    expect(api.decision?.candidates[0].pool).toBe('us-ashburn');
    expect(api.decision?.affinity).toBe('new');
    expect(steerRequest(config, shopUrl('/api/cart'), inCountry('FR')).decision?.candidates[0].pool).toBe('eu-frankfurt');

    // The beta cookie sends an American client to eu.
    expect(steerRequest(config, shopUrl('/'), inCountry('US')).decision?.candidates[0].pool).toBe('us-ashburn');
    const beta = steerRequest(config, shopUrl('/'), inCountry('US'), {}, { cookie: 'beta=1' });
    expect(beta.rules).toEqual(['Beta testers']);
    expect(beta.decision?.candidates[0].pool).toBe('eu-frankfurt');

    // The bots rule was left out: /admin is proxied as any request.
    expect(steerRequest(config, shopUrl('/admin'), inCountry('US')).rules).toEqual([]);
  });

  const one = (rule: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    imported({ pools: [cfPool(1, 'a'), cfPool(2, 'b')], load_balancers: [cfLb('a.example', [cfId(1)], { ...extra, rules: [rule] })] });

  it('an empty condition matches every request, as in Cloudflare', () => {
    for (const condition of ['', '  ', undefined]) {
      const { config: c, paths: p } = one({ name: 'all', condition, overrides: { default_pools: [cfId(2)] } });
      expect(c.load_balancers[0].rules?.[0].condition).toBe('true');
      expect(p).toEqual(['load_balancers[0].rules[0].condition']);
      expect(steerRequest(c, 'https://a.example/any/path?q=1').decision?.candidates[0].pool).toBe('b');
    }
  });

  it('a fixed response answers 200 unless it says otherwise; one left at its zero values is none', () => {
    const fixed = (fixed_response: unknown) => one({ name: 'r', condition: 'http.host eq "a.example"', fixed_response }).config.load_balancers[0].rules?.[0].fixed_response;
    expect(fixed({ message_body: 'hello' })).toEqual({ status_code: 200, message_body: 'hello' });
    expect(fixed({ status_code: 301, location: 'https://b.example/' })).toEqual({ status_code: 301, location: 'https://b.example/', message_body: '' });
    expect(fixed({ status_code: 0, message_body: '', content_type: '', location: '' })).toBeNull();
    expect(fixed({})).toBeNull();
  });

  it('leaves out a rule whose fixed response Switchyard cannot answer, and notes odd values of the others', () => {
    const { config: c, unmapped: u, paths: p } = imported({
      pools: [cfPool(1, 'a')],
      load_balancers: [
        cfLb('a.example', [cfId(1)], {
          rules: [
            { name: 'early', condition: 'http.host eq "a"', fixed_response: { status_code: 102 } },
            'rule',
            { name: 7, condition: 'http.host eq "a"', priority: -3, terminates: 'yes', fixed_response: { status_code: 200, content_type: 'text/plain\r\nX: 1' } },
            { name: 'odd', condition: 42 },
          ],
        }),
      ],
    });
    expect(c.load_balancers[0].rules?.map((r) => [r.name, r.priority, r.terminates, r.fixed_response])).toEqual([
      ['rule 3', 0, false, { status_code: 200, message_body: '' }],
    ]);
    expect(p).toEqual([
      'load_balancers[0].rules[0].fixed_response.status_code',
      'load_balancers[0].rules[1]',
      'load_balancers[0].rules[2].name',
      'load_balancers[0].rules[2].fixed_response.content_type',
      'load_balancers[0].rules[2].priority',
      'load_balancers[0].rules[2].terminates',
      'load_balancers[0].rules[3].condition',
    ]);
    expect(message(u, 'load_balancers[0].rules[0].fixed_response.status_code')).toBe('102 is not a status Switchyard answers with (200..599); rule "early" not imported');
  });

  it('drops override references to pools that were not imported; a pool without origins refuses apply', () => {
    const result = importCloudflare({
      pools: [cfPool(1, 'a'), cfPool(2, 'empty', { origins: [] })],
      load_balancers: [
        cfLb('a.example', [cfId(1)], {
          rules: [{ name: 'r', condition: 'http.host eq "a"', overrides: { default_pools: [cfId(2), cfId(9)], fallback_pool: cfId(1) } }],
        }),
      ],
    });
    expect(result.config.load_balancers?.[0].rules?.[0].overrides).toEqual({ fallback_pool: 'a' });
    expect(result.unmapped.map((n) => n.path)).toEqual([
      'pools[1].origins',
      'load_balancers[0].rules[0].overrides.default_pools[0]',
      'load_balancers[0].rules[0].overrides.default_pools[1]',
      'load_balancers[0].rules[0].overrides.default_pools',
    ]);
    expect(result.emptyPools[0].referencedBy).toEqual(['load_balancers[0].rules[0].overrides.default_pools[0]']);
    expect(importRefusal(result)).toMatch(/load_balancers\[0\]\.rules\[0\]\.overrides\.default_pools\[0\]/);
  });

  it('an override of affinity attributes keeps the load balancer’s header names; header affinity without any is none', () => {
    const { config: c, paths: p } = imported({
      pools: [cfPool(1, 'a')],
      load_balancers: [
        cfLb('a.example', [cfId(1)], {
          session_affinity: 'header',
          session_affinity_attributes: { headers: ['X-Session'] },
          rules: [{ name: 'lax', condition: 'http.host eq "a"', overrides: { session_affinity_attributes: { samesite: 'Lax' } } }],
        }),
        cfLb('b.example', [cfId(1)], {
          rules: [{ name: 'header', condition: 'http.host eq "b"', overrides: { session_affinity: 'header' } }],
        }),
      ],
    });
    expect(c.load_balancers[0].rules?.[0].overrides.session_affinity_attributes).toMatchObject({ headers: ['x-session'], samesite: 'Lax' });
    expect(c.load_balancers[1].rules?.[0].overrides).toEqual({ session_affinity: 'none' });
    expect(p).toEqual(['load_balancers[1].rules[0].overrides.session_affinity']);
  });

  it(`keeps the ${MAX_RULES} rules tried first`, () => {
    const rules = Array.from({ length: MAX_RULES + 2 }, (_, i) => ({ name: `r${i}`, condition: 'http.host eq "a"', priority: i < 2 ? 500 : 0 }));
    const { config: c, unmapped: u } = imported({ pools: [cfPool(1, 'a')], load_balancers: [cfLb('a.example', [cfId(1)], { rules })] });
    const names = c.load_balancers[0].rules?.map((r) => r.name) ?? [];
    expect(names).toHaveLength(MAX_RULES);
    expect(names).not.toContain('r0');
    expect(u).toEqual([{ path: 'load_balancers[0].rules', message: expect.stringContaining('"r0", "r1"') }]);
  });
});

describe('importRefusal: what apply=true refuses (import_empty)', () => {
  it('the sample export is applied', () => {
    const result = importCloudflare(sample);
    expect(result.emptyPools).toEqual([]);
    expect(importRefusal(result)).toBeUndefined();
  });

  it('refuses a conversion without any load balancer', () => {
    for (const input of [{ pools: [{ id: 'x' }] }, { pools: [cfPool(1, 'fine')] }, { monitors: [], pools: [], load_balancers: [] }]) {
      expect(importRefusal(importCloudflare(input)), JSON.stringify(input)).toMatch(/^the conversion has no load balancer/);
    }
  });

  it('refuses a referenced pool without usable origins, naming it and every reference to it', () => {
    const result = importCloudflare({
      pools: [cfPool(1, 'kept'), cfPool(2, 'hollow', { origins: [] }), cfPool(3, 'spare', { origins: [] })],
      load_balancers: [
        cfLb('a.example', [cfId(1), cfId(2)], { fallback_pool: cfId(2), random_steering: { pool_weights: { [cfId(2)]: 0.5 } } }),
      ],
    });
    expect(result.config.load_balancers).toHaveLength(1);
    // "spare" is dropped too, but nothing refers to it: it blocks nothing.
    expect(result.emptyPools).toEqual([
      {
        pool: '"hollow"',
        path: 'pools[1]',
        referencedBy: ['load_balancers[0].default_pools[1]', 'load_balancers[0].fallback_pool', `load_balancers[0].random_steering.pool_weights.${cfId(2)}`],
      },
    ]);
    expect(importRefusal(result)).toMatch(/^pool "hollow" \(pools\[1\]\) has no usable origins but load_balancers\[0\]\.default_pools\[1\], .* refer to it/);
  });

  it('a load balancer dropped because all its pools are empty: both reasons are given', () => {
    const message = importRefusal(importCloudflare({ pools: [cfPool(1, 'hollow', { origins: [] })], load_balancers: [cfLb('a.example', [cfId(1)])] }));
    expect(message).toMatch(/no load balancer/);
    expect(message).toMatch(/pool "hollow" \(pools\[0\]\) has no usable origins but load_balancers\[0\]\.default_pools\[0\] refers to it/);
  });

  it('a reference to a pool the export does not hold is a note, not a refusal', () => {
    const result = importCloudflare({ pools: [cfPool(1, 'kept')], load_balancers: [cfLb('a.example', [cfId(1), cfId(9)])] });
    expect(result.emptyPools).toEqual([]);
    expect(importRefusal(result)).toBeUndefined();
  });
});


describe('importCloudflare: load_shedding', () => {
  it('is mapped field for field (Cloudflare names them the same) and is no longer listed as unmapped', () => {
    const shedding = { default_percent: 20, default_policy: 'hash', session_percent: 12.5, session_policy: 'hash' };
    const { config, paths } = imported({ pools: [cfPool(1, 'a', { load_shedding: shedding }), cfPool(2, 'b')] });
    expect(config.pools[0].load_shedding).toEqual(shedding);
    expect(config.pools[1].load_shedding).toEqual({ default_percent: 0, default_policy: 'random', session_percent: 0, session_policy: 'hash' });
    expect(paths.filter((p) => p.includes('load_shedding'))).toEqual([]);
  });

  it('keeps a partial setting, the rest from the defaults', () => {
    const { config, paths } = imported({ pools: [cfPool(1, 'a', { load_shedding: { default_percent: 30 } })] });
    expect(config.pools[0].load_shedding).toEqual({ default_percent: 30, default_policy: 'random', session_percent: 0, session_policy: 'hash' });
    expect(paths).toEqual([]);
  });

  it('clamps percentages to 0..100 and refuses unknown policies and fields, each with a note', () => {
    const { config, unmapped, paths } = imported({
      pools: [
        cfPool(1, 'a', {
          load_shedding: { default_percent: 150, default_policy: 'least_busy', session_percent: -5, session_policy: 'random', burst: 3 },
        }),
        cfPool(2, 'b', { load_shedding: { default_percent: '10' } }),
        cfPool(3, 'c', { load_shedding: 'all' }),
      ],
    });
    expect(config.pools.map((p) => p.load_shedding)).toEqual([
      { default_percent: 100, default_policy: 'random', session_percent: 0, session_policy: 'hash' },
      { default_percent: 0, default_policy: 'random', session_percent: 0, session_policy: 'hash' },
      { default_percent: 0, default_policy: 'random', session_percent: 0, session_policy: 'hash' },
    ]);
    expect(paths).toEqual([
      'pools[0].load_shedding.default_percent',
      'pools[0].load_shedding.default_policy',
      'pools[0].load_shedding.session_percent',
      'pools[0].load_shedding.session_policy',
      'pools[0].load_shedding.burst',
      'pools[1].load_shedding.default_percent',
      'pools[2].load_shedding',
    ]);
    expect(message(unmapped, 'pools[0].load_shedding.default_percent')).toBe('150 changed to 100 (a percentage, 0..100)');
    expect(message(unmapped, 'pools[0].load_shedding.session_policy')).toBe('"random" is not one of hash; hash used');
  });
});

describe('importCloudflare: check_regions', () => {
  it("is kept as Cloudflare's region codes; null (every data centre) is ALL_REGIONS; absent or [] is the control plane's", () => {
    const { config, paths } = imported({
      pools: [
        cfPool(1, 'a', { check_regions: ['WEU', 'ENAM', 'SEAS'] }),
        cfPool(2, 'b', { check_regions: null }),
        cfPool(3, 'c', { check_regions: [] }),
        cfPool(4, 'd'),
      ],
    });
    expect(config.pools.map((p) => p.check_regions)).toEqual([['WEU', 'ENAM', 'SEAS'], ['ALL_REGIONS'], [], []]);
    expect(paths).toEqual([]);
  });

  it('the sample export, whose pools leave check_regions null, is probed from every region', () => {
    expect(imported(sample).config.pools.map((p) => p.check_regions)).toEqual([['ALL_REGIONS'], ['ALL_REGIONS'], ['ALL_REGIONS']]);
  });

  it('leaves out an unknown code or a repeated one, and the others beside ALL_REGIONS, with a note each', () => {
    const { config, unmapped, paths } = imported({
      pools: [
        cfPool(1, 'a', { check_regions: ['WEU', 'EU', 'WEU', 7] }),
        cfPool(2, 'b', { check_regions: ['ALL_REGIONS', 'WEU'] }),
        cfPool(3, 'c', { check_regions: 'WEU' }),
        cfPool(4, 'd', { check_regions: ['nowhere'] }),
      ],
    });
    expect(config.pools.map((p) => p.check_regions)).toEqual([['WEU'], ['ALL_REGIONS'], [], []]);
    expect(paths).toEqual(['pools[0].check_regions[1]', 'pools[0].check_regions[3]', 'pools[1].check_regions', 'pools[2].check_regions', 'pools[3].check_regions[0]']);
    expect(message(unmapped, 'pools[0].check_regions[1]')).toMatch(/^"EU" is not a Cloudflare region code \(WNAM, .*\); left out$/);
    expect(message(unmapped, 'pools[1].check_regions')).toBe('ALL_REGIONS names every region; the other codes are left out');
  });
});
