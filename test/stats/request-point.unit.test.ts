import { describe, expect, it } from 'vitest';
import { settings, type Env } from '../../src/env';
import { REQUEST_BLOBS, REQUEST_DOUBLES, requestPoint, type ServedRequest } from '../../src/stats/request-point';

const served: ServedRequest = {
  loadBalancer: 'main',
  host: 'app.example.com',
  method: 'GET',
  pool: 'eu',
  origin: 'eu-1',
  pop: 'FRA',
  country: 'DE',
  status: 503,
  attempts: 2,
  ms: 41,
};

describe('the per-request Analytics Engine data point', () => {
  it('indexes by load balancer and keeps host, pool, origin, PoP, country, method, status class, status, time and attempts', () => {
    expect(requestPoint(served, 1, 0.99)).toEqual({
      indexes: ['main'],
      blobs: ['app.example.com', 'main', 'eu', 'eu-1', 'FRA', 'DE', 'GET', '5xx'],
      doubles: [503, 41, 2, 1],
    });
    expect(REQUEST_BLOBS).toHaveLength(8);
    expect(REQUEST_DOUBLES).toHaveLength(4);
  });

  it('writes empty blobs for what a request did not have (no origin answered, no country)', () => {
    const point = requestPoint({ ...served, pool: undefined, origin: undefined, country: undefined, pop: undefined }, 1, 0);
    expect(point!.blobs!.slice(2, 6)).toEqual(['', '', '', '']);
  });

  it('writes a share of requests when sampled, each carrying the weight that restores the count', () => {
    const rate = 0.25;
    const draws = Array.from({ length: 1000 }, (_, i) => i / 1000);
    const points = draws.map((d) => requestPoint(served, rate, d)).filter((p) => p !== undefined);
    expect(points).toHaveLength(250);
    expect(points.reduce((sum, p) => sum + p.doubles![3]!, 0)).toBe(1000);
  });

  it('takes ANALYTICS_SAMPLE_RATE between 0 (left out) and 1, else 1', () => {
    const rate = (value: string | undefined) => settings({ ANALYTICS_SAMPLE_RATE: value } as unknown as Env).analyticsSampleRate;
    expect(rate(undefined)).toBe(1);
    expect(rate('0.1')).toBe(0.1);
    expect(rate(' 1 ')).toBe(1);
    for (const bad of ['0', '-0.5', '2', 'half', '']) expect(rate(bad)).toBe(1);
  });
});
