import { describe, expect, it } from 'vitest';
import { configure, lb, startOrigin } from '../support/worker';

describe('smoke', () => {
  it('proxies to a loopback origin', async () => {
    const a = await startOrigin('Backend Server 1');
    await configure({
      pools: [{ id: 'p', origins: [{ name: 'a', address: a.url }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['p'] }],
    });
    const res = await lb('/');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Response from Backend Server 1');
  });
});
