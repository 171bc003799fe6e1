import { describe, expect, it } from 'vitest';

import { checkRegionsOf, parseOriginAddress } from '../../src/config/schema';
import { REGIONS } from '../../src/geo/regions';
import { validateConfig, type Issue } from '../../src/config/validate';
import { loadBalancer, origin, pool } from '../support/configs';

// SPEC §1's example document, with the // comments removed and nothing else changed.
const SPEC_EXAMPLE = {
  monitors: [
    {
      id: 'root',
      type: 'http',
      method: 'GET',
      path: '/',
      header: { Host: ['app.example'] },
      expected_codes: '2xx',
      expected_body: '',
      interval: 60,
      timeout: 5,
      retries: 0,
      consecutive_up: 2,
      consecutive_down: 3,
    },
  ],
  pools: [
    {
      id: 'eu',
      name: 'Europe',
      enabled: true,
      minimum_origins: 1,
      monitor: 'root',
      latitude: 50.11,
      longitude: 8.68,
      origin_steering: { policy: 'round_robin', hash_key: 'ip' },
      load_shedding: { default_percent: 0, default_policy: 'random', session_percent: 0, session_policy: 'hash' },
      check_regions: [],
      slow_start: 0,
      origins: [
        {
          name: 'backend1',
          address: 'http://127.0.0.1:8081',
          weight: 1,
          enabled: true,
          drain: false,
          backup: false,
          header: { Host: ['b1.internal'] },
          network: '',
          public_url: '',
        },
      ],
    },
  ],
  load_balancers: [
    {
      id: 'main',
      hostname: '*',
      enabled: true,
      default_pools: ['eu', 'us'],
      fallback_pool: 'us',
      steering_policy: '',
      random_steering: { default_weight: 1, pool_weights: { eu: 2 } },
      region_pools: { WEU: ['eu'] },
      country_pools: { BR: ['sa'] },
      pop_pools: { GRU: ['sa'] },
      session_affinity: 'none',
      session_affinity_ttl: 82800,
      session_affinity_attributes: {
        headers: ['x-session-id'],
        samesite: 'Lax',
        secure: 'Auto',
        zero_downtime_failover: 'sticky',
      },
      request_headers: { 'X-high-load-test': '123' },
      preserve_host: false,
      retries: 2,
      retry_on: ['connect-failure', 'timeout', '502', '503', '504', '521', '522', '523', '524', '525', '526', '530'],
      attempt_timeout_ms: 10000,
      read_timeout_ms: 60000,
      passive_health: { max_fails: 3, fail_timeout: 10, max_ejection_percent: 50 },
      expose_headers: true,
    },
  ],
};

const clone = <T>(value: T): T => structuredClone(value);

function issuesOf(input: unknown): Issue[] {
  const result = validateConfig(input);
  if (result.ok) throw new Error('expected the document to be rejected');
  return result.issues;
}

const paths = (input: unknown) => issuesOf(input).map((i) => i.path);

/** A small valid document to break in one place at a time. */
function base() {
  return {
    monitors: [{ id: 'mon' }],
    pools: [pool('p', ['a', 'b'], { monitor: 'mon' }), pool('q', ['c'])],
    load_balancers: [loadBalancer({ default_pools: ['p', 'q'] })],
  };
}

describe('config: the SPEC §1 example', () => {
  it('references pools "us" and "sa" that it does not define: exactly those references are reported', () => {
    expect(issuesOf(clone(SPEC_EXAMPLE)).map((i) => i.path).sort()).toEqual(
      [
        'load_balancers.0.country_pools.BR.0',
        'load_balancers.0.default_pools.1',
        'load_balancers.0.fallback_pool',
        'load_balancers.0.pop_pools.GRU.0',
      ].sort(),
    );
  });

  it('validates unchanged once the pools it references exist', () => {
    const input = clone(SPEC_EXAMPLE);
    const us = pool('us', [origin('u1')], { latitude: 40.71, longitude: -74.01 });
    const sa = pool('sa', [origin('s1')]);
    const result = validateConfig({ ...input, pools: [...input.pools, us, sa] });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    // Every value of the example comes out exactly as it went in (it sets every field).
    expect(result.config.monitors).toEqual(SPEC_EXAMPLE.monitors);
    expect(result.config.pools[0]).toEqual(SPEC_EXAMPLE.pools[0]);
    expect(result.config.load_balancers).toEqual(SPEC_EXAMPLE.load_balancers);
  });
});

describe('config: rejected documents', () => {
  it('rejects an unknown field, naming it and where it is', () => {
    const doc = base();
    (doc.pools[0].origins[1] as Record<string, unknown>).wieght = 2;
    const issues = issuesOf(doc);
    expect(issues).toHaveLength(1);
    expect(issues[0].path).toBe('pools.0.origins.1');
    expect(issues[0].message).toContain('wieght');
  });

  it('rejects unknown fields at every level, including the top', () => {
    expect(paths({ ...base(), extra: true })).toEqual(['']);
    const lb = base();
    (lb.load_balancers[0] as Record<string, unknown>).session_afinity = 'cookie';
    expect(paths(lb)).toEqual(['load_balancers.0']);
    const monitor = base();
    (monitor.monitors[0] as Record<string, unknown>).intervall = 10;
    expect(paths(monitor)).toEqual(['monitors.0']);
  });

  it('reports a negative weight at pools.0.origins.1.weight', () => {
    const doc = base();
    doc.pools[0].origins[1].weight = -1;
    expect(paths(doc)).toEqual(['pools.0.origins.1.weight']);
  });

  it('reports a dangling pool reference in default_pools at its index', () => {
    const doc = base();
    doc.load_balancers[0].default_pools = ['p', 'nope'];
    const issues = issuesOf(doc);
    expect(issues.map((i) => i.path)).toEqual(['load_balancers.0.default_pools.1']);
    expect(issues[0].message).toContain('nope');
  });

  it('reports dangling pool references everywhere a load balancer names a pool', () => {
    const doc = base();
    Object.assign(doc.load_balancers[0], {
      fallback_pool: 'x1',
      region_pools: { WEU: ['p', 'x2'] },
      country_pools: { DE: ['x3'] },
      pop_pools: { FRA: ['x4'] },
      random_steering: { pool_weights: { x5: 1 } },
    });
    expect(paths(doc).sort()).toEqual(
      [
        'load_balancers.0.fallback_pool',
        'load_balancers.0.region_pools.WEU.1',
        'load_balancers.0.country_pools.DE.0',
        'load_balancers.0.pop_pools.FRA.0',
        'load_balancers.0.random_steering.pool_weights.x5',
      ].sort(),
    );
  });

  it('reports an unknown monitor reference', () => {
    const doc = base();
    doc.pools[1] = pool('q', ['c'], { monitor: 'missing' });
    const issues = issuesOf(doc);
    expect(issues.map((i) => i.path)).toEqual(['pools.1.monitor']);
    expect(issues[0].message).toContain('missing');
  });

  it('reports duplicate origin names within a pool, but allows the same name in two pools', () => {
    const doc = base();
    doc.pools[0].origins[1].name = 'a';
    expect(paths(doc)).toEqual(['pools.0.origins.1.name']);
    const twoPools = base();
    twoPools.pools[1] = pool('q', ['a']);
    expect(validateConfig(twoPools).ok).toBe(true);
  });

  it('reports duplicate ids and duplicate hostnames', () => {
    const doc = base();
    doc.pools[1].id = 'p';
    doc.load_balancers[0].default_pools = ['p'];
    expect(paths(doc)).toEqual(['pools.1.id']);
    const hosts = base();
    hosts.load_balancers.push(loadBalancer({ id: 'second', hostname: '*', default_pools: ['p'] }));
    expect(paths(hosts)).toEqual(['load_balancers.1.hostname']);
  });

  it.each(['EU', '-eu', '_eu', 'e u', 'eu.west', '', 'a'.repeat(65), 'é'])('rejects the id %j', (bad) => {
    const doc = base();
    doc.pools[1].id = bad;
    doc.load_balancers[0].default_pools = ['p'];
    expect(paths(doc)).toEqual(['pools.1.id']);
  });

  it('accepts ids at the edges of the pattern', () => {
    for (const good of ['a', '0', 'a-b_c', 'a'.repeat(64)]) {
      const doc = base();
      doc.pools[1].id = good;
      doc.load_balancers[0].default_pools = ['p', good];
      expect(validateConfig(doc).ok, good).toBe(true);
    }
  });

  it('rejects origin names that are not ids (they travel in the affinity token)', () => {
    const doc = base();
    doc.pools[0].origins[0].name = 'back.end';
    expect(paths(doc)).toEqual(['pools.0.origins.0.name']);
  });

  it.each([
    ['ftp://files.example.com', 'not http(s)'],
    ['http://user:pw@host', 'credentials'],
    ['http://host/path?q=1', 'a query'],
    ['', 'empty'],
  ])('rejects the origin address %j (%s)', (address) => {
    const doc = base();
    doc.pools[0].origins[0].address = address;
    // (An empty address fails two rules; both are reported at the same path.)
    expect(new Set(paths(doc))).toEqual(new Set(['pools.0.origins.0.address']));
  });

  it('rejects other out-of-range values with their paths', () => {
    const cases: [(doc: ReturnType<typeof base>) => void, string][] = [
      [(d) => Object.assign(d.monitors[0], { interval: 4 }), 'monitors.0.interval'],
      [(d) => Object.assign(d.monitors[0], { expected_codes: '2XX' }), 'monitors.0.expected_codes'],
      [(d) => Object.assign(d.pools[0], { latitude: 50 }), 'pools.0.latitude'],
      [(d) => Object.assign(d.pools[0], { origins: [] }), 'pools.0.origins'],
      [(d) => Object.assign(d.load_balancers[0], { default_pools: [] }), 'load_balancers.0.default_pools'],
      [(d) => Object.assign(d.load_balancers[0], { hostname: 'bad host' }), 'load_balancers.0.hostname'],
      [(d) => Object.assign(d.load_balancers[0], { country_pools: { de: ['p'] } }), 'load_balancers.0.country_pools.de'],
      [(d) => Object.assign(d.load_balancers[0], { retries: 11 }), 'load_balancers.0.retries'],
      [(d) => Object.assign(d.load_balancers[0], { session_affinity: 'header' }), 'load_balancers.0.session_affinity_attributes.headers'],
    ];
    for (const [breakIt, path] of cases) {
      const doc = base();
      breakIt(doc);
      expect(paths(doc), path).toContain(path);
    }
  });
});

describe('config: headers cannot break the proxy contract (SPEC §1)', () => {
  it.each([
    ['a request_headers value with CR LF', (d: ReturnType<typeof base>) => Object.assign(d.load_balancers[0], { request_headers: { 'X-A': 'x\r\nInjected: 1' } }), 'load_balancers.0.request_headers.X-A'],
    ['a request_headers value with NUL', (d: ReturnType<typeof base>) => Object.assign(d.load_balancers[0], { request_headers: { 'X-A': 'x\u0000' } }), 'load_balancers.0.request_headers.X-A'],
    ['a monitor header name with a space', (d: ReturnType<typeof base>) => Object.assign(d.monitors[0], { header: { 'Bad Name': ['v'] } }), 'monitors.0.header.Bad Name'],
    ['a monitor header value with LF', (d: ReturnType<typeof base>) => Object.assign(d.monitors[0], { header: { 'X-Check': ['a\nb'] } }), 'monitors.0.header.X-Check.0'],
    ['an origin header name with a colon', (d: ReturnType<typeof base>) => Object.assign(d.pools[0].origins[0], { header: { 'Host:': ['a'] } }), 'pools.0.origins.0.header.Host:'],
    ['an affinity header name with a space', (d: ReturnType<typeof base>) => Object.assign(d.load_balancers[0], { session_affinity: 'header', session_affinity_attributes: { headers: ['x session'] } }), 'load_balancers.0.session_affinity_attributes.headers.0'],
  ])('rejects %s with its path', (_what, breakIt, path) => {
    const doc = base();
    breakIt(doc);
    expect(paths(doc)).toEqual([path]);
  });

  it('takes a Host header only as a host[:port]', () => {
    for (const good of ['app.example.com', 'app.example.com:8443', 'App.Internal', '10.0.0.1:80', '[2001:db8::1]:443', 'localhost']) {
      const doc = base();
      Object.assign(doc.pools[0].origins[0], { header: { Host: [good] } });
      expect(validateConfig(doc).ok, good).toBe(true);
    }
    for (const bad of ['', 'bad host', 'a/b', 'a?b', 'user@host', 'host:port', '-lead.example']) {
      const doc = base();
      Object.assign(doc.monitors[0], { header: { host: [bad] } });
      expect(paths(doc), bad).toEqual(['monitors.0.header.host.0']);
    }
  });

  it.each(['CDN-Loop', 'cdn-loop', 'Via', 'Host', 'Forwarded', 'X-Forwarded-For', 'x-forwarded-proto', 'X-LB-Pop', 'Connection', 'Transfer-Encoding', 'Upgrade', 'TE', 'Keep-Alive', 'Proxy-Authorization'])(
    'rejects request_headers naming the reserved field %s',
    (name) => {
      const doc = base();
      Object.assign(doc.load_balancers[0], { request_headers: { [name]: 'x' } });
      const issues = issuesOf(doc);
      expect(issues.map((i) => i.path)).toEqual([`load_balancers.0.request_headers.${name}`]);
      expect(issues[0].message).toContain('set by the proxy');
    },
  );

  it('keeps ordinary request_headers, and the header names lbs commonly inject', () => {
    const doc = base();
    Object.assign(doc.load_balancers[0], { request_headers: { 'X-high-load-test': '123', 'X-Request-Start': 't=1', Authorization: 'Bearer x' } });
    expect(validateConfig(doc).ok).toBe(true);
  });

  it('takes retry_on outcomes and status codes, dropping repeats; rejects anything else', () => {
    const doc = base();
    Object.assign(doc.load_balancers[0], { retry_on: ['connect-failure', '502', '502', '429'] });
    const result = validateConfig(doc);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.config.load_balancers[0].retry_on).toEqual(['connect-failure', '502', '429']);
    for (const bad of ['5xx', 'refused', '200', '600', 502]) {
      const broken = base();
      Object.assign(broken.load_balancers[0], { retry_on: [bad] });
      expect(paths(broken), String(bad)).toEqual(['load_balancers.0.retry_on.0']);
    }
  });

  it('takes a binding name in network, and nothing that could not be one', () => {
    const doc = base();
    Object.assign(doc.pools[0].origins[0], { network: 'PRIVATE_NET' });
    expect(validateConfig(doc).ok).toBe(true);
    for (const bad of ['has space', '1ABC', 'a-b', 'x'.repeat(65)]) {
      const broken = base();
      Object.assign(broken.pools[0].origins[0], { network: bad });
      expect(paths(broken), bad).toEqual(['pools.0.origins.0.network']);
    }
  });
});

describe('config: defaults', () => {
  it('fills in defaults for omitted fields', () => {
    const result = validateConfig(base());
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const { monitors, pools, load_balancers } = result.config;
    expect(monitors[0]).toEqual({
      id: 'mon',
      type: 'http',
      method: 'GET',
      path: '/',
      header: {},
      expected_codes: '2xx',
      expected_body: '',
      interval: 60,
      timeout: 5,
      retries: 0,
      consecutive_up: 2,
      consecutive_down: 3,
    });
    expect(pools[0]).toMatchObject({ enabled: true, minimum_origins: 1, origin_steering: { policy: 'round_robin' }, slow_start: 0 });
    expect(pools[0].origins[0]).toEqual({
      name: 'a',
      address: 'http://a.internal:8080',
      weight: 1,
      enabled: true,
      drain: false,
      backup: false,
      header: {},
      network: '',
    });
    expect(load_balancers[0]).toMatchObject({
      enabled: true,
      steering_policy: '',
      retries: 2,
      retry_on: ['connect-failure', 'timeout', '502', '503', '504', '520', '521', '522', '523', '524', '525', '526', '530'],
      attempt_timeout_ms: 10_000,
      read_timeout_ms: 60_000,
      session_affinity: 'none',
      session_affinity_ttl: 82_800,
      session_affinity_attributes: { headers: [], samesite: 'Auto', secure: 'Auto', zero_downtime_failover: 'sticky' },
      random_steering: { default_weight: 1, pool_weights: {} },
      passive_health: { max_fails: 3, fail_timeout: 10, max_ejection_percent: 50 },
      preserve_host: false,
      expose_headers: true,
      region_pools: {},
      country_pools: {},
      pop_pools: {},
      request_headers: {},
    });
  });

  it('accepts an empty document', () => {
    expect(validateConfig({})).toEqual({ ok: true, config: { monitors: [], pools: [], load_balancers: [] } });
  });

  it('lower-cases hostnames and affinity header names', () => {
    const doc = base();
    Object.assign(doc.load_balancers[0], {
      hostname: 'App.Example.COM',
      session_affinity: 'header',
      session_affinity_attributes: { headers: ['X-Session-ID'] },
    });
    const result = validateConfig(doc);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.config.load_balancers[0].hostname).toBe('app.example.com');
    expect(result.config.load_balancers[0].session_affinity_attributes.headers).toEqual(['x-session-id']);
  });
});

describe('config: check_regions (SPEC §4)', () => {
  const withRegions = (check_regions: unknown) => ({ ...base(), pools: [pool('p', ['a', 'b'], { monitor: 'mon', check_regions: check_regions as never }), pool('q', ['c'])] });

  it('defaults to [] (probed from the control plane alone) and takes region codes or ALL_REGIONS', () => {
    const result = validateConfig(base());
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.config.pools[0].check_regions).toEqual([]);
    expect(checkRegionsOf(result.config.pools[0])).toEqual([]);
    for (const list of [['WEU', 'ENAM', 'SEAS'], ['ALL_REGIONS'], [...REGIONS]]) {
      const ok = validateConfig(withRegions(list));
      if (!ok.ok) throw new Error(JSON.stringify(ok.issues));
      expect(ok.config.pools[0].check_regions).toEqual(list);
    }
    expect(checkRegionsOf({ check_regions: ['ALL_REGIONS'] })).toEqual(REGIONS);
    expect(checkRegionsOf({ check_regions: ['SEAS', 'WEU'] })).toEqual(['SEAS', 'WEU']);
    expect(checkRegionsOf({})).toEqual([]);
  });

  it('refuses an unknown code, a region named twice, and ALL_REGIONS beside others, at the entry', () => {
    expect(paths(withRegions(['WEU', 'EU']))).toEqual(['pools.0.check_regions.1']);
    expect(paths(withRegions(['weu']))).toEqual(['pools.0.check_regions.0']);
    const twice = issuesOf(withRegions(['WEU', 'ENAM', 'WEU']));
    expect(twice.map((i) => [i.path, i.message])).toEqual([['pools.0.check_regions.2', 'region "WEU" is already in this list']]);
    const all = issuesOf(withRegions(['WEU', 'ALL_REGIONS']));
    expect(all.map((i) => [i.path, i.message])).toEqual([['pools.0.check_regions.1', 'ALL_REGIONS names every region: list it alone']]);
    expect(paths(withRegions('WEU'))).toEqual(['pools.0.check_regions']);
  });
});

describe('parseOriginAddress', () => {
  it('accepts absolute http(s) URLs with a path prefix, and host[:port]', () => {
    expect(parseOriginAddress('https://api.internal/v1')?.href).toBe('https://api.internal/v1');
    expect(parseOriginAddress('10.0.0.1:8080')?.href).toBe('http://10.0.0.1:8080/');
    expect(parseOriginAddress('[::1]:8080')?.hostname).toBe('[::1]');
    expect(parseOriginAddress('ws://host')).toBeUndefined();
    expect(parseOriginAddress('http://host#frag')).toBeUndefined();
  });
});
