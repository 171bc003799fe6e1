import { describe, expect, it } from 'vitest';
import { configure, lb, startOrigin } from '../support/worker';

// Failures on live traffic: a poisoned request cannot take a pool down, and killing
// an origin under load costs clients nothing.

describe('a poisoned request (seed 001\'s "query of death")', () => {
  it('fails for its client after retries + 1 attempts while ordinary requests keep being served', async () => {
    const origins = await Promise.all(['qod-1', 'qod-2', 'qod-3'].map((name) => startOrigin(name)));
    await Promise.all(origins.map((o) => o.mode({ paths: { '/poison': 502 } })));
    await configure({
      pools: [{ id: 'qod', origins: origins.map((o, i) => ({ name: `qod-${i + 1}`, address: o.url })) }],
      load_balancers: [
        {
          id: 'main',
          hostname: '*',
          default_pools: ['qod'],
          retries: 2,
          // Eager ejection: a single failure would eject an origin, but never more than a third of the pool.
          passive_health: { max_fails: 1, fail_timeout: 30, max_ejection_percent: 34 },
        },
      ],
    });

    for (let round = 0; round < 5; round++) {
      await Promise.all(origins.map((o) => o.clearLog()));
      const poisoned = await lb('/poison');
      // Every attempt got a 502: the client gets the last one, as from nginx.
      expect(poisoned.status).toBe(502);
      await poisoned.arrayBuffer();
      expect(Number(poisoned.headers.get('x-lb-attempts'))).toBeLessThanOrEqual(3);
      const attempts = (await Promise.all(origins.map((o) => o.log()))).flat().filter((r) => r.url === '/poison');
      expect(attempts.length).toBeGreaterThanOrEqual(1);
      expect(attempts.length).toBe(Number(poisoned.headers.get('x-lb-attempts')));

      // Ordinary requests between poisoned ones: every one served, by origins still in the pool.
      const served = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const res = await lb('/');
        expect(res.status).toBe(200);
        await res.arrayBuffer();
        served.add(res.headers.get('x-lb-origin')!);
      }
      // At most one of three ejected: at least two keep serving.
      expect(served.size).toBeGreaterThanOrEqual(2);
    }
  });
});

describe('the ejection cap cannot be got round', () => {
  /** GETs of `path` through `host` until each has been answered; the origins fail it meanwhile. */
  async function poison(host: string, path: string, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const res = await lb(path, { host });
      expect(res.status).toBeGreaterThanOrEqual(500);
      await res.arrayBuffer();
    }
  }

  /** The origins that serve `/` through `host`, over `n` requests; a 503 counts as none. */
  async function serving(host: string, n = 8): Promise<Set<string>> {
    const names = new Set<string>();
    for (let i = 0; i < n; i++) {
      const res = await lb('/', { host });
      await res.arrayBuffer();
      if (res.status === 200) names.add(res.headers.get('x-lb-origin')!);
    }
    return names;
  }

  it('by disabled origins: the cap counts the origins that serve, so two live of four configured are never both ejected', async () => {
    const live = await Promise.all(['cap-live-1', 'cap-live-2'].map((name) => startOrigin(name)));
    await Promise.all(live.map((o) => o.mode({ paths: { '/fail': 503 } })));
    await configure({
      pools: [
        {
          id: 'cap-disabled',
          origins: [
            ...live.map((o, i) => ({ name: `live-${i + 1}`, address: o.url })),
            { name: 'off-1', address: 'off-1.invalid', enabled: false },
            { name: 'off-2', address: 'off-2.invalid', enabled: false },
          ],
        },
      ],
      load_balancers: [{ id: 'main', hostname: 'cap.test', default_pools: ['cap-disabled'], retries: 1, passive_health: { max_fails: 3, fail_timeout: 30, max_ejection_percent: 50 } }],
    });
    // Every GET of /fail is charged to both live origins: three of them reach max_fails on each.
    await poison('cap.test', '/fail', 4);
    // Half of the two that serve may go, never both: the pool keeps answering.
    expect((await serving('cap.test')).size).toBe(1);
  });

  it("by a looser load balancer on the same pool: failures are counted by the pool's hardest policy", async () => {
    const shared = await Promise.all(['cap-shared-1', 'cap-shared-2', 'cap-shared-3', 'cap-shared-4'].map((name) => startOrigin(name)));
    await Promise.all(shared.map((o) => o.mode({ paths: { '/fail': 503 } })));
    await configure({
      pools: [{ id: 'cap-shared', origins: shared.map((o, i) => ({ name: `s${i + 1}`, address: o.url })) }],
      load_balancers: [
        { id: 'production', hostname: 'prod.test', default_pools: ['cap-shared'], retries: 3, passive_health: { max_fails: 3, fail_timeout: 30, max_ejection_percent: 50 } },
        // A canary that ejects on one failure, all of the pool if need be.
        { id: 'canary', hostname: 'canary.test', default_pools: ['cap-shared'], retries: 3, passive_health: { max_fails: 1, fail_timeout: 30, max_ejection_percent: 100 } },
      ],
    });
    await poison('canary.test', '/fail', 6);
    // By the canary's own settings all four would be out; by the hardest, at most two.
    expect((await serving('prod.test', 12)).size).toBeGreaterThanOrEqual(2);
    expect((await serving('canary.test', 12)).size).toBeGreaterThanOrEqual(2);
  });
});

describe('killing an origin under load', () => {
  it('2,000 GETs at concurrency 20, one of three origins killed mid-run: zero client errors', async () => {
    const origins = await Promise.all(['load-1', 'load-2', 'load-3'].map((name) => startOrigin(name)));
    await configure({
      pools: [{ id: 'load', origins: origins.map((o, i) => ({ name: `load-${i + 1}`, address: o.url })) }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['load'], retries: 2 }],
    });

    const total = 2000;
    let issued = 0;
    let killed = false;
    const failures: string[] = [];
    const servedBy: Record<string, number> = {};
    const client = async () => {
      while (issued < total) {
        const n = issued++;
        if (n === total / 4 && !killed) {
          killed = true;
          void origins[1]!.down();
        }
        const res = await lb(`/item/${n}`);
        const body = await res.text();
        if (res.status !== 200) failures.push(`#${n}: ${res.status} ${body.slice(0, 120)}`);
        else servedBy[res.headers.get('x-lb-origin')!] = (servedBy[res.headers.get('x-lb-origin')!] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: 20 }, client));

    expect(failures).toEqual([]);
    expect(Object.values(servedBy).reduce((a, b) => a + b, 0)).toBe(total);
    // The killed origin served only its share of the first quarter.
    expect(servedBy['load-2'] ?? 0).toBeLessThan(total / 4);
    expect(servedBy['load-1']! + servedBy['load-3']!).toBeGreaterThan((total * 3) / 4);
  }, 60_000);
});
