import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, inject, it, vi } from 'vitest';
import { handleFetch } from '../../src/app';
import type { Env } from '../../src/env';
import { configure, lb, startOrigin, type TestOrigin } from '../support/worker';

// The proxy against real origin servers on 127.0.0.1, through the Worker in workerd.
// Each test uses its own pool ids: passive health and round-robin state are per
// isolate and would otherwise leak between tests.

function onePool(id: string, origins: TestOrigin[], lbExtra: Record<string, unknown> = {}, poolExtra: Record<string, unknown> = {}) {
  return configure({
    pools: [{ id, origins: origins.map((o, i) => ({ name: `backend${i + 1}`, address: o.url })), ...poolExtra }],
    load_balancers: [{ id: 'main', hostname: '*', default_pools: [id], ...lbExtra }],
  });
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  expect(res.headers.get('content-type')).toContain('application/json');
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

describe('round robin (seed 000, IPVS rr)', () => {
  it('alternates 10 requests between two origins', async () => {
    const [a, b] = await Promise.all([startOrigin('Backend Server 1'), startOrigin('Backend Server 2')]);
    await onePool('rr', [a, b]);
    const bodies: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await lb('/');
      expect(res.status).toBe(200);
      bodies.push((await res.text()).trim());
    }
    const one = '<h1>Response from Backend Server 1</h1>';
    const two = '<h1>Response from Backend Server 2</h1>';
    expect(bodies).toEqual([one, two, one, two, one, two, one, two, one, two]);
  });
});

describe('upstream request (SPEC §3)', () => {
  it('adds forwarding headers and request_headers, strips hop-by-hop and simulation headers', async () => {
    const a = await startOrigin('headers');
    await onePool('hdr', [a], { request_headers: { 'X-high-load-test': '123' } });
    const res = await lb('/some/path?q=1', {
      headers: {
        connection: 'keep-alive, x-private-hop',
        'x-private-hop': 'secret',
        'keep-alive': 'timeout=5',
        'proxy-authorization': 'Basic Zm9vOmJhcg==',
        te: 'trailers',
        'x-lb-sim-ip': '203.0.113.7',
        'x-lb-sim-country': 'DE',
        cookie: '__lb_affinity=abc; app=1',
        'x-forwarded-for': '198.51.100.1',
        'x-kept': 'yes',
      },
    });
    expect(res.status).toBe(200);
    const [seen] = await a.log();
    expect(seen.url).toBe('/some/path?q=1');
    const h = seen.headers;
    expect(h['x-high-load-test']).toBe('123');
    expect(h['x-forwarded-for']).toBe('198.51.100.1, 203.0.113.7');
    expect(h['forwarded']).toBe('for=203.0.113.7;proto=http;host=app.test');
    expect(h['via']).toBe('1.1 switchyard');
    expect(h['cdn-loop']).toBe('switchyard');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe('app.test');
    expect(h['x-lb-pop']).toMatch(/^[A-Z]{3}$/);
    expect(h['x-kept']).toBe('yes');
    expect(h['cookie']).toBe('app=1');
    for (const gone of ['x-private-hop', 'proxy-authorization', 'te', 'keep-alive', 'x-lb-sim-ip', 'x-lb-sim-country']) {
      expect(h, gone).not.toHaveProperty(gone);
    }
  });

  it('quotes and brackets an IPv6 client in Forwarded', async () => {
    const a = await startOrigin('v6');
    await onePool('v6', [a]);
    await lb('/', { headers: { 'x-lb-sim-ip': '2001:db8::1' } });
    const [seen] = await a.log();
    expect(seen.headers['forwarded']).toBe('for="[2001:db8::1]";proto=http;host=app.test');
  });

  it("sends the origin address's host by default", async () => {
    // A wanted Host travels in the URL, through cf.resolveOverride (upstreamRoute,
    // unit-tested; through the edge emulator in test/edge).
    const a = await startOrigin('host');
    await onePool('host', [a]);
    await lb('/', { host: 'www.example.com' });
    const [seen] = await a.log();
    expect(seen.headers['host']).toBe(new URL(a.url).host);
    expect(seen.headers['x-forwarded-host']).toBe('www.example.com');
  });

  it('exposes x-lb-* and server-timing on responses', async () => {
    const a = await startOrigin('exposed');
    await onePool('exp', [a]);
    const res = await lb('/', { headers: { 'x-lb-sim-colo': 'AMS' } });
    expect(res.headers.get('x-lb-pool')).toBe('exp');
    expect(res.headers.get('x-lb-origin')).toBe('backend1');
    expect(res.headers.get('x-lb-pop')).toBe('AMS');
    expect(res.headers.get('x-lb-attempts')).toBe('1');
    expect(res.headers.get('server-timing')).toMatch(/^lb;dur=\d+, origin;dur=\d+$/);

    await onePool('hidden', [a], { expose_headers: false });
    const hidden = await lb('/');
    expect(hidden.headers.get('x-lb-origin')).toBeNull();
    expect(hidden.headers.get('server-timing')).toBeNull();
    expect(hidden.status).toBe(200);
    expect((await hidden.text()).trim()).toBe('<h1>Response from exposed</h1>');

    // Hidden, but a new session still gets its affinity cookie; a pinned one gets none.
    await onePool('hidden-sticky', [a], { expose_headers: false, session_affinity: 'cookie' });
    const fresh = await lb('/');
    const cookie = fresh.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^__lb_affinity=main\.hidden-sticky\.backend1\.\d+\.[\w-]{43}; /);
    expect(fresh.headers.get('x-lb-origin')).toBeNull();
    const pinned = await lb('/', { headers: { cookie: cookie.split(';')[0] } });
    expect(pinned.status).toBe(200);
    expect(pinned.headers.get('set-cookie')).toBeNull();
  });

  it('streams request bodies to the origin and passes redirects through unfollowed', async () => {
    const a = await startOrigin('body');
    await onePool('body', [a]);
    const res = await lb('/upload', { method: 'POST', body: 'x'.repeat(200_000) });
    expect(res.status).toBe(200);
    const [seen] = await a.log();
    expect(seen.method).toBe('POST');
    expect(seen.body.length).toBe(200_000);

    await a.mode({ status: 302 });
    const redirect = await lb('/r');
    expect(redirect.status).toBe(302);
    await a.mode({ status: 200 });
  });
});

describe('retries (SPEC §2.10)', () => {
  it('retries a refused connection on another origin; the client sees 200', async () => {
    const [a, b] = await Promise.all([startOrigin('refusing'), startOrigin('healthy')]);
    await a.down();
    await onePool('retry', [a, b]);
    const res = await lb('/');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Response from healthy');
    expect(res.headers.get('x-lb-attempts')).toBe('2');
    expect(res.headers.get('x-lb-origin')).toBe('backend2');
  });

  it('retries a 503 from an origin, and an attempt that times out', async () => {
    const [a, b, c] = await Promise.all([startOrigin('503'), startOrigin('slow'), startOrigin('fine')]);
    await a.mode({ status: 503 });
    await b.mode({ delayMs: 3000 });
    await onePool('retry2', [a, b, c], { attempt_timeout_ms: 300 });
    const res = await lb('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-lb-attempts')).toBe('3');
    expect(await res.text()).toContain('Response from fine');
    await b.mode({ delayMs: 0 });
  });

  // Not through the edge emulator: as Miniflare's outbound service it is not told when
  // workerd cancels a subrequest, so it cannot close the origin's connection then.
  it.skipIf(inject('edge'))('aborts a retry it gives up at once; only the first attempt is left to end with the request', async () => {
    const [a, b, c] = await Promise.all([startOrigin('first slow'), startOrigin('second slow'), startOrigin('third')]);
    await Promise.all([a.mode({ delayMs: 2000 }), b.mode({ delayMs: 2000 }), c.mode({ delayMs: 200 })]);
    await onePool('giveup', [a, b, c], { attempt_timeout_ms: 300 });
    const res = await lb('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-lb-attempts')).toBe('3');
    expect(await res.text()).toContain('Response from third');
    const [[second], [third]] = await Promise.all([b.log(), c.log()]);
    // The second attempt's connection closed when it was given up, while the third
    // origin was still working on the request: not when the client's request ended.
    expect(second.closedEarlyAt).toBeDefined();
    expect(second.closedEarlyAt!).toBeLessThan(third.answeredAt!);
    expect(second.closedEarlyAt! - second.at).toBeLessThan(1000);
    await Promise.all([a.mode({ delayMs: 0 }), b.mode({ delayMs: 0 }), c.mode({ delayMs: 0 })]);
  });

  it('retries a POST only when nothing can have reached the origin, with its body', async () => {
    const [a, b] = await Promise.all([startOrigin('down'), startOrigin('up')]);
    await a.down();
    await onePool('post', [a, b]);
    const res = await lb('/form', { method: 'POST', body: 'a=1' });
    if (inject('edge')) {
      // The edge says 521: refused, nothing sent. The POST goes to B.
      expect(res.status).toBe(200);
      expect(res.headers.get('x-lb-origin')).toBe('backend2');
      expect((await b.log()).map((r) => `${r.method} ${r.body}`)).toEqual(['POST a=1']);
    } else {
      // workerd throws the same error for a refused connection and for a reset after
      // the request was sent: the POST may have arrived, so it is not sent again.
      expect(res.status).toBe(502);
      expect(await b.log()).toHaveLength(0);
    }

    // A 503 means the origin got the request: a POST is not sent again, and the
    // origin's own answer goes to the client.
    await a.up();
    await a.mode({ status: 503 });
    await b.clearLog();
    await onePool('post-503', [a, b]);
    const refused = await lb('/form', { method: 'POST', body: 'b=2' });
    expect(refused.status).toBe(503);
    expect(await refused.text()).toContain('Response from down');
    expect(await b.log()).toHaveLength(0);
    await a.mode({ status: 200 });
  });

  it('answers 502 upstream_error listing the attempts when every origin refuses', async () => {
    const [a, b] = await Promise.all([startOrigin('x'), startOrigin('y')]);
    await Promise.all([a.down(), b.down()]);
    await onePool('alldown', [a, b], { retries: 1 });
    const res = await lb('/');
    expect(res.status).toBe(502);
    const error = await errorOf(res);
    expect(error.code).toBe('upstream_error');
    expect(error.message).toMatch(/alldown\/backend1: .*; alldown\/backend2: /);
    expect(error.message).not.toContain(String(a.port));
  });

  it('times an attempt only until its response headers: a body that takes longer streams in full', async () => {
    const a = await startOrigin('trickle');
    await onePool('trickle', [a], { attempt_timeout_ms: 200 });
    const res = await lb('/trickle/700');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('first part\nlast part\n');
  });

  it('answers 504 upstream_timeout when every attempt times out', async () => {
    const a = await startOrigin('very slow');
    await a.mode({ delayMs: 2000 });
    await onePool('timeout', [a], { attempt_timeout_ms: 200 });
    const res = await lb('/');
    expect(res.status).toBe(504);
    expect((await errorOf(res)).code).toBe('upstream_timeout');
    await a.mode({ delayMs: 0 });
  });
});

describe('errors Switchyard produces', () => {
  it('508 when CDN-Loop already names this balancer', async () => {
    const a = await startOrigin('loop');
    await onePool('loop', [a]);
    const res = await lb('/', { headers: { 'cdn-loop': 'other-cdn, switchyard; v=1' } });
    expect(res.status).toBe(508);
    expect((await errorOf(res)).code).toBe('loop_detected');
    expect(await a.log()).toHaveLength(0);

    // The loop guard also covers Switchyard's own paths.
    const own = await lb('/__lb/healthz', { headers: { 'cdn-loop': 'switchyard' } });
    expect(own.status).toBe(508);
  });

  it('routes /__lb/* (also percent-encoded) to Switchyard and every other path to the origin', async () => {
    const a = await startOrigin('paths');
    await onePool('paths', [a]);
    expect(await (await lb('/__lb/healthz')).json()).toEqual({ ok: true });
    expect(await (await lb('/%5F%5Flb/healthz')).json()).toEqual({ ok: true });
    expect((await errorOf(await lb('/__lb/nothing-here'))).code).toBe('not_found');
    for (const path of ['/__lbx', '/app/__lb/healthz', '/%41pp?q=%20']) {
      const res = await lb(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-lb-origin')).toBe('backend1');
    }
    expect((await a.log()).map((r) => r.url)).toEqual(['/__lbx', '/app/__lb/healthz', '/%41pp?q=%20']);
  });

  it('503 no_healthy_origin with Retry-After when nothing can serve and there is no fallback', async () => {
    const a = await startOrigin('maintenance');
    await configure({
      pools: [{ id: 'maint', origins: [{ name: 'b1', address: a.url, enabled: false }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['maint'] }],
    });
    const res = await lb('/');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await errorOf(res)).code).toBe('no_healthy_origin');
    expect(await a.log()).toHaveLength(0);
  });

  it('500 internal_error, logged with the request, when something unexpected throws on the way to an origin', async () => {
    await configure({
      pools: [{ id: 'unexpected', origins: [{ name: 'vpc', address: 'http://10.0.0.9:8080', network: 'BROKEN_NET' }] }],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['unexpected'] }],
    });
    // A binding that throws when it is touched: neither an LbError nor an origin's failure.
    const broken = new Proxy({}, { get: () => { throw new Error('the binding exploded'); } });
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const ctx = createExecutionContext();
      const res = await handleFetch(new Request('http://app.test/orders?id=7'), { ...env, BROKEN_NET: broken } as unknown as Env, ctx);
      await waitOnExecutionContext(ctx);
      expect(res.status).toBe(500);
      expect((await errorOf(res)).code).toBe('internal_error');
      expect(errors.mock.calls.some(([line]) => line === 'unhandled error on GET /orders')).toBe(true);
    } finally {
      errors.mockRestore();
    }
  });

  it('uses the fallback pool whatever its health', async () => {
    const [a, b] = await Promise.all([startOrigin('primary'), startOrigin('fallback')]);
    await configure({
      pools: [
        { id: 'prim', enabled: false, origins: [{ name: 'p1', address: a.url }] },
        { id: 'fb', origins: [{ name: 'f1', address: b.url }] },
      ],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['prim'], fallback_pool: 'fb' }],
    });
    const res = await lb('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-lb-pool')).toBe('fb');
  });

  it('404 no_load_balancer for an unknown host, 503 when the load balancer is disabled', async () => {
    const a = await startOrigin('hosts');
    await configure({
      pools: [{ id: 'hosts', origins: [{ name: 'b1', address: a.url }] }],
      load_balancers: [
        { id: 'app', hostname: 'app.example.com', default_pools: ['hosts'] },
        { id: 'off', hostname: 'off.example.com', default_pools: ['hosts'], enabled: false },
      ],
    });
    expect((await lb('/', { host: 'app.example.com' })).status).toBe(200);
    const none = await lb('/', { host: 'other.example.org' });
    expect(none.status).toBe(404);
    expect((await errorOf(none)).code).toBe('no_load_balancer');
    const off = await lb('/', { host: 'off.example.com' });
    expect(off.status).toBe(503);
    expect((await errorOf(off)).code).toBe('load_balancer_disabled');
  });

  it('404 JSON for unknown paths under /__lb/', async () => {
    const res = await lb('/__lb/nope');
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe('not_found');
  });
});

describe('geo steering through the Worker', () => {
  it('sends a simulated Brazilian client to the South American pool and others by region', async () => {
    const [eu, us, sa] = await Promise.all([startOrigin('eu'), startOrigin('us'), startOrigin('sa')]);
    await configure({
      pools: [
        { id: 'geo-eu', origins: [{ name: 'eu1', address: eu.url }] },
        { id: 'geo-us', origins: [{ name: 'us1', address: us.url }] },
        { id: 'geo-sa', origins: [{ name: 'sa1', address: sa.url }] },
      ],
      load_balancers: [
        {
          id: 'main',
          hostname: '*',
          default_pools: ['geo-us', 'geo-eu', 'geo-sa'],
          country_pools: { BR: ['geo-sa'] },
          region_pools: { WEU: ['geo-eu'] },
        },
      ],
    });
    const br = await lb('/', { headers: { 'x-lb-sim-country': 'BR' } });
    expect(br.headers.get('x-lb-pool')).toBe('geo-sa');
    expect(br.headers.get('x-lb-pop')).toMatch(/^(GRU|GIG|[A-Z]{3})$/);
    const de = await lb('/', { headers: { 'x-lb-sim-lat': '50.1', 'x-lb-sim-lon': '8.7' } });
    expect(de.headers.get('x-lb-pop')).toBe('FRA');
    expect(de.headers.get('x-lb-pool')).toBe('geo-eu');
    const jp = await lb('/', { headers: { 'x-lb-sim-colo': 'NRT' } });
    expect(jp.headers.get('x-lb-pool')).toBe('geo-us');
  });
});
