import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../src/control/control-plane';
import type { HealthProber } from '../../src/control/prober';
import type { Env } from '../../src/env';
import type { HealthMap, OriginHealth } from '../../src/health/state';
import { REGIONS } from '../../src/geo/regions';

// Durable Object storage on Cloudflare keeps at most 2 MB in one row (workerd on its
// own allows several times that, then refuses with SQLITE_TOOBIG). A health map is
// written whole, about 2.8 KB per origin checked from all 13 regions: past 720 such
// origins one row would not hold it, and health would stop being recorded. Both
// Durable Objects that keep one store it as parts (src/control/large-values.ts).

const testEnv = env as Env;
const ROW_LIMIT = 2_000_000;
let objects = 0;

/** A health map of `origins` origins in one pool, each with every region's result: about 2.9 KB an origin. */
function bigHealth(origins: number): HealthMap {
  const result = (i: number): OriginHealth => ({
    healthy: i % 7 !== 0,
    rtt_ms: 12.5,
    consecutive_up: 3,
    consecutive_down: 0,
    last_check_at: '2026-11-30T12:00:00.000Z',
    reason: i % 7 === 0 ? 'connection refused by the origin at 10.0.0.1:443 after 3 attempts' : 'HTTP 200 from the monitor path /healthz',
    check_failures: i,
    since: 1_764_500_000_000,
  });
  const pool: Record<string, OriginHealth> = {};
  for (let i = 0; i < origins; i++) {
    // A name with characters outside the BMP, so that parts are cut near surrogate pairs too.
    pool[`origin-${i}-😀`] = { ...result(i), regions: Object.fromEntries(REGIONS.map((r) => [r, result(i)])) };
  }
  return { 'pool-a': pool };
}

describe('state larger than one row of Durable Object storage', () => {
  it('the ControlPlane keeps a health map of 4,000 origins checked from every region: read back whole, no row over 2 MB, parts gone when it shrinks', async () => {
    const health = bigHealth(4_000);
    const text = JSON.stringify(health);
    // Over 10 MiB, where workerd itself refuses one value.
    expect(new TextEncoder().encode(text).byteLength).toBeGreaterThan(10 * 1024 * 1024);
    const stub = testEnv.CONTROL.get(testEnv.CONTROL.idFromName(`large-state-${++objects}`));
    await runInDurableObject(stub, (instance: ControlPlane, state) => {
      const store = instance['store'];
      store.write('health', health);
      const sql = state.storage.sql;
      const largest = sql.exec<{ n: number }>('SELECT MAX(length(CAST(value AS BLOB))) AS n FROM state').one().n;
      expect(largest).toBeLessThanOrEqual(ROW_LIMIT);
      expect(sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM state WHERE key LIKE 'health#%'").one().n).toBeGreaterThan(10);
      expect(store.read('health')).toEqual(health);
      expect(store.snapshot(Date.now()).health).toEqual(health);

      const small = bigHealth(3);
      store.write('health', small);
      expect(sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM state WHERE key LIKE 'health#%'").one().n).toBe(0);
      expect(store.read('health')).toEqual(small);
    });
  });

  it("a region's prober keeps its health map the same way, and reads a value an earlier release stored structured-cloned", async () => {
    const health = bigHealth(4_000);
    const stub = testEnv.PROBERS.get(testEnv.PROBERS.idFromName(`probe:large-${++objects}`));
    await runInDurableObject(stub, (instance: HealthProber, state) => {
      instance['write']('health', health);
      const sizes = [...state.storage.kv.list<string>()].map(([, value]) => new TextEncoder().encode(value).byteLength);
      expect(sizes.length).toBeGreaterThan(10);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(ROW_LIMIT);
      expect(instance['read']('health')).toEqual(health);

      const earlier = bigHealth(2);
      state.storage.kv.put('health', earlier);
      expect(instance['read']('health')).toEqual(earlier);
      instance['write']('health', bigHealth(4_000));
      instance['write']('health', earlier);
      expect([...state.storage.kv.list({ prefix: 'health#' })]).toEqual([]);
      expect(instance['read']('health')).toEqual(earlier);
    });
  });
});
