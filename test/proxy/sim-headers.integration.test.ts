import { describe, expect, it } from 'vitest';
import { popByColo } from '../../src/geo/anycast';
import type { StatsReport } from '../../src/stats/traffic';
import { admin, ADMIN_TOKEN, configure, lb, startOrigin } from '../support/worker';

// SPEC §8: an x-lb-sim-* header with a malformed value is ignored, each on its own.
// What is at stake: a hostile x-lb-sim-ip copied into Forwarded, and every random
// x-lb-sim-colo becoming a new PoP in stats and metrics.

describe('malformed simulation headers through the Worker', () => {
  it('a hostile x-lb-sim-ip and an unknown x-lb-sim-colo reach neither the origin nor the stats', async () => {
    const colo = 'QZX';
    expect(popByColo(colo)).toBeUndefined();
    const origin = await startOrigin('sim-hygiene');
    await configure({
      pools: [{ id: 'simhyg', origins: [{ name: 'sh', address: origin.url }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['simhyg'] }],
    });

    const res = await lb('/', {
      headers: {
        'cf-connecting-ip': '192.0.2.50',
        'x-lb-sim-ip': '1.2.3.4;proto=https, 6.6.6.6',
        'x-lb-sim-colo': colo,
        'x-lb-sim-country': 'ZZ',
        'x-lb-sim-lat': '95',
        'x-lb-sim-lon': '0x10',
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-lb-pop')).not.toBe(colo);
    await res.arrayBuffer();

    const [seen] = await origin.log();
    expect(seen!.headers['x-forwarded-for']).toBe('192.0.2.50');
    expect(seen!.headers['forwarded']).toBe('for=192.0.2.50;proto=http;host=app.test');
    expect(seen!.headers['x-lb-pop']).not.toBe(colo);
    for (const name of ['x-lb-sim-ip', 'x-lb-sim-colo', 'x-lb-sim-country', 'x-lb-sim-lat', 'x-lb-sim-lon']) {
      expect(seen!.headers, name).not.toHaveProperty(name);
    }

    const stats = await admin('GET', '/stats');
    expect(stats.status).toBe(200);
    const report = (await stats.json()) as StatsReport;
    expect(report.pools.find((p) => p.pool === 'simhyg')?.requests).toBe(1);
    expect(report.pops.map((p) => p.pop)).not.toContain(colo);
    const metrics = await lb('/__lb/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(await metrics.text()).not.toContain(colo);
  });

  it('a well-formed x-lb-sim-ip and a known colo are still used', async () => {
    const origin = await startOrigin('sim-valid');
    await configure({
      pools: [{ id: 'simok', origins: [{ name: 'so', address: origin.url }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['simok'] }],
    });
    const res = await lb('/', { headers: { 'cf-connecting-ip': '192.0.2.50', 'x-lb-sim-ip': '203.0.113.8', 'x-lb-sim-colo': 'ams' } });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const [seen] = await origin.log();
    expect(seen!.headers['x-forwarded-for']).toBe('203.0.113.8');
    expect(seen!.headers['x-lb-pop']).toBe('AMS');
  });
});
