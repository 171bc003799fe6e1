import { runDurableObjectAlarm } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { MonitorSchema, OriginSchema, PoolSchema } from '../../src/config/schema';
import { CheckRunner, PROBE_CONCURRENCY } from '../../src/control/check-runner';
import { targetKey, type CheckTarget } from '../../src/control/health-schedule';
import type { HealthReport } from '../../src/control/health-report';
import type { Env } from '../../src/env';
import { admin, configure, startOrigin } from '../support/worker';

// A hostile origin that accepts the probe's connection and never answers holds that
// probe for timeout × (retries + 1). It must hold back neither the other origins'
// results (recorded as they come in) nor their next checks (the alarm starts a round
// for each origin that comes due meanwhile).

const testEnv = env as Env;
const controlStub = () => testEnv.CONTROL.get(testEnv.CONTROL.idFromName('control'));

async function stateOf(pool: string, origin: string): Promise<string | undefined> {
  const report = (await (await admin('GET', '/health')).json()) as HealthReport;
  return report.origins.find((o) => o.pool === pool && o.origin === origin)?.state;
}

describe('a probe that hangs', () => {
  it("records the other origins' results while it is out, and checks them again as they come due", async () => {
    const [hole, fast] = await Promise.all([startOrigin('slow-probe-hole'), startOrigin('slow-probe-fast')]);
    await hole.mode({ delayMs: 13_000 });
    await fast.mode({ status: 503 });
    const HOLE_TIMEOUT_S = 12;
    await configure({
      monitors: [
        { id: 'patient', interval: 3600, timeout: HOLE_TIMEOUT_S, consecutive_down: 1 },
        { id: 'quick', interval: 5, timeout: 2, consecutive_down: 1, consecutive_up: 1 },
      ],
      pools: [
        { id: 'holes', monitor: 'patient', origins: [{ name: 'hole', address: hole.url }] },
        { id: 'quick', monitor: 'quick', origins: [{ name: 'fast', address: fast.url }] },
      ],
      load_balancers: [{ id: 'main', hostname: 'slow-probe.test', default_pools: ['quick', 'holes'] }],
    });
    const started = Date.now();
    const alarm = runDurableObjectAlarm(controlStub());

    // The quick origin's failure is recorded about a second after its probe, not when the hole's ends.
    let downAfter: number | undefined;
    while (Date.now() - started < HOLE_TIMEOUT_S * 1000) {
      if ((await stateOf('quick', 'fast')) === 'unhealthy') {
        downAfter = Date.now() - started;
        break;
      }
      await scheduler.wait(200);
    }
    expect(downAfter).toBeDefined();
    expect(downAfter!).toBeLessThan(HOLE_TIMEOUT_S * 1000 - 4000);

    // Well before the hole's probe gives up, the quick origin has come due again and been probed again; once back, it is healthy.
    await fast.mode({ status: 200 });
    while (Date.now() - started < HOLE_TIMEOUT_S * 1000 - 1000 && (await stateOf('quick', 'fast')) !== 'healthy') await scheduler.wait(200);
    expect(await stateOf('quick', 'fast')).toBe('healthy');
    expect(await stateOf('holes', 'hole')).toBe('unknown');
    expect((await fast.log()).length).toBeGreaterThanOrEqual(2);

    await alarm;
    expect(await stateOf('holes', 'hole')).toBe('unhealthy');
  }, 40_000);
});

describe('rounds side by side', () => {
  it(`share the object's ${PROBE_CONCURRENCY} connections: never more probes open at once, so none waits for a connection while its timeout runs`, async () => {
    const slow = await startOrigin('shared-connections');
    await slow.mode({ delayMs: 300 });
    const monitor = MonitorSchema.parse({ id: 'm', timeout: 5 });
    const targets = (pool: string): CheckTarget[] => {
      const parsed = PoolSchema.parse({ id: pool, monitor: 'm', origins: Array.from({ length: 8 }, (_, i) => OriginSchema.parse({ name: `o${i}`, address: slow.url })) });
      return parsed.origins.map((origin) => ({ pool: parsed, origin, monitor, key: targetKey(pool, origin.name) }));
    };
    const runner = new CheckRunner(testEnv);
    const [a, b] = await Promise.all([runner.probe(targets('a')), runner.probe(targets('b'))]);
    expect([...a, ...b].every((o) => o.ok)).toBe(true);

    const log = await slow.log();
    expect(log).toHaveLength(16);
    // The most requests the origin held open at one time.
    const edges = log.flatMap((r) => [{ at: r.at, open: 1 }, { at: r.answeredAt ?? r.at, open: -1 }]).sort((x, y) => x.at - y.at || x.open - y.open);
    let open = 0;
    let most = 0;
    for (const edge of edges) most = Math.max(most, (open += edge.open));
    expect(most).toBeLessThanOrEqual(PROBE_CONCURRENCY);
    expect(most).toBeGreaterThanOrEqual(2);
  });

  it('a round that ends frees only its own origins: one that another round probes again stays busy', async () => {
    const [a, b] = await Promise.all([startOrigin('busy-a'), startOrigin('busy-b')]);
    await b.mode({ delayMs: 2500 });
    const monitor = MonitorSchema.parse({ id: 'm', timeout: 10 });
    const pool = PoolSchema.parse({ id: 'busy', monitor: 'm', origins: [OriginSchema.parse({ name: 'a', address: a.url }), OriginSchema.parse({ name: 'b', address: b.url })] });
    const [targetA, targetB] = pool.origins.map((origin) => ({ pool, origin, monitor, key: targetKey('busy', origin.name) }));
    const runner = new CheckRunner(testEnv);
    let appliedA: () => void = () => undefined;
    const aApplied = new Promise<void>((resolve) => (appliedA = resolve));
    const first = runner.probeInBatches([targetA!, targetB!], async (batch) => {
      if (batch.includes(targetA!)) appliedA();
    });
    await aApplied;
    await scheduler.wait(50);
    expect(runner.busy.has(targetA!.key)).toBe(false);
    expect(runner.busy.has(targetB!.key)).toBe(true);

    // a comes due again and a second round takes it, slowly this time.
    await a.mode({ delayMs: 3000 });
    const second = runner.probeInBatches([targetA!], async () => undefined);
    await first;
    expect(runner.busy.has(targetB!.key)).toBe(false);
    expect(runner.busy.has(targetA!.key)).toBe(true);
    await second;
    expect(runner.busy.has(targetA!.key)).toBe(false);
  });
});
