import { runDurableObjectAlarm } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
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
