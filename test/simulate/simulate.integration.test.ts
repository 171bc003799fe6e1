// The world traffic simulator's core run inside workerd against the Worker itself:
// real steering, real anycast simulation, real origins on loopback.
import { describe, expect, it } from 'vitest';
import { haversineKm, simulate } from '../../scripts/lib/simulate/core.mjs';
import { admin, configure, lb, startOrigin } from '../support/worker';

interface SimRequest {
  host: string;
  path: string;
  headers: Record<string, string>;
}
interface PopDoc {
  pops: { colo: string; latitude: number; longitude: number; withdrawn: boolean }[];
}

async function send(request: SimRequest): Promise<Response> {
  const res = await lb(request.path, { host: request.host, headers: request.headers });
  await res.arrayBuffer();
  return res;
}

async function adminJson(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await admin(method, path, body);
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

describe('npm run simulate, its core inside workerd', () => {
  it('proximity steering is near the oracle, and a withdrawn PoP hands its clients to the next nearest', async () => {
    const [fra, iad, gru] = await Promise.all([startOrigin('fra-1'), startOrigin('iad-1'), startOrigin('gru-1')]);
    await configure({
      pools: [
        { id: 'eu', latitude: 50.11, longitude: 8.68, origins: [{ name: 'fra-1', address: fra.url }] },
        { id: 'us', latitude: 39.04, longitude: -77.49, origins: [{ name: 'iad-1', address: iad.url }] },
        { id: 'sa', latitude: -23.55, longitude: -46.63, origins: [{ name: 'gru-1', address: gru.url }] },
      ],
      load_balancers: [{ id: 'prox', hostname: 'proximity.test', default_pools: ['eu', 'us', 'sa'], steering_policy: 'proximity' }],
    });

    const summary = await simulate({
      send,
      admin: adminJson,
      host: 'proximity.test',
      clients: 300,
      seed: 2024,
      scenarios: ['baseline', 'pop-withdrawn'],
      concurrency: 8,
    });
    const [baseline, withdrawn] = summary.scenarios;
    expect(baseline.error).toBeUndefined();
    expect(withdrawn.error).toBeUndefined();

    // (a) Proximity steering's mean estimated round trip is within 10% of the oracle's.
    expect(baseline.answered).toBe(300);
    const rtt = baseline.rtt!;
    expect(rtt.estimated).toBe(300);
    expect(rtt.steering.mean_ms!).toBeLessThanOrEqual(1.1 * rtt.oracle.mean_ms!);
    expect(Object.keys(baseline.pools!).sort()).toEqual(['eu', 'sa', 'us']);

    // (b) The PoP that served the most clients was withdrawn; each of its clients is now
    // on the nearest PoP that is not withdrawn, computed here from GET /pops.
    const busiest = Object.entries(baseline.pops!).sort((a, b) => b[1] - a[1])[0][0];
    expect(withdrawn.withdrawn_pops).toEqual([busiest]);
    const { pops } = (await adminJson('GET', '/pops')) as PopDoc;
    const remaining = pops.filter((p) => p.colo !== busiest && !p.withdrawn);
    const nearest = (lat: number, lon: number) =>
      remaining.reduce((best, p) => (haversineKm(lat, lon, p.latitude, p.longitude) < haversineKm(lat, lon, best.latitude, best.longitude) ? p : best)).colo;
    const movers = baseline.clients.filter((c) => c.pop === busiest);
    expect(movers.length).toBeGreaterThan(0);
    for (const before of movers) {
      const after = withdrawn.clients.find((c) => c.id === before.id)!;
      expect(after.pop, `${before.city} (${before.lat}, ${before.lon})`).toBe(nearest(before.lat, before.lon));
      expect(after.status).toBe(200);
    }
    expect(withdrawn.moved!.clients).toBe(movers.length);
    expect(withdrawn.checks.every((c: { ok: boolean }) => c.ok)).toBe(true);

    // And it was restored.
    expect(withdrawn.restored).toEqual([{ what: `PoP ${busiest}`, ok: true }]);
    expect(pops.find((p) => p.colo === busiest)?.withdrawn).toBe(false);
  });
});
