import { describe, expect, it } from 'vitest';
import { configure, lb, startOrigin } from '../support/worker';

function cookieOf(res: Response): string | undefined {
  const header = res.headers.get('set-cookie');
  return header === null ? undefined : /__lb_affinity=([^;]+)/.exec(header)?.[1];
}

describe('cookie affinity (seed 003, HAProxy SERVERID)', () => {
  it('sets a signed cookie and keeps the session on its origin while round robin goes on', async () => {
    const [a, b] = await Promise.all([startOrigin('s1'), startOrigin('s2')]);
    await configure({
      pools: [{ id: 'sticky', origins: [{ name: 's1', address: a.url }, { name: 's2', address: b.url }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['sticky'], session_affinity: 'cookie', session_affinity_ttl: 600 }],
    });

    const first = await lb('/');
    const header = first.headers.get('set-cookie') ?? '';
    expect(header).toMatch(/^__lb_affinity=[^;]+; Max-Age=600; Path=\/; HttpOnly; SameSite=Lax$/);
    const token = cookieOf(first)!;
    const pinned = first.headers.get('x-lb-origin');

    for (let i = 0; i < 6; i++) {
      const res = await lb('/', { headers: { cookie: `__lb_affinity=${token}` } });
      expect(res.headers.get('x-lb-origin')).toBe(pinned);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    // Without the cookie, round robin continues to the other origin.
    const fresh = await lb('/');
    expect(fresh.headers.get('x-lb-origin')).not.toBe(pinned);
    // The origin never sees the balancer's cookie.
    const seen = [...(await a.log()), ...(await b.log())];
    expect(seen.every((r) => !String(r.headers['cookie'] ?? '').includes('__lb_affinity'))).toBe(true);
  });

  it('ignores a tampered token and pins anew', async () => {
    const [a, b] = await Promise.all([startOrigin('t1'), startOrigin('t2')]);
    await configure({
      pools: [{ id: 'tamper', origins: [{ name: 't1', address: a.url }, { name: 't2', address: b.url }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['tamper'], session_affinity: 'cookie' }],
    });
    const token = cookieOf(await lb('/'))!; // pinned to t1 (first round-robin pick)
    const forged = token.replace('.t1.', '.t2.');
    expect(forged).not.toBe(token);
    const res = await lb('/', { headers: { cookie: `__lb_affinity=${forged}` } });
    expect(cookieOf(res)).toBeDefined();
    expect(cookieOf(res)).not.toBe(forged);
  });

  it('marks the cookie Secure on https requests when secure is Auto', async () => {
    const a = await startOrigin('secure');
    await configure({
      pools: [{ id: 'secure', origins: [{ name: 'x', address: a.url }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['secure'], session_affinity: 'cookie' }],
    });
    const res = await lb('https://app.test/');
    expect(res.headers.get('set-cookie')).toMatch(/; Secure/);
  });
});
