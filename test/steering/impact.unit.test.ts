import { describe, expect, it } from 'vitest';

import type { Config, ConfigInput } from '../../src/config/schema';
import { CITIES } from '../../src/geo/cities';
import { decide } from '../../src/steering/decide';
import { configImpact, MAX_LISTED, MAX_MOVES, sampleClients, type Impact, type ImpactInput, type LoadBalancerImpact } from '../../src/steering/impact';
import type { HealthMap } from '../../src/health/state';
import { MONITOR, compile, loadBalancer, origin, pool, request, validConfig } from '../support/configs';

type LbExtra = Partial<NonNullable<ConfigInput['load_balancers']>[number]>;
type PoolExtra = Parameters<typeof pool>[2];

const NOW = 1_000_000;
const CLIENTS = CITIES.length;

/** One load balancer "main" over one pool "p" with origins a, b and c. */
function threeOrigins(originExtra: { a?: object; b?: object; c?: object } = {}, poolExtra: PoolExtra = {}, lbExtra: LbExtra = {}): Config {
  return validConfig({
    pools: [pool('p', [origin('a', originExtra.a), origin('b', originExtra.b), origin('c', originExtra.c)], poolExtra)],
    load_balancers: [loadBalancer({ default_pools: ['p'], ...lbExtra })],
  });
}

function impact(before: Config | null, after: Config, extra: Partial<ImpactInput> = {}): Impact {
  return configImpact({ before, after, health: {}, withdrawn: [], now: NOW, ...extra });
}

function lbOf(result: Impact, id = 'main'): LoadBalancerImpact {
  const found = result.load_balancers.find((lb) => lb.id === id);
  if (found === undefined) throw new Error(`no load balancer ${id} in the impact`);
  return found;
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

describe('configImpact: the sample', () => {
  it('is one client per city, weighted by population, with distinct addresses', () => {
    const result = impact(null, threeOrigins());
    expect(result.sample.clients).toBe(CLIENTS);
    expect(result.sample.population).toBe(CITIES.reduce((total, city) => total + city.population, 0));
    expect(result.sample.description).toMatch(/stands in/);
    const clients = sampleClients(new Set());
    expect(new Set(clients.map((c) => c.facts.ip)).size).toBe(CLIENTS);
    expect(clients.every((c) => c.facts.colo !== undefined && c.facts.region !== undefined)).toBe(true);
  });

  it('is deterministic: two calls give the same answer', () => {
    const before = threeOrigins();
    const after = threeOrigins({ b: { drain: true } }, {}, { session_affinity: 'cookie' });
    expect(impact(before, after)).toEqual(impact(before, after));
  });

  it('places a client of a hash pool exactly where decide() sends its request, the fallback pool included', () => {
    const config = validConfig({
      monitors: [MONITOR],
      pools: [
        pool('p', ['a', 'b', 'c'], { origin_steering: { policy: 'hash' } }),
        pool('f', ['x', 'y', 'z', 'w'], { origin_steering: { policy: 'hash' }, monitor: 'mon' }),
      ],
      load_balancers: [loadBalancer({ default_pools: ['p'], fallback_pool: 'f', country_pools: { JP: ['f'] } })],
    });
    // With p disabled, Japanese clients reach f by their geo order and skip its down origin y;
    // every other client reaches f as the fallback, used whatever its health, y included.
    const health: HealthMap = { f: { y: { healthy: false } } };
    const after = validConfig({ ...config, pools: [{ ...config.pools[0], enabled: false }, config.pools[1]] });
    const result = lbOf(impact(null, after, { health }));

    const plan = compile(after, health);
    const lb = plan.loadBalancerFor('app.example.com')!;
    const expected: Record<string, number> = {};
    for (const { facts } of sampleClients(new Set())) {
      const first = decide(plan, lb, request({ facts, now: NOW })).candidates[0];
      expected[`${first.pool}/${first.name}`] = (expected[`${first.pool}/${first.name}`] ?? 0) + 1;
    }
    expect(result.after!.origins).toEqual(expected);
    expect(result.after!.origins['f/y']).toBeGreaterThan(0);
    expect(result.moves.filter((m) => m.country === 'JP').map((m) => m.after?.origin)).not.toContain('y');
    expect(result.after!.pools).toEqual({ f: CLIENTS });
  });
});

describe('configImpact: origin changes', () => {
  it('draining one of three origins moves exactly its clients, all to the other origins of the pool', () => {
    const result = lbOf(impact(threeOrigins(), threeOrigins({ b: { drain: true } })));
    const onB = result.before!.origins['p/b'];
    expect(result.change).toBe('changed');
    expect(onB).toBeGreaterThan(CLIENTS / 6);
    expect(result.moved.clients).toBe(onB);
    expect(result.after!.origins['p/b']).toBeUndefined();
    // Nobody leaves a or c: each only gains.
    expect(result.after!.origins['p/a']).toBeGreaterThanOrEqual(result.before!.origins['p/a']);
    expect(result.after!.origins['p/c']).toBeGreaterThanOrEqual(result.before!.origins['p/c']);
    expect(sum(result.after!.origins)).toBe(CLIENTS);
    expect(result.moves).toHaveLength(Math.min(onB, MAX_MOVES));
    for (const move of result.moves) {
      expect(move.before).toEqual({ pool: 'p', origin: 'b' });
      expect(move.after?.pool).toBe('p');
      expect(['a', 'c']).toContain(move.after?.origin);
    }
    const populations = result.moves.map((m) => m.population);
    expect(populations).toEqual([...populations].sort((x, y) => y - x));
    expect(result.moved.population).toBeGreaterThanOrEqual(populations.reduce((a, b) => a + b, 0));
    expect(result.sessions).toBeNull();
  });

  it('with cookie affinity a drain keeps every pinned session; disabling the origin sends its sessions away', () => {
    const cookie = { session_affinity: 'cookie' } as const;
    const before = threeOrigins({}, {}, cookie);

    const drained = lbOf(impact(before, threeOrigins({ b: { drain: true } }, {}, cookie)));
    expect(drained.sessions).toEqual({ pinned: CLIENTS, leaving: 0, by_origin: {} });
    expect(drained.moved.clients).toBe(drained.before!.origins['p/b']);

    const disabled = lbOf(impact(before, threeOrigins({ b: { enabled: false } }, {}, cookie)));
    const onB = disabled.before!.origins['p/b'];
    expect(disabled.moved.clients).toBe(onB);
    expect(disabled.sessions).toEqual({ pinned: CLIENTS, leaving: onB, by_origin: { 'p/b': onB } });
  });

  it('with header affinity there is no token: a drain moves the sessions hashed to that origin', () => {
    const header: LbExtra = { session_affinity: 'header', session_affinity_attributes: { headers: ['x-session'] } };
    const result = lbOf(impact(threeOrigins({}, {}, header), threeOrigins({ b: { drain: true } }, {}, header)));
    const onB = result.before!.origins['p/b'];
    expect(result.sessions).toEqual({ pinned: CLIENTS, leaving: onB, by_origin: { 'p/b': onB } });
  });

  it('a pinned session stays on an origin whose weight drops to 0, though new clients leave it', () => {
    const cookie = { session_affinity: 'ip_cookie' } as const;
    const result = lbOf(impact(threeOrigins({}, {}, cookie), threeOrigins({ c: { weight: 0 } }, {}, cookie)));
    expect(result.moved.clients).toBe(result.before!.origins['p/c']);
    expect(result.sessions).toEqual({ pinned: CLIENTS, leaving: 0, by_origin: {} });
  });

  it('disabling the load balancer sends nobody anywhere: every client and session leaves', () => {
    const cookie = { session_affinity: 'cookie' } as const;
    const result = lbOf(impact(threeOrigins({}, {}, cookie), threeOrigins({}, {}, { ...cookie, enabled: false })));
    expect(result.change).toBe('changed');
    expect(result.after).toEqual({ pools: {}, origins: {} });
    expect(result.moved.clients).toBe(CLIENTS);
    expect(result.moves.every((m) => m.after === null && m.before?.pool === 'p')).toBe(true);
    expect(result.sessions!.leaving).toBe(CLIENTS);
    expect(sum(result.sessions!.by_origin)).toBe(CLIENTS);
  });
});

describe('configImpact: unchanged load balancers', () => {
  it('an identical configuration leaves every load balancer unchanged, with nothing moved', () => {
    const config = validConfig({
      monitors: [MONITOR],
      pools: [pool('p', ['a', 'b'], { monitor: 'mon' }), pool('q', ['c'])],
      load_balancers: [
        loadBalancer({ id: 'one', hostname: 'one.example', default_pools: ['p'], session_affinity: 'cookie' }),
        loadBalancer({ id: 'two', hostname: 'two.example', default_pools: ['q', 'p'] }),
      ],
    });
    const result = impact(config, structuredClone(config));
    expect(result.load_balancers.map((lb) => [lb.id, lb.change])).toEqual([
      ['one', 'unchanged'],
      ['two', 'unchanged'],
    ]);
    for (const lb of result.load_balancers) {
      expect(lb.moved).toEqual({ clients: 0, population: 0 });
      expect(lb.moves).toEqual([]);
    }
  });

  it('a change to a pool or monitor marks only the load balancers that reach it', () => {
    const input = (weight: number, interval: number): ConfigInput => ({
      monitors: [{ id: 'm', interval }],
      pools: [pool('p', ['a', 'b']), pool('q', [origin('c', { weight }), 'd'], { monitor: 'm' }), pool('r', ['e'])],
      load_balancers: [
        loadBalancer({ id: 'plain', hostname: 'plain.example', default_pools: ['p'] }),
        loadBalancer({ id: 'geo', hostname: 'geo.example', default_pools: ['p'], country_pools: { JP: ['q'] } }),
        loadBalancer({ id: 'weighted', hostname: 'weighted.example', default_pools: ['r'], random_steering: { pool_weights: { q: 1 } } }),
      ],
    });
    const changes = (result: Impact) => Object.fromEntries(result.load_balancers.map((lb) => [lb.id, lb.change]));
    expect(changes(impact(validConfig(input(1, 60)), validConfig(input(3, 60))))).toEqual({ plain: 'unchanged', geo: 'changed', weighted: 'changed' });
    // A monitor's settings change no placement under the same health, but the load balancer is still listed as changed.
    const monitorOnly = impact(validConfig(input(1, 60)), validConfig(input(1, 30)));
    expect(changes(monitorOnly)).toEqual({ plain: 'unchanged', geo: 'changed', weighted: 'changed' });
    expect(lbOf(monitorOnly, 'geo').moved.clients).toBe(0);
  });
});

describe('configImpact: geography', () => {
  const geo = (jp: string) =>
    validConfig({
      pools: [pool('world', ['w1', 'w2']), pool('asia', ['a1', 'a2']), pool('jp', ['j1'])],
      load_balancers: [loadBalancer({ default_pools: ['world'], country_pools: { JP: [jp], KR: ['asia'] } })],
    });

  it('moving JP to another pool moves exactly the Japanese cities, from that pool to the new one', () => {
    const result = lbOf(impact(geo('asia'), geo('jp')));
    const japanese = CITIES.filter((city) => city.country === 'JP');
    expect(japanese.length).toBeGreaterThan(1);
    expect(result.moved).toEqual({ clients: japanese.length, population: japanese.reduce((t, c) => t + c.population, 0) });
    expect(result.moves.map((m) => m.client).sort()).toEqual(japanese.map((c) => `${c.name}, JP`).sort());
    for (const move of result.moves) {
      expect(move.country).toBe('JP');
      expect(move.before?.pool).toBe('asia');
      expect(move.after).toEqual({ pool: 'jp', origin: 'j1' });
    }
    expect(result.moves[0].client).toBe('Tokyo, JP');
    expect(result.before!.pools.asia - result.after!.pools.asia).toBe(japanese.length);
    expect(result.after!.pools.jp).toBe(japanese.length);
  });

  it('a withdrawn PoP hands its clients to another PoP, and pop_pools follow the PoP', () => {
    const added = validConfig({
      pools: [pool('world', ['w1']), pool('tokyo', ['t1'])],
      load_balancers: [loadBalancer({ default_pools: ['world'], pop_pools: { NRT: ['tokyo'] } })],
    });
    const tokyo = (withdrawn: string[]) => lbOf(impact(null, added, { withdrawn })).moves.find((m) => m.client === 'Tokyo, JP')!;
    expect(tokyo([])).toMatchObject({ colo: 'NRT', before: null, after: { pool: 'tokyo', origin: 't1' } });
    const moved = tokyo(['NRT']);
    expect(moved.colo).not.toBeNull();
    expect(moved.colo).not.toBe('NRT');
    expect(moved.after).toEqual({ pool: 'world', origin: 'w1' });
  });
});

describe('configImpact: added and removed load balancers', () => {
  const config = (ids: string[]) =>
    validConfig({
      pools: [pool('p', ['a', 'b'])],
      load_balancers: ids.map((id) => loadBalancer({ id, hostname: `${id}.example`, default_pools: ['p'], session_affinity: 'cookie' })),
    });

  it('lists the changed load balancers first (proposed order, then the removed), then the unchanged; every client of an added or removed one moves', () => {
    const result = impact(config(['kept', 'gone']), config(['kept', 'new']));
    expect(result.load_balancers.map((lb) => [lb.id, lb.change])).toEqual([
      ['new', 'added'],
      ['gone', 'removed'],
      ['kept', 'unchanged'],
    ]);
    expect(result.omitted).toEqual({ changed: 0, unchanged: 0 });

    const added = lbOf(result, 'new');
    expect(added.hostname).toBe('new.example');
    expect(added.before).toBeNull();
    expect(sum(added.after!.pools)).toBe(CLIENTS);
    expect(added.moved.clients).toBe(CLIENTS);
    expect(added.moves).toHaveLength(MAX_MOVES);
    expect(added.moves[0]).toMatchObject({ client: 'Tokyo, JP', before: null });
    expect(added.sessions).toBeNull();

    const removed = lbOf(result, 'gone');
    expect(removed.hostname).toBe('gone.example');
    expect(removed.after).toBeNull();
    expect(sum(removed.before!.origins)).toBe(CLIENTS);
    expect(removed.moved.clients).toBe(CLIENTS);
    expect(removed.moves.every((m) => m.after === null)).toBe(true);
    expect(removed.sessions).toMatchObject({ pinned: CLIENTS, leaving: CLIENTS });
  });

  it('with no stored configuration every load balancer is added', () => {
    const result = impact(null, config(['one', 'two']));
    expect(result.load_balancers.map((lb) => lb.change)).toEqual(['added', 'added']);
  });
});

describe('configImpact: size', () => {
  it('handles a pool of 10,000 origins', () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `o${i}`);
    const big = (drained: string) =>
      validConfig({
        pools: [pool('big', names.map((name) => origin(name, { drain: name === drained })), { origin_steering: { policy: 'hash' } })],
        load_balancers: [loadBalancer({ default_pools: ['big'] })],
      });
    const before = big('');
    const busiest = Object.keys(lbOf(impact(null, before)).after!.origins)[0].slice('big/'.length);
    const result = lbOf(impact(before, big(busiest)));
    expect(sum(result.before!.origins)).toBe(CLIENTS);
    expect(result.moved.clients).toBe(result.before!.origins[`big/${busiest}`]);
    expect(result.moved.clients).toBeGreaterThan(0);
  });
});

describe('configImpact: random pool steering', () => {
  it('gives each client its own draw: shifting weights 1:1 to 4:1 moves about the share that changes', () => {
    const config = (weight: number) =>
      validConfig({
        pools: [pool('p', ['a']), pool('q', ['b'])],
        load_balancers: [loadBalancer({ default_pools: ['p', 'q'], steering_policy: 'random', random_steering: { default_weight: 1, pool_weights: { p: weight } } })],
      });
    const result = lbOf(impact(config(1), config(4)));
    // Before about half the clients in each pool; after about 80% in p: about 30% move, all from q to p.
    expect(result.before!.pools.p / CLIENTS).toBeGreaterThan(0.35);
    expect(result.before!.pools.p / CLIENTS).toBeLessThan(0.65);
    expect(result.moved.clients / CLIENTS).toBeGreaterThan(0.15);
    expect(result.moved.clients / CLIENTS).toBeLessThan(0.45);
    for (const move of result.moves) expect([move.before?.pool, move.after?.pool]).toEqual(['q', 'p']);
  });
});

describe('configImpact: load shedding', () => {
  const twoPools = (shedding: NonNullable<PoolExtra>['load_shedding'] = undefined, lbExtra: LbExtra = {}) =>
    validConfig({
      pools: [pool('p', ['a', 'b'], { load_shedding: shedding }), pool('q', ['c', 'd'])],
      load_balancers: [loadBalancer({ default_pools: ['p', 'q'], ...lbExtra })],
    });

  it.each(['random', 'hash'] as const)('default_percent 30 (%s) moves about 30%% of the clients, all to the next pool', (policy) => {
    const result = lbOf(impact(twoPools(), twoPools({ default_percent: 30, default_policy: policy })));
    expect(result.change).toBe('changed');
    expect(result.before!.pools).toEqual({ p: CLIENTS });
    // 325 clients: 30% give or take 8 points is over three standard deviations.
    expect(Math.abs(result.moved.clients / CLIENTS - 0.3)).toBeLessThan(0.08);
    expect(result.after!.pools.q).toBe(result.moved.clients);
    for (const move of result.moves) expect([move.before?.pool, move.after?.pool]).toEqual(['p', 'q']);
  });

  it('each client is shed the same way on both sides: 30% to 50% only adds clients', () => {
    const at30 = lbOf(impact(twoPools(), twoPools({ default_percent: 30, default_policy: 'hash' })));
    const from30to50 = lbOf(impact(twoPools({ default_percent: 30, default_policy: 'hash' }), twoPools({ default_percent: 50, default_policy: 'hash' })));
    expect(from30to50.before!.pools.q).toBe(at30.moved.clients);
    for (const move of from30to50.moves) expect([move.before?.pool, move.after?.pool]).toEqual(['p', 'q']);
    expect(Math.abs(from30to50.after!.pools.q / CLIENTS - 0.5)).toBeLessThan(0.08);
  });

  it('session_percent 100 sends every pinned session away (sticky), none with failover none', () => {
    const cookie = { session_affinity: 'cookie' } as const;
    const sticky = lbOf(impact(twoPools(undefined, cookie), twoPools({ session_percent: 100 }, cookie)));
    expect(sticky.sessions).toMatchObject({ pinned: CLIENTS, leaving: CLIENTS });
    const none = { session_affinity: 'cookie', session_affinity_attributes: { zero_downtime_failover: 'none' } } as const;
    expect(lbOf(impact(twoPools(undefined, none), twoPools({ session_percent: 100 }, none))).sessions).toMatchObject({ pinned: CLIENTS, leaving: 0 });
  });
});

describe('configImpact: bounds', () => {
  it(`steers at most ${MAX_LISTED} load balancers, the changed ones first, and counts the rest`, () => {
    const lbs = (ids: number[], pool: string) => ids.map((i) => loadBalancer({ id: `l${i}`, hostname: `h${i}.example`, default_pools: [pool] }));
    const all = Array.from({ length: 150 }, (_, i) => i);
    const doc = (moved: number[]) =>
      validConfig({
        pools: [pool('p', ['a']), pool('q', ['b'])],
        load_balancers: [...lbs(all.filter((i) => !moved.includes(i)), 'p'), ...lbs(moved, 'q')],
      });
    // 120 of 150 load balancers change pool.
    const changedIds = all.slice(30);
    const result = impact(doc([]), doc(changedIds));
    expect(result.load_balancers).toHaveLength(MAX_LISTED);
    expect(result.load_balancers.every((lb) => lb.change === 'changed')).toBe(true);
    expect(result.omitted).toEqual({ changed: 20, unchanged: 30 });
  });

  it('a disabled load balancer added or removed moves nobody', () => {
    const doc = (extra: boolean) =>
      validConfig({
        pools: [pool('p', ['a'])],
        load_balancers: [loadBalancer({ default_pools: ['p'] }), ...(extra ? [loadBalancer({ id: 'off', hostname: 'off.example', enabled: false, default_pools: ['p'] })] : [])],
      });
    expect(lbOf(impact(doc(false), doc(true)), 'off')).toMatchObject({ change: 'added', moved: { clients: 0 } });
    expect(lbOf(impact(doc(true), doc(false)), 'off')).toMatchObject({ change: 'removed', moved: { clients: 0 } });
  });
});
