import { describe, expect, it } from 'vitest';

import type { ConfigInput } from '../../src/config/schema';
import { PassiveHealth } from '../../src/health/passive';
import { MONITOR, compile, loadBalancer, origin, pool, validConfig } from '../support/configs';

function hosts(hostnames: readonly string[]) {
  const input: ConfigInput = {
    pools: [pool('p', ['a'])],
    load_balancers: hostnames.map((hostname, i) => loadBalancer({ id: `lb${i}`, hostname, default_pools: ['p'] })),
  };
  const plan = compile(validConfig(input));
  return (host: string) => plan.loadBalancerFor(host)?.config.hostname;
}

describe('Plan.loadBalancerFor', () => {
  const lookup = hosts(['*', '*.example.com', 'app.example.com', '*.b.example.com']);

  it.each([
    ['app.example.com', 'app.example.com'],
    ['APP.Example.COM', 'app.example.com'],
    ['www.example.com', '*.example.com'],
    ['a.c.example.com', '*.example.com'],
    ['a.b.example.com', '*.b.example.com'],
    ['x.y.b.example.com', '*.b.example.com'],
    ['b.example.com', '*.example.com'],
    ['example.com', '*'],
    ['other.org', '*'],
  ])('%s -> %s', (host, expected) => {
    expect(lookup(host)).toBe(expected);
  });

  it('exact beats *.example.com beats *', () => {
    const both = hosts(['*', '*.example.com', 'app.example.com']);
    expect(both('app.example.com')).toBe('app.example.com');
    expect(both('api.example.com')).toBe('*.example.com');
    expect(both('example.net')).toBe('*');
  });

  it('a.b.example.com matches *.example.com when it is the only wildcard', () => {
    expect(hosts(['*.example.com'])('a.b.example.com')).toBe('*.example.com');
  });

  it('gives undefined when nothing matches and there is no *', () => {
    const noCatchAll = hosts(['app.example.com', '*.example.com']);
    expect(noCatchAll('example.org')).toBeUndefined();
    expect(noCatchAll('example.com')).toBeUndefined();
    expect(noCatchAll('app.example.com.evil.net')).toBeUndefined();
  });

  it('matches configured hostnames case-insensitively', () => {
    expect(hosts(['App.Example.com'])('app.example.com')).toBe('app.example.com');
  });
});

describe('Plan.passivePolicy', () => {
  const production = { max_fails: 3, fail_timeout: 10, max_ejection_percent: 50 };
  const plan = (staging: { enabled?: boolean; ruleDisabled?: boolean }) =>
    compile(
      validConfig({
        pools: [pool('shared', ['a', 'b', 'c', 'd']), pool('canary', ['e'])],
        load_balancers: [
          loadBalancer({ id: 'production', hostname: 'www.example.com', default_pools: ['shared'], passive_health: production }),
          loadBalancer({
            id: 'staging',
            hostname: 'staging.example.com',
            default_pools: ['canary'],
            enabled: staging.enabled ?? true,
            passive_health: { max_fails: 10, fail_timeout: 5, max_ejection_percent: 0 },
            // The shared pool only through a rule's overrides.
            rules: [{ name: 'to-shared', condition: 'true', disabled: staging.ruleDisabled ?? false, overrides: { default_pools: ['shared'] } }],
          }),
        ],
      }),
    );

  it("takes the hardest of the load balancers that send to the pool, through a rule's overrides too", () => {
    expect(plan({}).passivePolicy('shared')).toEqual({ max_fails: 10, fail_timeout: 5, max_ejection_percent: 0 });
    expect(plan({}).passivePolicy('canary')).toEqual({ max_fails: 10, fail_timeout: 5, max_ejection_percent: 0 });
  });

  it('leaves out a disabled load balancer and a disabled rule: they send nothing', () => {
    expect(plan({ enabled: false }).passivePolicy('shared')).toEqual(production);
    expect(plan({ enabled: false }).passivePolicy('canary')).toBeUndefined();
    expect(plan({ ruleDisabled: true }).passivePolicy('shared')).toEqual(production);
  });
});

describe('CompiledPool', () => {
  const input: ConfigInput = {
    monitors: [MONITOR],
    pools: [
      pool(
        'p',
        [
          origin('a', { header: { host: ['a.internal'] } }),
          origin('b', { address: 'https://10.0.0.2:8443/base' }),
          origin('c', { address: '10.0.0.3:9000', enabled: false }),
        ],
        { monitor: MONITOR.id },
      ),
    ],
    load_balancers: [loadBalancer({ default_pools: ['p'] })],
  };

  it('parses addresses, takes the Host header case-insensitively and counts healthy enabled origins', () => {
    const plan = compile(validConfig(input), { p: { b: { healthy: false, rtt_ms: 12 } } });
    const p = plan.pools.get('p')!;
    expect(p.byName.get('a')!.hostHeader).toBe('a.internal');
    expect(p.byName.get('b')!.url.href).toBe('https://10.0.0.2:8443/base');
    expect(p.byName.get('c')!.url.href).toBe('http://10.0.0.3:9000/');
    expect(p.byName.get('b')!.healthy).toBe(false);
    expect(p.healthyOrigins).toBe(1);
    expect(p.healthy).toBe(true);
    expect(p.meanRttMs).toBe(12);
  });

  it('rebuilds the selection when passive health changes the usable set', () => {
    const plan = compile(validConfig(input));
    const p = plan.pools.get('p')!;
    const passive = new PassiveHealth();
    const policy = { max_fails: 1, fail_timeout: 10, max_ejection_percent: 50 };
    const before = p.selection(passive, 0);
    expect(before.origins.map((o) => o.name)).toEqual(['a', 'b']);
    expect(p.selection(passive, 1)).toBe(before);
    expect(passive.recordFailure('p', 'a', 3, policy, 2)).toBe(true);
    const during = p.selection(passive, 3);
    expect(during.origins.map((o) => o.name)).toEqual(['b']);
    expect(p.servesPinned(p.byName.get('a')!, passive, 3)).toBe(false);
    const after = p.selection(passive, 2 + 10_000);
    expect(after.origins.map((o) => o.name)).toEqual(['a', 'b']);
  });
});

describe('slow_start', () => {
  const T = 5_000_000;
  const config = () =>
    validConfig({
      monitors: [MONITOR],
      pools: [pool('p', ['a', 'b'], { monitor: MONITOR.id, slow_start: 10 })],
      load_balancers: [loadBalancer({ default_pools: ['p'] })],
    });
  /** Share of `a` over 1,100 round-robin picks at time `now`. */
  const shareOfA = (recoveredAt: number | undefined, now: number) => {
    const health = { p: { a: { healthy: true, consecutive_up: 2, last_check_at: new Date(T).toISOString(), since: recoveredAt } } };
    const selection = compile(config(), health).pools.get('p')!.selection(new PassiveHealth(), now);
    let a = 0;
    for (let i = 0; i < 1100; i++) if (selection.origins[selection.pick({ hashKey: 0, random: Math.random, inflight: () => 0 })]!.name === 'a') a++;
    return a / 1100;
  };

  it('ramps a recovered origin from 10% to 100% of its weight over slow_start seconds', () => {
    expect(shareOfA(T, T)).toBeCloseTo(0.1 / 1.1, 2);
    expect(shareOfA(T, T + 5_000)).toBeCloseTo(0.55 / 1.55, 2);
    expect(shareOfA(T, T + 10_000)).toBeCloseTo(0.5, 2);
    expect(shareOfA(undefined, T)).toBeCloseTo(0.5, 2);
  });

  it('rebuilds the selection as the ramp advances, and keeps it once the ramp is over', () => {
    const health = { p: { a: { healthy: true, consecutive_up: 2, since: T } } };
    const compiled = compile(config(), health).pools.get('p')!;
    const passive = new PassiveHealth();
    const early = compiled.selection(passive, T + 100);
    expect(compiled.selection(passive, T + 900)).toBe(early);
    expect(compiled.selection(passive, T + 2_000)).not.toBe(early);
    const done = compiled.selection(passive, T + 11_000);
    expect(compiled.selection(passive, T + 60_000)).toBe(done);
  });
});
