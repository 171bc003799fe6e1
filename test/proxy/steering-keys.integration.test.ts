import { describe, expect, it } from 'vitest';
import { admin, configure, lb, startOrigin } from '../support/worker';

// A pool's hash_key and load_shedding through the Worker, against real origins.

describe('hash_key: a hash pool keyed on a header', () => {
  it('sends each user to one origin across 50 requests from changing addresses, and spreads the users', async () => {
    const origins = await Promise.all(['k1', 'k2', 'k3'].map((name) => startOrigin(name)));
    await configure({
      pools: [
        {
          id: 'users',
          origin_steering: { policy: 'hash', hash_key: 'header:x-user' },
          origins: origins.map((o, i) => ({ name: `k${i + 1}`, address: o.url })),
        },
      ],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['users'] }],
    });

    const users = Array.from({ length: 10 }, (_, i) => `user-${i}`);
    const seen = new Map<string, Set<string>>();
    for (let i = 0; i < 50; i++) {
      const user = users[i % users.length];
      const res = await lb('/', { headers: { 'x-user': user, 'x-lb-sim-ip': `198.51.100.${i + 1}` } });
      expect(res.status).toBe(200);
      await res.text();
      const origin = res.headers.get('x-lb-origin')!;
      seen.set(user, (seen.get(user) ?? new Set()).add(origin));
    }
    for (const [user, names] of seen) expect([...names], user).toHaveLength(1);
    expect(new Set([...seen.values()].map((names) => [...names][0])).size).toBeGreaterThan(1);

    // The origin gets the header as the client sent it.
    const logged = (await Promise.all(origins.map((o) => o.log()))).flat();
    expect(logged.every((entry) => /^user-\d$/.test(entry.headers['x-user'] ?? ''))).toBe(true);
  });
});

describe('load_shedding: a pool that sheds every new request', () => {
  it('sends new requests to the next pool, and explain says the pool shed them', async () => {
    const [busy, spare] = await Promise.all([startOrigin('busy'), startOrigin('spare')]);
    await configure({
      pools: [
        { id: 'busy', load_shedding: { default_percent: 100 }, origins: [{ name: 'busy', address: busy.url }] },
        { id: 'spare', origins: [{ name: 'spare', address: spare.url }] },
      ],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['busy', 'spare'] }],
    });

    for (let i = 0; i < 10; i++) {
      const res = await lb('/', { headers: { 'x-lb-sim-ip': `203.0.113.${i + 1}` } });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('Response from spare');
      expect(res.headers.get('x-lb-pool')).toBe('spare');
    }
    expect(await busy.log()).toHaveLength(0);

    const explained = await admin('GET', '/explain?host=app.test&ip=203.0.113.9');
    expect(explained.status).toBe(200);
    const body = (await explained.json()) as { pools: { id: string; verdict: string }[]; trace: string[] };
    expect(body.pools).toEqual([
      { id: 'busy', verdict: 'shed' },
      { id: 'spare', verdict: 'eligible' },
    ]);
    expect(body.trace).toContain('pool busy shed 100% (random)');
  });
});
