// The propagation model's mechanics (scripts/lib/simulate/propagation.mjs): its clock,
// its round trips, and the properties its table rests on.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { EventQueue } from '../../scripts/lib/simulate/event-queue.mjs';
import { MODEL_DEFAULTS, propagation, roundTripMs } from '../../scripts/lib/simulate/propagation.mjs';
import { parseCommandLine, run } from '../../scripts/lib/simulate/run.mjs';
import { POPS } from '../../src/geo/pops';

const TTL = MODEL_DEFAULTS.ttlMs;
const row = (result: ReturnType<typeof propagation>, path: string, isolates: number) => result.rows.find((r) => r.path === path && r.isolates === isolates)!;

describe('the event queue', () => {
  it('hands events back by time, and those at one time in the order they were scheduled', () => {
    const queue = new EventQueue<string>();
    const times = [5, 1, 3, 3, 9, 0, 3, 7, 2, 8];
    times.forEach((t, i) => queue.push(t, `${t}:${i}`));
    const out: string[] = [];
    for (let next = queue.pop(); next !== undefined; next = queue.pop()) out.push(next.event);
    expect(out).toEqual(['0:5', '1:1', '2:8', '3:2', '3:3', '3:6', '5:0', '7:7', '8:9', '9:4']);
    expect(queue.size).toBe(0);
  });
});

describe('the propagation model', () => {
  const iad = POPS.find((p) => p.colo === 'IAD')!;
  const fra = POPS.find((p) => p.colo === 'FRA')!;

  it('takes a round trip as the great circle there and back at 200 km/ms plus the overhead', () => {
    expect(roundTripMs(iad, iad, 10)).toBe(10);
    // Ashburn to Frankfurt is about 6,500 km.
    expect(roundTripMs(fra, iad, 10)).toBeGreaterThan(70);
    expect(roundTripMs(fra, iad, 10)).toBeLessThan(80);
  });

  // One trial of every path over the real PoP table, shared by the checks below.
  const result = propagation({ trials: 1, isolates: [1, 10, 100], seed: 'mechanics' });
  const pops = POPS.length;

  it('with the PoP tier, the Durable Object serves at most one refresh per PoP per TTL, whatever the number of isolates', () => {
    const bound = (pops * 1000) / TTL;
    const loads = [1, 10, 100].map((n) => row(result, 'pop-tier', n).doPerSecond);
    for (const load of loads) {
      expect(load).toBeLessThanOrEqual(bound);
      expect(load).toBeGreaterThan(0.8 * bound);
    }
    expect(Math.max(...loads) / Math.min(...loads)).toBeLessThan(1.05);
  });

  it('without it, the load grows with the isolates; KV alone puts none on the Durable Object but reads grow the same way', () => {
    expect(row(result, 'direct', 100).doPerSecond / row(result, 'direct', 1).doPerSecond).toBeGreaterThan(90);
    expect(row(result, 'direct', 100).doPerSecond / row(result, 'direct', 1).doPerSecond).toBeLessThan(110);
    for (const n of [1, 10, 100]) {
      expect(row(result, 'kv', n).doPerSecond).toBe(0);
      expect(row(result, 'kv', n).kvReadsPerSecond).toBeCloseTo((n * pops * 1000) / (TTL + MODEL_DEFAULTS.localOpMs), 6);
    }
  });

  it('with the tier every PoP has a change within TTL, two looks, the claim and one and a half of the longest round trip', () => {
    // The worst case: the last answer before the change left the Durable Object just
    // before it (half a round trip), the PoP's copy then stays fresh for a TTL, the next
    // look comes up to one look later, the claim waits and asks (a round trip), and the
    // last isolate looks up to one look after that; each look or claim step is a cache
    // operation or two.
    const { localOpMs: op, looksPerTtl, settleMs, overheadMs } = MODEL_DEFAULTS;
    const longest = Math.max(...POPS.map((p) => roundTripMs(p, iad, overheadMs)));
    const bound = TTL + 2 * (TTL / looksPerTtl + op) + settleMs + 1.5 * longest + 10 * op;
    for (const n of [1, 10, 100]) {
      expect(row(result, 'pop-tier', n).p100Ms).toBeLessThanOrEqual(bound);
      expect(row(result, 'pop-tier', n).p50Ms).toBeLessThan(row(result, 'pop-tier', n).p100Ms);
    }
  });

  it('with KV alone a PoP waits for both keys to time out: half the PoPs by about 0.7 of cacheTtl, the last by cacheTtl and one TTL', () => {
    const ttl = MODEL_DEFAULTS.kvCacheTtlMs;
    for (const n of [1, 10, 100]) {
      const kv = row(result, 'kv', n);
      // The later of two uniform draws has its median at √½ of the range.
      expect(kv.p50Ms).toBeGreaterThan(0.6 * ttl);
      expect(kv.p50Ms).toBeLessThan(0.8 * ttl + TTL);
      expect(kv.p100Ms).toBeGreaterThan(0.95 * ttl);
      expect(kv.p100Ms).toBeLessThanOrEqual(ttl + TTL + 4 * MODEL_DEFAULTS.localOpMs);
    }
  });

  it('draws the same figures from the same seed', () => {
    const a = propagation({ trials: 1, isolates: [3], seed: 'again', pops: POPS.slice(0, 20) });
    const b = propagation({ trials: 1, isolates: [3], seed: 'again', pops: POPS.slice(0, 20) });
    expect(a.rows).toEqual(b.rows);
  });

  it('refuses a Durable Object location that is not a PoP', () => {
    expect(() => propagation({ doColo: 'XXX', trials: 1, isolates: [1] })).toThrow(/no PoP "XXX"/);
  });
});

describe('simulate --scenario propagation', () => {
  it('runs the model alone, with no Switchyard to talk to, and writes propagation.json', async () => {
    expect(parseCommandLine(['--scenario', 'propagation'])).toMatchObject({ model: true, scenarios: [] });
    expect(parseCommandLine(['--scenario', 'propagation,sticky', '--isolates', '2,4', '--ttl-ms', '1000', '--do-colo', 'fra'])).toMatchObject({
      model: true,
      scenarios: ['sticky'],
      modelOptions: { isolates: [2, 4], ttlMs: 1000, doColo: 'FRA' },
    });
    expect(() => parseCommandLine(['--scenario', 'propagation', '--isolates', '0'])).toThrow(/--isolates/);

    const dir = await mkdtemp(join(tmpdir(), 'propagation-'));
    let out = '';
    let err = '';
    const io = { stdout: { write: (s: string) => void (out += s) }, stderr: { write: (s: string) => void (err += s) }, env: {}, cwd: dir };
    try {
      expect(await run(['--scenario', 'propagation', '--isolates', '1', '--trials', '1', '--out', 'o'], io)).toBe(0);
      expect(out).toMatch(/a model, not a measurement/);
      expect(out).toMatch(/PoP tier\s+1\s/);
      const written = JSON.parse(await readFile(join(dir, 'o', 'propagation.json'), 'utf8'));
      expect(written.rows).toHaveLength(3);
      expect(await run(['--scenario', 'propagation', '--do-colo', 'XYZ', '--isolates', '1', '--trials', '1'], io)).toBe(2);
      expect(err).toMatch(/no PoP "XYZ"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
