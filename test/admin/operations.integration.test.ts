import { describe, expect, it } from 'vitest';
import { nearestPop } from '../../src/geo/anycast';
import { admin, configure, lb, startOrigin } from '../support/worker';

// Operations end to end through the Worker: drain and maintenance of an origin with
// pinned sessions (seed 003's DRAIN and MAINT runs), PoP withdrawal, explain.

const AFFINITY = /__lb_affinity=([^;]+)/;

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

describe('drain and maintenance through the admin API (seed 003)', () => {
  it('drain keeps pinned sessions on the origin and sends new clients elsewhere; disable moves pinned sessions too', async () => {
    const [web1, web2] = await Promise.all([startOrigin('web1'), startOrigin('web2')]);
    await configure({
      pools: [{ id: 'web', origins: [{ name: 'web1', address: web1.url }, { name: 'web2', address: web2.url }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['web'], session_affinity: 'cookie' }],
    });

    // A client pinned to web1 (round robin: the first new session lands on web1 or web2; use whichever).
    const first = await lb('/');
    const pinnedTo = first.headers.get('x-lb-origin')!;
    const other = pinnedTo === 'web1' ? 'web2' : 'web1';
    const cookie = `__lb_affinity=${AFFINITY.exec(first.headers.get('set-cookie')!)![1]}`;

    expect((await admin('PATCH', `/pools/web/origins/${pinnedTo}`, { drain: true })).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      const pinned = await lb('/', { headers: { cookie } });
      expect(pinned.status).toBe(200);
      expect(pinned.headers.get('x-lb-origin')).toBe(pinnedTo);
      expect(pinned.headers.get('set-cookie')).toBeNull();
      const fresh = await lb('/');
      expect(fresh.headers.get('x-lb-origin')).toBe(other);
    }

    expect((await admin('PATCH', `/pools/web/origins/${pinnedTo}`, { enabled: false })).status).toBe(200);
    const moved = await lb('/', { headers: { cookie } });
    expect(moved.status).toBe(200);
    expect(moved.headers.get('x-lb-origin')).toBe(other);
    // Sticky failover re-pins the session on the origin that served it.
    expect(moved.headers.get('set-cookie')).toMatch(AFFINITY);
    const movedCookie = `__lb_affinity=${AFFINITY.exec(moved.headers.get('set-cookie')!)![1]}`;

    // Back from maintenance: the re-pinned session stays where it is now.
    expect((await admin('PATCH', `/pools/web/origins/${pinnedTo}`, { enabled: true, drain: false })).status).toBe(200);
    expect((await lb('/', { headers: { cookie: movedCookie } })).headers.get('x-lb-origin')).toBe(other);
  });

  it('weight changes take effect on the next request (2:1 -> 1:0)', async () => {
    const [a, b] = await Promise.all([startOrigin('wa'), startOrigin('wb')]);
    await configure({
      pools: [{ id: 'w', origins: [{ name: 'wa', address: a.url, weight: 2 }, { name: 'wb', address: b.url, weight: 1 }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['w'] }],
    });
    const count = async (n: number) => {
      const seen: Record<string, number> = {};
      for (let i = 0; i < n; i++) {
        const name = (await lb('/')).headers.get('x-lb-origin')!;
        seen[name] = (seen[name] ?? 0) + 1;
      }
      return seen;
    };
    expect(await count(6)).toEqual({ wa: 4, wb: 2 });
    await admin('PATCH', '/pools/w/origins/wb', { weight: 0 });
    expect(await count(4)).toEqual({ wa: 4 });
  });
});

describe('PoPs', () => {
  const frankfurt = { lat: 50.11, lon: 8.68 };
  const sim = { 'x-lb-sim-lat': String(frankfurt.lat), 'x-lb-sim-lon': String(frankfurt.lon), 'x-lb-sim-ip': '198.51.100.7' };

  it('lists the PoP table with withdrawal state', async () => {
    const { pops } = await json<{ pops: { colo: string; city: string; region: string; withdrawn: boolean }[] }>(await admin('GET', '/pops'));
    expect(pops.length).toBeGreaterThanOrEqual(60);
    expect(pops.find((p) => p.colo === 'FRA')).toMatchObject({ city: 'Frankfurt', region: 'WEU' });
  });

  it('withdrawing a PoP moves its simulated clients to the next nearest PoP at once; restoring brings them back', async () => {
    const origin = await startOrigin('pop-origin');
    await configure({
      pools: [{ id: 'p', origins: [{ name: 'o', address: origin.url }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['p'] }],
    });
    const home = nearestPop(frankfurt.lat, frankfurt.lon, new Set())!.colo;
    const next = nearestPop(frankfurt.lat, frankfurt.lon, new Set([home]))!.colo;
    expect(next).not.toBe(home);
    expect((await lb('/', { headers: sim })).headers.get('x-lb-pop')).toBe(home);

    const withdrawn = await admin('PUT', `/pops/${home.toLowerCase()}`, { withdrawn: true });
    expect(withdrawn.status).toBe(200);
    expect((await json<{ pop: { colo: string; withdrawn: boolean } }>(withdrawn)).pop).toMatchObject({ colo: home, withdrawn: true });
    expect((await lb('/', { headers: sim })).headers.get('x-lb-pop')).toBe(next);
    const explained = await json<{ facts: { colo: string } }>(await admin('GET', `/explain?lat=${frankfurt.lat}&lon=${frankfurt.lon}`));
    expect(explained.facts.colo).toBe(next);
    const { pops } = await json<{ pops: { colo: string; withdrawn: boolean }[] }>(await admin('GET', '/pops'));
    expect(pops.filter((p) => p.withdrawn).map((p) => p.colo)).toEqual([home]);
    const { events } = await json<{ events: { kind: string; detail: { id: string; action: string } }[] }>(await admin('GET', '/events?kind=pop&limit=1'));
    expect(events[0]!.detail).toMatchObject({ id: home, action: 'withdraw' });

    expect((await admin('PUT', `/pops/${home}`, { withdrawn: false })).status).toBe(200);
    expect((await lb('/', { headers: sim })).headers.get('x-lb-pop')).toBe(home);
  });

  it('with ?host=, maps each PoP to the pool its new clients are steered to, without taking a round-robin turn', async () => {
    const [a, b] = await Promise.all([startOrigin('map-eu'), startOrigin('map-us')]);
    await configure({
      pools: [
        { id: 'eu', latitude: 50.11, longitude: 8.68, origins: [{ name: 'e', address: a.url }] },
        { id: 'us', latitude: 39.04, longitude: -77.49, origins: [{ name: 'u1', address: b.url }, { name: 'u2', address: b.url }] },
      ],
      load_balancers: [{ id: 'near', hostname: 'near.test', default_pools: ['us', 'eu'], steering_policy: 'proximity' }],
    });
    const before = (await lb('/', { host: 'near.test', headers: { 'x-lb-sim-colo': 'IAD' } })).headers.get('x-lb-origin');
    const { pops } = await json<{ pops: { colo: string; pool: string | null }[] }>(await admin('GET', '/pops?host=near.test'));
    const poolOf = (colo: string) => pops.find((p) => p.colo === colo)!.pool;
    expect([poolOf('FRA'), poolOf('AMS'), poolOf('IAD'), poolOf('LAX'), poolOf('GRU')]).toEqual(['eu', 'eu', 'us', 'us', 'us']);
    // The map took no turn of us's round robin: the next request goes to the other origin.
    const after = (await lb('/', { host: 'near.test', headers: { 'x-lb-sim-colo': 'IAD' } })).headers.get('x-lb-origin');
    expect(new Set([before, after])).toEqual(new Set(['u1', 'u2']));
    expect((await admin('GET', '/pops?host=elsewhere.test')).status).toBe(404);
  });

  it('refuses an unknown PoP (404) and a bad body (400), changing nothing', async () => {
    const before = await json<{ version: number }>(await admin('GET', '/config'));
    const unknown = await admin('PUT', '/pops/ZZZ', { withdrawn: true });
    expect(unknown.status).toBe(404);
    expect((await json<{ error: { code: string } }>(unknown)).error.code).toBe('not_found');
    for (const body of [{ withdrawn: 'yes' }, {}, { withdrawn: true, extra: 1 }]) {
      const res = await admin('PUT', '/pops/FRA', body);
      expect(res.status).toBe(400);
      expect((await json<{ error: { code: string; issues: unknown[] } }>(res)).error).toMatchObject({ code: 'invalid_request', issues: expect.any(Array) });
    }
    expect((await json<{ version: number }>(await admin('GET', '/config'))).version).toBe(before.version);
  });
});

describe('explain', () => {
  const geo = (address: string) => ({
    pools: [
      { id: 'eu', latitude: 50.11, longitude: 8.68, origins: [{ name: 'e1', address }] },
      { id: 'us', latitude: 39.04, longitude: -77.49, origins: [{ name: 'u1', address }, { name: 'u2', address }] },
      { id: 'sa', enabled: false, origins: [{ name: 's1', address }] },
    ],
    load_balancers: [
      {
        id: 'geo',
        hostname: 'app.example.com',
        default_pools: ['eu', 'us'],
        country_pools: { BR: ['sa'] },
        region_pools: { ENAM: ['us'] },
        session_affinity: 'cookie' as const,
        retries: 1,
      },
    ],
  });

  it('explains a request: facts, load balancer, pools with why skipped, candidates, affinity, trace', async () => {
    await configure(geo('http://127.0.0.1:9'));
    const res = await admin('GET', '/explain?host=app.example.com&country=BR&ip=203.0.113.9');
    expect(res.status).toBe(200);
    const body = await json<{
      facts: { country: string; region: string; colo: string; ip: string };
      load_balancer: { id: string; policy: string };
      pools: { id: string; verdict: string }[];
      candidates: { pool: string; origin: string }[];
      affinity: { mode: string; outcome: string };
      trace: string[];
    }>(res);
    expect(body.facts).toMatchObject({ country: 'BR', region: 'SSAM', colo: 'GRU', ip: '203.0.113.9' });
    expect(body.load_balancer).toMatchObject({ id: 'geo', policy: 'geo' });
    expect(body.pools).toEqual([
      { id: 'sa', verdict: 'disabled' },
      { id: 'eu', verdict: 'eligible' },
      { id: 'us', verdict: 'eligible' },
    ]);
    expect(body.candidates.map((c) => `${c.pool}/${c.origin}`)).toEqual(['eu/e1', 'us/u1']);
    expect(body.affinity).toEqual({ mode: 'cookie', outcome: 'new', pin: null });
    expect(body.trace.join('\n')).toMatch(/country_pools\[BR\]/);
    expect(body.trace.join('\n')).toMatch(/pool sa skipped: disabled/);
  });

  it('follows a real affinity cookie to its pinned origin, as the request path does', async () => {
    const origin = await startOrigin('explained');
    await configure(geo(origin.url));
    const res = await lb('/', { host: 'app.example.com', headers: { 'x-lb-sim-country': 'US', 'x-lb-sim-colo': 'IAD' } });
    const token = AFFINITY.exec(res.headers.get('set-cookie')!)![1]!;
    const served = `${res.headers.get('x-lb-pool')}/${res.headers.get('x-lb-origin')}`;
    const body = await json<{ candidates: { pool: string; origin: string }[]; affinity: { outcome: string; pin: unknown } }>(
      await admin('GET', `/explain?host=app.example.com&colo=IAD&cookie=${encodeURIComponent(token)}`),
    );
    expect(body.affinity.outcome).toBe('pinned');
    expect(`${body.candidates[0]!.pool}/${body.candidates[0]!.origin}`).toBe(served);
    const forged = await json<{ affinity: { outcome: string }; trace: string[] }>(
      await admin('GET', `/explain?host=app.example.com&colo=IAD&cookie=${encodeURIComponent(token.slice(0, -2) + 'xx')}`),
    );
    expect(forged.affinity.outcome).toBe('new');
    expect(forged.trace.join('\n')).toMatch(/token invalid/);
  });

  it('answers 404 for a host no load balancer serves and 400 for a bad query', async () => {
    await configure(geo('http://127.0.0.1:9'));
    const none = await admin('GET', '/explain?host=other.example.org');
    expect(none.status).toBe(404);
    expect((await json<{ error: { code: string } }>(none)).error.code).toBe('no_load_balancer');
    for (const query of ['lat=91&lon=0', 'lat=10', 'country=Brazil', 'colo=FR', 'host=a%20b', 'path=nope', 'header=broken']) {
      const res = await admin('GET', `/explain?host=app.example.com&${query}`.replace('host=app.example.com&host=', 'host='));
      expect(res.status, query).toBe(400);
      expect((await json<{ error: { code: string } }>(res)).error.code).toBe('invalid_request');
    }
  });
});

describe('unknown paths', () => {
  it('answers 404 JSON under /__lb/ and /__lb/api/, authenticated or not', async () => {
    for (const res of [await lb('/__lb/nope'), await admin('GET', '/nope'), await admin('POST', '/pools/x/y/z')]) {
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
  });
});
