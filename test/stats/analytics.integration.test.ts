import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import worker from '../../src/index';
import { configure, startOrigin } from '../support/worker';

// The optional ANALYTICS binding (a Workers Analytics Engine dataset): a data point
// per proxied request when it is bound, nothing when it is not, and never a failed
// request because of it.

async function send(e: Env, path: string, headers: Record<string, string> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`http://analytics.test${path}`, { headers }), e, ctx);
  await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return res;
}

describe('per-request analytics', () => {
  it('writes one data point per proxied request to ANALYTICS when it is bound, none without it', async () => {
    const [a, b] = await Promise.all([startOrigin('ae-a'), startOrigin('ae-b')]);
    await b.mode({ paths: { '/missing': 404 } });
    await configure({
      pools: [{ id: 'ae', origins: [{ name: 'ae-a', address: a.url }, { name: 'ae-b', address: b.url }] }],
      load_balancers: [{ id: 'ae-lb', hostname: 'analytics.test', default_pools: ['ae'] }],
    });
    const points: AnalyticsEngineDataPoint[] = [];
    const bound = { ...(env as Env), ANALYTICS: { writeDataPoint: (p?: AnalyticsEngineDataPoint) => void points.push(p!) } } as Env;

    expect((await send(bound, '/', { 'x-lb-sim-colo': 'NRT', 'x-lb-sim-country': 'JP' })).status).toBe(200);
    expect((await send(bound, '/missing', { 'x-lb-sim-colo': 'NRT', 'x-lb-sim-country': 'JP' })).status).toBe(404);
    expect(points).toHaveLength(2);
    expect(points[0]).toMatchObject({ indexes: ['ae-lb'], blobs: ['analytics.test', 'ae-lb', 'ae', 'ae-a', 'NRT', 'JP', 'GET', '2xx'], doubles: [200, expect.any(Number), 1, 1] });
    expect(points[1]).toMatchObject({ blobs: ['analytics.test', 'ae-lb', 'ae', 'ae-b', 'NRT', 'JP', 'GET', '4xx'], doubles: [404, expect.any(Number), 1, 1] });

    // Without the binding the same requests are served and nothing is written.
    expect((await send(env as Env, '/')).status).toBe(200);
    expect(points).toHaveLength(2);

    // A dataset that throws (over a limit, say) costs the request nothing.
    const failing = { ...(env as Env), ANALYTICS: { writeDataPoint: () => { throw new Error('over the limit'); } } } as Env;
    expect((await send(failing, '/')).status).toBe(200);

    // A sample rate writes that share, each point weighted.
    const sampled = { ...(env as Env), ANALYTICS_SAMPLE_RATE: '0.5', ANALYTICS: bound.ANALYTICS } as Env;
    for (let i = 0; i < 40; i++) expect((await send(sampled, '/')).status).toBe(200);
    const written = points.slice(2);
    expect(written.length).toBeGreaterThan(5);
    expect(written.length).toBeLessThan(35);
    expect(written.every((p) => p.doubles![3] === 2)).toBe(true);
  });
});
