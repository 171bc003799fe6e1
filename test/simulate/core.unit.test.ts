// The simulator's pure parts: the city dataset, geometry, sampling, statistics,
// continents, and the shape of what it writes (SVG, JSON, text).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { ConfigInput } from '../../src/config/schema';
import { validateConfig } from '../../src/config/validate';
import { CITIES } from '../../src/geo/cities';
import {
  CONTINENTS,
  cityPicker,
  continentOf,
  drawClients,
  haversineKm,
  matchLoadBalancer,
  mulberry32,
  oracleRoute,
  percentile,
  rttMs,
  seedOf,
  tally,
  usableOrigins,
} from '../../scripts/lib/simulate/core.mjs';
import { planOf } from '../../scripts/lib/simulate/world.mjs';
import { distributionSvg, formatScenario, mapSvg, summaryJson } from '../../scripts/lib/simulate/report.mjs';
import { parseCommandLine, run } from '../../scripts/lib/simulate/run.mjs';

describe('the city dataset', () => {
  it('has at least 200 cities with valid coordinates, a country code and a population weight', () => {
    expect(CITIES.length).toBeGreaterThanOrEqual(200);
    for (const city of CITIES) {
      expect(city.name.length, JSON.stringify(city)).toBeGreaterThan(0);
      expect(city.country, city.name).toMatch(/^[A-Z]{2}$/);
      expect(Math.abs(city.lat), city.name).toBeLessThanOrEqual(90);
      expect(Math.abs(city.lon), city.name).toBeLessThanOrEqual(180);
      expect(city.population, city.name).toBeGreaterThan(0);
    }
    expect(new Set(CITIES.map((c) => `${c.name}/${c.country}`)).size).toBe(CITIES.length);
  });

  it('covers every inhabited continent, and every country maps to one', () => {
    const continents = new Set(CITIES.map((c) => continentOf(c.country)));
    expect([...continents].sort()).toEqual([...CONTINENTS].sort());
    for (const city of CITIES) expect(continentOf(city.country), `${city.name} ${city.country}`).not.toBe('Unknown');
  });
});

describe('geometry', () => {
  it('haversine matches known great-circle distances', () => {
    // Reference values from the spherical-Earth formula (mean radius 6371 km).
    expect(haversineKm(51.5074, -0.1278, 40.7128, -74.006)).toBeCloseTo(5570, -1); // London–New York
    expect(haversineKm(48.8566, 2.3522, 51.5074, -0.1278)).toBeCloseTo(344, -1); // Paris–London
    expect(haversineKm(-33.8688, 151.2093, 35.6762, 139.6503)).toBeCloseTo(7820, -2); // Sydney–Tokyo
    expect(haversineKm(0, 0, 0, 180)).toBeCloseTo(Math.PI * 6371.0088, 3); // half the equator
    expect(haversineKm(10, 20, 10, 20)).toBe(0);
  });

  it('estimates a round trip at 200 km per millisecond each way', () => {
    expect(rttMs(1000)).toBe(10);
    expect(rttMs(0)).toBe(0);
  });
});

describe('sampling', () => {
  it('draws cities in proportion to their population', () => {
    const cities = [
      { name: 'A', country: 'FR', lat: 0, lon: 0, population: 6 },
      { name: 'B', country: 'US', lat: 0, lon: 0, population: 3 },
      { name: 'C', country: 'JP', lat: 0, lon: 0, population: 1 },
    ];
    const pick = cityPicker(cities);
    const rand = mulberry32(42);
    const counts: Record<string, number> = { A: 0, B: 0, C: 0 };
    const n = 30_000;
    for (let i = 0; i < n; i++) counts[pick(rand).name]++;
    // 4 standard deviations of a binomial count.
    for (const [name, share] of [['A', 0.6], ['B', 0.3], ['C', 0.1]] as const) {
      expect(Math.abs(counts[name] - n * share)).toBeLessThan(4 * Math.sqrt(n * share * (1 - share)));
    }
  });

  it('is repeatable for a seed and spreads clients a few km around their city', () => {
    const a = drawClients(300, mulberry32(seedOf('7')));
    const b = drawClients(300, mulberry32(seedOf(7)));
    expect(a).toEqual(b);
    expect(drawClients(300, mulberry32(8))).not.toEqual(a);
    const byName = new Map(CITIES.map((c) => [`${c.name}/${c.country}`, c]));
    for (const client of a) {
      const city = byName.get(`${client.city}/${client.country}`)!;
      expect(haversineKm(client.lat, client.lon, city.lat, city.lon)).toBeLessThanOrEqual(20.1);
      expect(client.ip).toMatch(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
      expect(client.continent).toBe(continentOf(client.country));
    }
    // Big cities dominate: Tokyo is drawn far more often than Reykjavik.
    const many = drawClients(20_000, mulberry32(1));
    const count = (name: string) => many.filter((c) => c.city === name).length;
    expect(count('Tokyo')).toBeGreaterThan(50 * Math.max(1, count('Reykjavik')));
  });

  it('turns numeric and other strings into 32-bit seeds', () => {
    expect(seedOf('42')).toBe(42);
    expect(seedOf('demo')).toBe(seedOf('demo'));
    expect(seedOf('demo')).not.toBe(seedOf('demp'));
    expect(seedOf('demo')).toBeLessThan(2 ** 32);
  });
});

describe('statistics and continents', () => {
  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    expect(percentile(values, 95)).toBe(95);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 95)).toBeNull();
  });

  it('maps countries to continents', () => {
    expect(continentOf('DE')).toBe('Europe');
    expect(continentOf('ru')).toBe('Europe');
    expect(continentOf('BR')).toBe('South America');
    expect(continentOf('MX')).toBe('North America');
    expect(continentOf('PA')).toBe('North America');
    expect(continentOf('EG')).toBe('Africa');
    expect(continentOf('TR')).toBe('Asia');
    expect(continentOf('NZ')).toBe('Oceania');
    expect(continentOf('ZZ')).toBe('Unknown');
  });

  it('finds a host\'s load balancer like the Worker: exact, longest wildcard, then *', () => {
    const lbs = [
      { id: 'any', hostname: '*' },
      { id: 'wild', hostname: '*.example.com' },
      { id: 'deeper', hostname: '*.api.example.com' },
      { id: 'exact', hostname: 'www.example.com' },
    ];
    expect(matchLoadBalancer(lbs, 'www.example.com')?.id).toBe('exact');
    expect(matchLoadBalancer(lbs, 'v1.api.example.com')?.id).toBe('deeper');
    expect(matchLoadBalancer(lbs, 'shop.example.com')?.id).toBe('wild');
    expect(matchLoadBalancer(lbs, 'other.test')?.id).toBe('any');
  });

  it('reads the Host as the Worker reads the URL: without its port, in any case', () => {
    const lbs = [{ id: 'exact', hostname: 'www.example.com' }, { id: 'wild', hostname: '*.example.com' }];
    expect(matchLoadBalancer(lbs, 'WWW.Example.com:8787')?.id).toBe('exact');
    expect(matchLoadBalancer(lbs, 'shop.example.com:443')?.id).toBe('wild');
    expect(matchLoadBalancer(lbs, 'example.org')).toBeUndefined();
  });
});

describe('what the Worker knows', () => {
  const compiled = (origins: NonNullable<ConfigInput['pools']>[number]['origins']) => {
    const checked = validateConfig({ pools: [{ id: 'p', origins }], load_balancers: [{ id: 'lb', hostname: 'x.test', default_pools: ['p'] }] });
    if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
    return planOf(checked.config);
  };

  it('takes the origins a pool hands new requests to from the Worker\'s own selection', () => {
    const plan = compiled([
      { name: 'a', address: 'http://a.test', weight: 2 },
      { name: 'b', address: 'http://b.test' },
      { name: 'drained', address: 'http://c.test', drain: true },
      { name: 'zero', address: 'http://d.test', weight: 0 },
      { name: 'off', address: 'http://e.test', enabled: false },
      { name: 'spare', address: 'http://f.test', backup: true },
    ]);
    expect(usableOrigins(plan, 'p').map((o) => [o.name, o.weight])).toEqual([['a', 2], ['b', 1]]);
    expect(usableOrigins(plan, 'nope')).toEqual([]);
  });

  it('falls back to the backups when no primary can take a request, as the Worker does', () => {
    const plan = compiled([
      { name: 'a', address: 'http://a.test', drain: true },
      { name: 'spare', address: 'http://f.test', backup: true },
    ]);
    expect(usableOrigins(plan, 'p').map((o) => o.name)).toEqual(['spare']);
  });
});

describe('the command line', () => {
  it('has defaults and checks its options', () => {
    const options = parseCommandLine([]);
    expect(options).toMatchObject({ host: 'proximity.localhost', clients: 500, seed: '1', out: 'simulate-out', explicit: false });
    expect(options.scenarios).toEqual(['baseline', 'pop-withdrawn', 'pool-down', 'weights', 'sticky']);
    expect(parseCommandLine(['--scenario', 'sticky,weights', '--clients', '40'])).toMatchObject({ scenarios: ['sticky', 'weights'], clients: 40, explicit: true });
    expect(() => parseCommandLine(['--scenario', 'nope'])).toThrow(/no scenario "nope"/);
    expect(() => parseCommandLine(['--clients', '0'])).toThrow(/--clients/);
    expect(() => parseCommandLine(['--bogus'])).toThrow();
  });
});

// A small world, its clients and a fabricated set of replies, for the writers.
function fixture() {
  const world = {
    version: 3,
    config: {},
    lb: { id: 'prox', hostname: 'proximity.localhost', default_pools: ['eu', 'us'], steering_policy: 'proximity' },
    pops: [
      { colo: 'FRA', city: 'Frankfurt', country: 'DE', lat: 50.11, lon: 8.68, withdrawn: false },
      { colo: 'IAD', city: 'Ashburn', country: 'US', lat: 39.04, lon: -77.49, withdrawn: false },
      { colo: 'CDG', city: 'Paris', country: 'FR', lat: 48.86, lon: 2.35, withdrawn: true },
    ],
    pools: new Map([
      ['eu', { id: 'eu', name: 'Europe', lat: 50.11, lon: 8.68, healthy: true, origins: [], policy: 'round_robin' }],
      ['us', { id: 'us', name: 'US', lat: 39.04, lon: -77.49, healthy: true, origins: [], policy: 'round_robin' }],
    ]),
  };
  const clients = drawClients(25, mulberry32(3));
  const replies = clients.map((c) => {
    const eu = c.lon > -30;
    return { status: 200, pop: eu ? 'FRA' : 'IAD', pool: eu ? 'eu' : 'us', origin: eu ? 'b1' : 'b2', cookie: null };
  });
  return { world, clients, replies };
}

describe('the writers', () => {
  const { world, clients, replies } = fixture();
  const counted = tally(world, clients, replies);
  const result = {
    name: 'pop-withdrawn',
    title: 'a test',
    host: 'proximity.localhost',
    geo: true,
    ok: true,
    checks: [{ name: 'a check', ok: true, detail: 'fine' }],
    notes: [],
    restored: [{ what: 'PoP CDG', ok: true }],
    withdrawn_pops: ['CDG'],
    down_pools: [],
    ...counted,
  };
  const summary = {
    host: 'proximity.localhost',
    seed: '3',
    clients: clients.length,
    pools: [
      { id: 'eu', name: 'Europe', latitude: 50.11, longitude: 8.68 },
      { id: 'us', name: 'US', latitude: 39.04, longitude: -77.49 },
    ],
    pops: world.pops.map((p) => ({ colo: p.colo, city: p.city, country: p.country, latitude: p.lat, longitude: p.lon })),
    scenarios: [result],
    ok: true,
  };

  it('counts per pool, origin, continent and estimates round trips against the oracle', () => {
    expect(counted.requests).toBe(25);
    expect(Object.values(counted.pools).reduce((a, b) => a + b, 0)).toBe(25);
    expect(Object.keys(counted.origins).every((k) => /^(eu\/b1|us\/b2)$/.test(k))).toBe(true);
    expect(Object.values(counted.continents).reduce((a, c) => a + c.clients, 0)).toBe(25);
    expect(counted.rtt.estimated).toBe(25);
    expect(counted.rtt.ratio).toBeGreaterThanOrEqual(1);
    // The oracle never goes through a withdrawn PoP.
    for (const c of clients) expect(oracleRoute(world, c).pop).not.toBe('CDG');
  });

  it('draws a well-formed map with one dot per client and the withdrawn PoP marked', () => {
    const svg = mapSvg(summary, result);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<circle class="client"/g)).toHaveLength(clients.length);
    expect(svg).toContain('class="pop withdrawn"');
    expect(svg).toContain('CDG withdrawn');
    expect(svg.match(/<circle class="pool/g)).toHaveLength(2);
    expect(svg).not.toMatch(/href=|<image|url\(/); // no external assets
    expect(balanced(svg)).toBe(true);
  });

  it('draws one bar per pool/origin per scenario', () => {
    const svg = distributionSvg(summary);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<rect class="bar"/g)).toHaveLength(Object.keys(counted.origins).length);
    expect(balanced(svg)).toBe(true);
  });

  it('writes the summary as JSON with every number', () => {
    const parsed = JSON.parse(summaryJson(summary));
    expect(parsed.scenarios[0].pools).toEqual(counted.pools);
    expect(parsed.scenarios[0].clients).toHaveLength(25);
    expect(parsed.scenarios[0].rtt.steering.mean_ms).toBeTypeOf('number');
  });

  it('prints counts like count_server_replies.sh', () => {
    const text = formatScenario(result);
    expect(text).toMatch(/^ +\d+ replies received from (eu\/b1|us\/b2)$/m);
    expect(text).toMatch(/CONTINENT +CLIENTS/);
    expect(text).toMatch(/steering +\d+\.\d ms +\d+\.\d ms/);
    expect(text).toMatch(/oracle +\d+\.\d ms +\d+\.\d ms/);
  });
});

/** Every opened element is closed, in order (self-closing ones excepted). */
function balanced(svg: string): boolean {
  const stack: string[] = [];
  for (const [, close, name, selfClosing] of svg.matchAll(/<(\/?)([a-zA-Z][\w-]*)[^>]*?(\/?)>/g)) {
    if (selfClosing) continue;
    if (close) {
      if (stack.pop() !== name) return false;
    } else stack.push(name);
  }
  return stack.length === 0;
}

describe('exit codes', () => {
  // A stand-in for Switchyard: a configuration with one load balancer, the PoP table,
  // and answers that ignore the simulation headers (as with LB_SIMULATION off).
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const body = (value: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-lb-pop': 'DFW', 'x-lb-pool': 'eu', 'x-lb-origin': 'b1' });
        res.end(JSON.stringify(value));
      };
      if (req.url === '/__lb/api/config') {
        return body({ version: 1, config: { pools: [{ id: 'eu', origins: [] }], load_balancers: [{ id: 'x', hostname: 'x.test', default_pools: ['eu'] }] } });
      }
      if (req.url === '/__lb/api/pops') return body({ version: 1, pops: [{ colo: 'SYD', city: 'Sydney', country: 'AU', latitude: -33.87, longitude: 151.21, withdrawn: false }] });
      if (req.url === '/__lb/api/health') return body({ pools: [], origins: [] });
      return body({});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const io = (env: Record<string, string>) => {
    let out = '';
    let err = '';
    return {
      io: { stdout: { write: (s: string) => void (out += s) }, stderr: { write: (s: string) => void (err += s) }, env },
      text: () => ({ out, err }),
    };
  };

  it('2 for usage: a bad option, no token, or a host no load balancer serves', async () => {
    expect(await run(['--clients', 'many'], io({ LB_URL: url, LB_TOKEN: 't' }).io)).toBe(2);
    const noToken = io({ LB_URL: url });
    expect(await run([], noToken.io)).toBe(2);
    expect(noToken.text().err).toMatch(/LB_TOKEN=demo-token npm run simulate/);
    const noLb = io({ LB_URL: url, LB_TOKEN: 't' });
    expect(await run(['--host', 'other.test', '--scenario', 'baseline'], noLb.io)).toBe(2);
    expect(noLb.text().err).toMatch(/no load balancer serves host "other.test"/);
  });

  it('1 when the Worker ignores the simulation headers', async () => {
    const off = io({ LB_URL: url, LB_TOKEN: 't' });
    expect(await run(['--host', 'x.test', '--scenario', 'baseline'], off.io)).toBe(1);
    expect(off.text().err).toMatch(/LB_SIMULATION=on/);
  });

  it('3 when nothing answers, with a hint to start the demo', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const down = io({ LB_URL: `http://127.0.0.1:${port}`, LB_TOKEN: 't' });
    expect(await run([], down.io)).toBe(3);
    expect(down.text().err).toMatch(/is the demo running \(npm start\)\?/);
  });
});
