import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { MonitorSchema, OriginSchema, PoolSchema } from '../../src/config/schema';
import { CheckRunner, ROUND_SUBREQUESTS } from '../../src/control/check-runner';
import { applyOutcomes, targetKey, type CheckTarget } from '../../src/control/health-schedule';
import type { Env } from '../../src/env';
import { probe } from '../../src/health/probe';
import type { HealthReport } from '../../src/control/health-report';
import { admin, configure, startOrigin } from '../support/worker';

// A Worker invocation may make a limited number of subrequests (50 on the free plan,
// 1,000 or 10,000 on the paid one); workerd on its own has no limit, so these tests
// make the runtime's refusal with a binding that throws what the edge throws. A probe
// the invocation could not make is never a failure: a healthy origin is never marked
// down because a round ran out of subrequests.

const testEnv = env as Env;
const monitor = MonitorSchema.parse({ id: 'm', retries: 1 });

/** A Workers VPC binding whose every fetch the runtime refuses, as it does past the invocation's limit. */
const exhausted = { fetch: () => Promise.reject(new Error('Too many subrequests.')) } as unknown as Fetcher;

function targetsAt(address: string, count: number, network = ''): CheckTarget[] {
  const origins = Array.from({ length: count }, (_, i) => OriginSchema.parse({ name: `o${i}`, address, network }));
  const pool = PoolSchema.parse({ id: 'p', monitor: 'm', origins });
  return pool.origins.map((origin) => ({ pool, origin, monitor, key: targetKey('p', origin.name) }));
}

describe('the subrequests of one invocation', () => {
  it("a probe the runtime refuses for the invocation's limit is not checked, never failed, and is not retried", async () => {
    const [target] = targetsAt('http://origin.internal:8080', 1, 'VPC');
    const outcome = await probe(monitor, target.origin, { network: () => exhausted });
    expect(outcome).toMatchObject({ ok: false, unchecked: true, attempts: 1 });
    expect(outcome.reason).toContain('not checked');
  });

  it('a round makes at most its budget of attempts; the probes past it are not checked and leave health as it was', async () => {
    const a = await startOrigin('budget');
    const targets = targetsAt(a.url, 10);
    const runner = new CheckRunner(testEnv);
    const outcomes = await runner.probe(targets, { left: 4 });
    expect(outcomes.filter((o) => o.ok)).toHaveLength(4);
    expect(outcomes.filter((o) => o.unchecked === true)).toHaveLength(6);
    expect(await a.log()).toHaveLength(4);

    // Applied: the four checked origins have a result, the six others none (never checked = healthy).
    const config = { monitors: [monitor], pools: [targets[0].pool], load_balancers: [] } as never;
    const { health, changes } = applyOutcomes(config, {}, targets, outcomes, Date.now());
    expect(Object.keys(health.p ?? {}).sort()).toEqual(targets.filter((_, i) => outcomes[i].ok).map((t) => t.origin.name).sort());
    expect(changes.every((c) => c.transition.to === 'healthy')).toBe(true);
  });

  it('a probe whose re-try finds the budget spent is not checked: its first failure alone marks nothing', async () => {
    const a = await startOrigin('retry-budget');
    await a.mode({ status: 503 });
    const targets = targetsAt(a.url, 1);
    const outcomes = await new CheckRunner(testEnv).probe(targets, { left: 1 });
    expect(outcomes[0]).toMatchObject({ unchecked: true, attempts: 1 });
    expect(await a.log()).toHaveLength(1);
  });

  it(`POST /health/check over more origins than one round's ${ROUND_SUBREQUESTS} attempts: none marked down, the rest checked first by the next call`, async () => {
    const a = await startOrigin('fleet-of-many');
    const count = ROUND_SUBREQUESTS + 40;
    const origins = Array.from({ length: count }, (_, i) => ({ name: `o${i}`, address: a.url }));
    await configure({
      monitors: [{ id: 'm', interval: 3600, consecutive_down: 1 }],
      pools: [{ id: 'many', monitor: 'm', origins }],
      load_balancers: [{ id: 'many', hostname: 'many.test', default_pools: ['many'] }],
    });
    const states = async (res: Response) => {
      expect(res.status).toBe(200);
      const report = (await res.json()) as HealthReport;
      const count = (state: string) => report.origins.filter((o) => o.state === state).length;
      return { healthy: count('healthy'), unknown: count('unknown'), unhealthy: count('unhealthy') };
    };
    expect(await states(await admin('POST', '/health/check'))).toEqual({ healthy: ROUND_SUBREQUESTS, unknown: 40, unhealthy: 0 });
    expect(await a.log()).toHaveLength(ROUND_SUBREQUESTS);
    // The next call takes the longest unchecked first: the forty left over.
    expect(await states(await admin('POST', '/health/check'))).toEqual({ healthy: count, unknown: 0, unhealthy: 0 });
  }, 60_000);
});
