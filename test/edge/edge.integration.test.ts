import { env } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import { admin, configure, lb, startOrigin } from '../support/worker';

// SPEC §10 and issue "edge-true proxying": what Cloudflare's network does to a
// Worker's subrequests, and what no client or origin may do to the balancer. The file
// runs in both workerd projects; the tests that need the edge's rules (an IP-literal
// subrequest refused, 52x answers, cf.resolveOverride) run in the `edge` project,
// where every subrequest goes through the edge emulator.

const edge = inject('edge');
const bindings = env as unknown as { PRIVATE_NET: Fetcher };

/** The edge emulator's control host (only reachable through the emulator). */
async function emulator(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`http://edge-emulator.control${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`emulator ${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function served(path: string, init: RequestInit = {}): Promise<{ status: number; origin: string | null; attempts: string | null; body: string }> {
  const res = await lb(path, init);
  return { status: res.status, origin: res.headers.get('x-lb-origin'), attempts: res.headers.get('x-lb-attempts'), body: await res.text() };
}

/** Which origins the next `n` plain GETs are served by. */
async function nextOrigins(n: number): Promise<(string | null)[]> {
  const names = [];
  for (let i = 0; i < n; i++) names.push((await served('/')).origin);
  return names;
}

const pool = (id: string, origins: { name: string; address: string; [k: string]: unknown }[], extra: Record<string, unknown> = {}) => ({ id, origins, ...extra });
const loadBalancer = (pools: string[], extra: Record<string, unknown> = {}) => ({ id: 'main', hostname: '*', default_pools: pools, ...extra });

/** Bytes of every value, for checking that a body arrives byte-exact. */
function binaryBody(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 8)) & 0xff;
  return bytes;
}

async function healthCheck(): Promise<void> {
  const res = await admin('POST', '/health/check');
  expect(res.status).toBe(200);
  await res.arrayBuffer();
}

describe.runIf(edge)('the edge refuses what workerd forgives', () => {
  it('an IP-literal origin: the edge refuses it (1003), the request fails over, and the refusal never reaches a client', async () => {
    const [a, b] = await Promise.all([startOrigin('ip-literal'), startOrigin('by-name')]);
    await configure({
      pools: [pool('ipl', [{ name: 'ip', address: `http://127.0.0.1:${a.port}` }, { name: 'named', address: b.url }])],
      load_balancers: [loadBalancer(['ipl'], { passive_health: { max_fails: 0, fail_timeout: 10, max_ejection_percent: 50 } })],
    });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await served('/'));
    results.push(await served('/form', { method: 'POST', body: 'a=1' }));
    for (const r of results) {
      expect(r).toMatchObject({ status: 200, origin: 'named' });
      expect(r.body).toContain('Response from by-name');
    }
    // Round robin offers the IP-literal origin every other time: those took two attempts.
    expect(results.map((r) => r.attempts)).toContain('2');
    expect(await a.log()).toHaveLength(0);

    await configure({ pools: [pool('ipl-only', [{ name: 'ip', address: `http://127.0.0.1:${a.port}` }])], load_balancers: [loadBalancer(['ipl-only'])] });
    const alone = await served('/');
    expect(alone.status).toBe(502);
    expect(JSON.parse(alone.body).error.code).toBe('upstream_error');
    expect(alone.body).not.toContain('1003');
    expect(alone.body).not.toContain('127.0.0.1');
  });

  it('origin A refused (521), B up: 10 GETs and 10 POSTs answered by B, bodies byte-exact; A ejected, then readmitted by an active check', async () => {
    const [a, b] = await Promise.all([startOrigin('refused-a'), startOrigin('up-b')]);
    await a.down();
    await configure({
      monitors: [{ id: 'm521', interval: 3600, timeout: 2, consecutive_up: 1, consecutive_down: 5 }],
      pools: [pool('e521', [{ name: 'a', address: a.url }, { name: 'b', address: b.url }], { monitor: 'm521' })],
      load_balancers: [loadBalancer(['e521'], { passive_health: { max_fails: 3, fail_timeout: 60, max_ejection_percent: 50 } })],
    });
    const payload = binaryBody(70_000);
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await served(`/get/${i}`));
    for (let i = 0; i < 10; i++) results.push(await served(`/post/${i}`, { method: 'POST', body: payload }));
    expect(results.map((r) => `${r.status} ${r.origin}`)).toEqual(Array(20).fill('200 b'));
    const posts = (await b.log()).filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(10);
    for (const post of posts) expect(post.body).toBe(new TextDecoder('utf-8').decode(payload));
    // Three refusals ejected A: the last requests went straight to B.
    expect(results.slice(-5).map((r) => r.attempts)).toEqual(Array(5).fill('1'));

    await a.up();
    await healthCheck();
    const after = [];
    for (let i = 0; i < 4; i++) after.push((await served('/')).origin);
    expect(after).toContain('a');
  });

  it('a 522 (connect timeout) fails over the same way, POSTs included', async () => {
    const [a, b] = await Promise.all([startOrigin('blackholed'), startOrigin('reachable')]);
    await emulator('POST', '/blackhole', { port: a.port });
    try {
      await configure({ pools: [pool('e522', [{ name: 'a', address: a.url }, { name: 'b', address: b.url }])], load_balancers: [loadBalancer(['e522'])] });
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await served('/'));
      for (let i = 0; i < 3; i++) results.push(await served('/p', { method: 'POST', body: `n=${i}` }));
      expect(results.map((r) => `${r.status} ${r.origin}`)).toEqual(Array(6).fill('200 b'));
      expect((await b.log()).filter((r) => r.method === 'POST').map((r) => r.body)).toEqual(['n=0', 'n=1', 'n=2']);
      expect(await a.log()).toHaveLength(0);
    } finally {
      await emulator('DELETE', '/blackhole', { port: a.port });
    }
  });

  it('a 524 (origin timeout after connect) is retried for a GET and not for a POST', async () => {
    const [a, b] = await Promise.all([startOrigin('slow-524'), startOrigin('quick')]);
    await a.mode({ delayMs: 1500 });
    await emulator('POST', '/origin-timeout', { port: a.port, ms: 200 });
    try {
      await configure({
        pools: [pool('e524', [{ name: 'a', address: a.url }, { name: 'b', address: b.url }])],
        load_balancers: [loadBalancer(['e524'], { passive_health: { max_fails: 0, fail_timeout: 10, max_ejection_percent: 50 } })],
      });
      // Round robin: the first request of each pair goes to A.
      const get = await served('/');
      expect(get).toMatchObject({ status: 200, origin: 'b', attempts: '2' });
      await served('/');
      const post = await served('/p', { method: 'POST', body: 'once' });
      expect(post.status).toBe(504);
      expect(JSON.parse(post.body).error.code).toBe('upstream_timeout');
      expect(post.body).not.toContain(String(a.port));
      expect((await b.log()).filter((r) => r.method === 'POST')).toHaveLength(0);
    } finally {
      await emulator('DELETE', '/origin-timeout', { port: a.port });
      await a.mode({ delayMs: 0 });
    }
  });

  it("an edge answer retry_on leaves out is neither retried nor relayed: the client gets Switchyard's 502", async () => {
    const [a, b] = await Promise.all([startOrigin('refused-unlisted'), startOrigin('never-tried')]);
    await a.down();
    await configure({ pools: [pool('unlisted', [{ name: 'a', address: a.url }, { name: 'b', address: b.url }])], load_balancers: [loadBalancer(['unlisted'], { retry_on: ['timeout'] })] });
    const res = await served('/');
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body).error).toMatchObject({ code: 'upstream_error', message: expect.stringContaining('connection refused (521)') });
    expect(res.body).not.toContain('error code');
    expect(await b.log()).toHaveLength(0);
  });

  it('header.Host reaches the origin through cf.resolveOverride when both names are in the zone, and is not sent when not', async () => {
    const a = await startOrigin('vhost');
    await configure({
      pools: [
        pool('vh', [{ name: 'app', address: a.url, header: { Host: ['app.internal.localhost'] } }]),
        pool('vh-out', [{ name: 'outside', address: a.url, header: { Host: ['app.example.org'] } }]),
      ],
      load_balancers: [loadBalancer(['vh']), { id: 'out', hostname: 'out.test', default_pools: ['vh-out'] }],
    });
    expect((await served('/')).status).toBe(200);
    const [seen] = await a.log();
    expect(seen.headers.host).toBe(`app.internal.localhost:${a.port}`);

    // app.example.org is outside the Worker's zones: the override is not sent (the edge
    // would ignore it and look the name up); the origin gets its address's own host.
    await a.clearLog();
    const out = await lb('/', { host: 'out.test' });
    expect(out.status).toBe(200);
    expect(out.headers.get('x-lb-origin')).toBe('outside');
    expect((await a.log()).map((r) => r.headers.host)).toEqual([new URL(a.url).host]);

    // preserve_host: a client's Host is sent only inside the origin's zone, so a client
    // cannot choose where the request goes.
    await configure({ pools: [pool('ph', [{ name: 'o', address: a.url }])], load_balancers: [loadBalancer(['ph'], { preserve_host: true })] });
    await a.clearLog();
    expect((await lb('/', { host: 'shop.localhost' })).status).toBe(200);
    expect((await lb('/', { host: 'evil.example.org' })).status).toBe(200);
    expect((await a.log()).map((r) => r.headers.host)).toEqual([`shop.localhost:${a.port}`, new URL(a.url).host]);
  });
});

describe('what no client or origin may do to the balancer', () => {
  it("an origin's Set-Cookie for the affinity cookie never reaches the client; its other cookies do", async () => {
    const a = await startOrigin('cookie-setter');
    await a.mode({ headers: { 'set-cookie': ['__lb_affinity=evil; Path=/', 'app=1; Path=/'] } });
    await configure({ pools: [pool('ck', [{ name: 'a', address: a.url }])], load_balancers: [loadBalancer(['ck'], { session_affinity: 'cookie' })] });
    const res = await lb('/');
    expect(res.status).toBe(200);
    const cookies = res.headers.getSetCookie();
    expect(cookies).toContain('app=1; Path=/');
    expect(cookies.some((c) => c.includes('evil'))).toBe(false);
    // The balancer's own pin is still set, and signed.
    expect(cookies.find((c) => c.startsWith('__lb_affinity='))).toMatch(/^__lb_affinity=main\.ck\.a\.\d+\.[\w-]{43};/);

    // Without affinity the origin's attempt is dropped all the same, with a space before
    // the "=" too (browsers trim the name); nor may it pose as the balancer's x-lb-* fields.
    await a.mode({ headers: { 'set-cookie': ['__lb_affinity =evil; Path=/', 'app=1; Path=/'], 'x-lb-origin': 'spoofed', 'x-lb-pool': 'spoofed' } });
    await configure({ pools: [pool('ck2', [{ name: 'a', address: a.url }])], load_balancers: [loadBalancer(['ck2'], { expose_headers: false })] });
    const plain = await lb('/');
    expect(plain.headers.getSetCookie()).toEqual(['app=1; Path=/']);
    expect(plain.headers.get('x-lb-origin')).toBeNull();
    expect(plain.headers.get('x-lb-pool')).toBeNull();
  });

  it('a 502 sent to a client names no origin address and no runtime error text', async () => {
    const [a, b] = await Promise.all([startOrigin('gone-1'), startOrigin('gone-2')]);
    await Promise.all([a.down(), b.down()]);
    await configure({ pools: [pool('gone', [{ name: 'g1', address: a.url }, { name: 'g2', address: b.url }])], load_balancers: [loadBalancer(['gone'])] });
    const res = await served('/');
    expect(res.status).toBe(502);
    const error = JSON.parse(res.body).error;
    expect(error.code).toBe('upstream_error');
    expect(error.message).toMatch(/gone\/g1: connection (failed|refused)/);
    for (const leak of [String(a.port), String(b.port), '127.0.0.1', 'localhost', 'Network connection', 'error code']) expect(res.body).not.toContain(leak);

    // With expose_headers off the message names no pool or origin either.
    await configure({ pools: [pool('gone-quiet', [{ name: 'g1', address: a.url }])], load_balancers: [loadBalancer(['gone-quiet'], { expose_headers: false })] });
    const quiet = await served('/');
    expect(quiet.status).toBe(502);
    expect(quiet.body).not.toContain('gone-quiet');
    expect(quiet.body).not.toContain('g1');
  });

  it('an origin stalling after its headers (a streamed body): the response ends within read_timeout_ms + 1 s and the origin is charged', async () => {
    const [a, b] = await Promise.all([startOrigin('staller'), startOrigin('steady')]);
    await configure({
      pools: [pool('stall-stream', [{ name: 'a', address: a.url }, { name: 'b', address: b.url }])],
      load_balancers: [loadBalancer(['stall-stream'], { read_timeout_ms: 400, passive_health: { max_fails: 1, fail_timeout: 60, max_ejection_percent: 50 } })],
    });
    const started = Date.now();
    const res = await lb('/trickle/8000');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-lb-origin')).toBe('a');
    let text = '';
    await expect(
      (async () => {
        const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          text += value;
        }
      })(),
    ).rejects.toThrow();
    const elapsed = Date.now() - started;
    expect(text).toBe('first part\n');
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(1400);
    // Charged with max_fails 1: A is out, B takes everything.
    expect(await nextOrigins(4)).toEqual(['b', 'b', 'b', 'b']);
  });

  it('an origin stalling inside a small body of announced length: nothing went out yet, so the client gets a 504 within read_timeout_ms + 1 s; the origin is charged', async () => {
    const [a, b] = await Promise.all([startOrigin('fixed-staller'), startOrigin('fixed-steady')]);
    await configure({
      pools: [pool('stall-fixed', [{ name: 'a', address: a.url }, { name: 'b', address: b.url }])],
      load_balancers: [loadBalancer(['stall-fixed'], { retries: 0, read_timeout_ms: 400, passive_health: { max_fails: 1, fail_timeout: 60, max_ejection_percent: 50 } })],
    });
    const started = Date.now();
    const res = await served('/trickle/8000?length');
    const elapsed = Date.now() - started;
    expect(res.status).toBe(504);
    expect(JSON.parse(res.body).error.code).toBe('upstream_timeout');
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(1400);
    expect(await nextOrigins(4)).toEqual(['b', 'b', 'b', 'b']);
  });

  it('a body never silent for read_timeout_ms streams in full (a small one of announced length: within read_timeout_ms in all), and its origin stays in', async () => {
    const [a, b] = await Promise.all([startOrigin('slow-but-steady'), startOrigin('other')]);
    await configure({
      pools: [pool('steady', [{ name: 'a', address: a.url }, { name: 'b', address: b.url }])],
      load_balancers: [loadBalancer(['steady'], { read_timeout_ms: 1000, passive_health: { max_fails: 1, fail_timeout: 60, max_ejection_percent: 50 } })],
    });
    expect(await (await lb('/trickle/600')).text()).toBe('first part\nlast part\n');
    expect(await (await lb('/trickle/600?length')).text()).toBe('first part\nlast part\n');
    // read_timeout_ms 0: no read timeout, the body passes through untouched.
    await configure({ pools: [pool('steady-off', [{ name: 'a', address: a.url }])], load_balancers: [loadBalancer(['steady-off'], { read_timeout_ms: 0 })] });
    expect(await (await lb('/trickle/300?length')).text()).toBe('first part\nlast part\n');
    await configure({
      pools: [pool('steady', [{ name: 'a', address: a.url }, { name: 'b', address: b.url }])],
      load_balancers: [loadBalancer(['steady'], { read_timeout_ms: 1000, passive_health: { max_fails: 1, fail_timeout: 60, max_ejection_percent: 50 } })],
    });
    // Nothing was charged: round robin still reaches A.
    expect(await nextOrigins(4)).toContain('a');
  });

  it('a compressed body passes through whole (its Content-Length does not bound what it decodes to, so it is streamed, not buffered)', async () => {
    const a = await startOrigin('gzipper');
    await configure({ pools: [pool('gz', [{ name: 'a', address: a.url }])], load_balancers: [loadBalancer(['gz'])] });
    const res = await lb('/gzip/300000');
    expect(res.status).toBe(200);
    expect((await res.text()).length).toBe(300_000);
  });

  it("a client's slow upload is not charged to the origin when the attempt times out", async () => {
    const a = await startOrigin('patient');
    await configure({
      pools: [pool('upload', [{ name: 'a', address: a.url }])],
      load_balancers: [loadBalancer(['upload'], { attempt_timeout_ms: 300, passive_health: { max_fails: 1, fail_timeout: 60, max_ejection_percent: 100 } })],
    });
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode('first'));
        await scheduler.wait(1000);
        controller.enqueue(new TextEncoder().encode(' rest'));
        controller.close();
      },
    });
    const slow = await lb('/upload', { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(slow.status).toBe(504);
    await slow.arrayBuffer();
    // Charged, the only origin would be ejected (max_fails 1) and this would be a 503.
    expect((await served('/after')).status).toBe(200);
  });

  it('a pool pointed back at the balancer costs one origin attempt per client attempt, and ends there', async () => {
    // LOOP is a service binding to this very Worker: the origin "is" the balancer.
    await configure({
      pools: [pool('self', [{ name: 'me', address: 'http://app.test', network: 'LOOP' }, { name: 'me-too', address: 'http://app.test', network: 'LOOP' }])],
      load_balancers: [loadBalancer(['self'], { retries: 3 })],
    });
    const started = Date.now();
    const res = await lb('/');
    // The second pass sees CDN-Loop and answers 508 at once; a 508 is not retried.
    expect(res.status).toBe(508);
    expect(res.headers.get('x-lb-attempts')).toBe('1');
    expect(JSON.parse(await res.text()).error.code).toBe('loop_detected');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('origins behind a Workers VPC binding (network)', () => {
  it('are reached through the binding, IP literals included, and so are their probes', async () => {
    const [a, b] = await Promise.all([startOrigin('private'), startOrigin('private-ip')]);
    await bindings.PRIVATE_NET.fetch('http://tunnel.control/log', { method: 'DELETE' });
    await configure({
      monitors: [{ id: 'vpc-mon', interval: 3600, path: '/healthz' }],
      pools: [
        // A VPC service: the address's host is the Host (the binding picks the target).
        pool('vpc', [{ name: 'p1', address: `http://app.corp:${a.port}`, network: 'PRIVATE_NET' }], { monitor: 'vpc-mon' }),
        // A VPC network: an IP address behind the tunnel, which the edge would refuse (1003) without it.
        pool('vpc-ip', [{ name: 'p2', address: `http://127.0.0.1:${b.port}`, network: 'PRIVATE_NET' }]),
      ],
      load_balancers: [loadBalancer(['vpc']), { id: 'ip', hostname: 'ip.test', default_pools: ['vpc-ip'] }],
    });
    expect(await served('/inside')).toMatchObject({ status: 200, origin: 'p1' });
    const viaIp = await lb('/ip', { host: 'ip.test' });
    expect(viaIp.status).toBe(200);
    expect(viaIp.headers.get('x-lb-origin')).toBe('p2');
    await healthCheck();
    const through = (await (await bindings.PRIVATE_NET.fetch(`http://tunnel.control/log?port=${a.port}`)).json()) as { url: string }[];
    expect(through.map((e) => e.url)).toEqual([`http://app.corp:${a.port}/inside`, `http://app.corp:${a.port}/healthz`]);
    expect((await a.log()).map((r) => `${r.url} ${r.headers.host}`)).toEqual([`/inside app.corp:${a.port}`, `/healthz app.corp:${a.port}`]);
    expect((await b.log()).map((r) => r.url)).toEqual(['/ip']);
  });

  it('an origin naming a binding the Worker lacks is never sent to the internet nor charged: its turns get a 502', async () => {
    const [a, b] = await Promise.all([startOrigin('no-binding'), startOrigin('public')]);
    await configure({
      pools: [pool('nob', [{ name: 'x', address: a.url, network: 'NO_SUCH_BINDING' }, { name: 'y', address: b.url }])],
      load_balancers: [loadBalancer(['nob'], { passive_health: { max_fails: 1, fail_timeout: 60, max_ejection_percent: 50 } })],
    });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await served('/'));
    // Round robin: x's turns fail at once (a balancer-side error: not retried, not charged, so x keeps its turns).
    expect(results.map((r) => r.status)).toEqual([502, 200, 502, 200]);
    expect(JSON.parse(results[0].body).error.message).toContain('could not be sent');
    expect(await a.log()).toHaveLength(0);
  });
});
