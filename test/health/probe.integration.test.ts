import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';

import { MonitorSchema, OriginSchema, type Monitor, type Origin } from '../../src/config/schema';
import { BODY_SCAN_BYTES, mapBounded, MONITOR_USER_AGENT, probe, probeHeaders, probeRoute } from '../../src/health/probe';
import { startOrigin } from '../support/worker';

// One probe against real origin servers on 127.0.0.1 (the fleet), from inside workerd.

function monitor(fields: Partial<Monitor> = {}): Monitor {
  return MonitorSchema.parse({ id: 'm', ...fields });
}

function originAt(address: string, header: Record<string, string[]> = {}): Origin {
  return OriginSchema.parse({ name: 'o', address, header });
}

/** An origin that answers with exactly `body` (the fleet's Origin takes a body option). */
async function startOriginWithBody(name: string, body: string): Promise<{ url: string }> {
  const res = await fetch(`${inject('fleetUrl')}/origins`, { method: 'POST', body: JSON.stringify({ name, body }) });
  if (!res.ok) throw new Error(`fleet POST /origins: ${await res.text()}`);
  return (await res.json()) as { url: string };
}

describe('http probe', () => {
  it('passes on a 200 with a round-trip time and no reason', async () => {
    const a = await startOrigin('ok');
    // A few ms of origin latency, so the round trip is measurable at workerd's 1 ms clock.
    await a.mode({ delayMs: 5 });
    const outcome = await probe(monitor(), originAt(a.url));
    expect(outcome).toMatchObject({ ok: true, reason: '', status: 200, attempts: 1 });
    expect(outcome.rtt_ms).toBeGreaterThanOrEqual(5);
    expect(outcome.rtt_ms).toBeLessThan(1000);
  });

  it('fails on a status outside expected_codes and says which', async () => {
    const a = await startOrigin('sick');
    await a.mode({ status: 503 });
    const outcome = await probe(monitor(), originAt(a.url));
    expect(outcome).toMatchObject({ ok: false, status: 503, reason: 'status 503 not in 2xx' });
    expect(await probe(monitor({ expected_codes: '200,503' }), originAt(a.url))).toMatchObject({ ok: true, status: 503 });
  });

  it('judges a 3xx by expected_codes instead of following it', async () => {
    const a = await startOrigin('moved');
    await a.mode({ status: 302 });
    expect(await probe(monitor(), originAt(a.url))).toMatchObject({ ok: false, status: 302, reason: 'status 302 not in 2xx' });
    expect(await probe(monitor({ expected_codes: '2xx,3xx' }), originAt(a.url))).toMatchObject({ ok: true, status: 302 });
  });

  it('matches expected_body case-insensitively', async () => {
    const a = await startOrigin('Body Check');
    expect(await probe(monitor({ expected_body: 'RESPONSE FROM' }), originAt(a.url))).toMatchObject({ ok: true, reason: '' });
    const miss = await probe(monitor({ expected_body: 'nope' }), originAt(a.url));
    expect(miss).toMatchObject({ ok: false, status: 200, reason: 'body does not contain "nope"' });
  });

  it(`scans only the first ${BODY_SCAN_BYTES} bytes of the body`, async () => {
    const early = await startOriginWithBody('early', `${'x'.repeat(BODY_SCAN_BYTES - 10)}needle${'y'.repeat(50_000)}`);
    const late = await startOriginWithBody('late', `${'x'.repeat(BODY_SCAN_BYTES)}needle`);
    expect(await probe(monitor({ expected_body: 'Needle' }), originAt(early.url))).toMatchObject({ ok: true });
    expect(await probe(monitor({ expected_body: 'needle' }), originAt(late.url))).toMatchObject({ ok: false, reason: 'body does not contain "needle"' });
  });

  it('skips the body check for HEAD', async () => {
    const a = await startOrigin('head');
    const outcome = await probe(monitor({ method: 'HEAD', expected_body: 'nope' }), originAt(a.url));
    expect(outcome).toMatchObject({ ok: true, status: 200 });
    expect((await a.log()).map((r) => r.method)).toEqual(['HEAD']);
  });

  it('gives up at the timeout, well before a slow origin answers', async () => {
    const a = await startOrigin('slow');
    await a.mode({ delayMs: 2500 });
    const started = Date.now();
    const outcome = await probe(monitor({ timeout: 1 }), originAt(a.url));
    const elapsed = Date.now() - started;
    expect(outcome).toMatchObject({ ok: false, reason: 'timeout after 1000 ms', attempts: 1 });
    expect(outcome.status).toBeUndefined();
    expect(elapsed).toBeLessThan(2400);
    await a.mode({ delayMs: 0 });
  });

  it('sends the monitor method, path, headers and User-Agent', async () => {
    const a = await startOrigin('headers');
    const m = monitor({ method: 'GET', path: '/health?deep=1', header: { 'X-Check': ['one', 'two'], 'X-Empty': [] } });
    expect(await probe(m, originAt(a.url))).toMatchObject({ ok: true });
    const [seen] = await a.log();
    expect(seen.method).toBe('GET');
    expect(seen.url).toBe('/health?deep=1');
    expect(seen.headers['x-check']).toBe('one, two');
    expect(seen.headers['x-empty']).toBeUndefined();
    expect(seen.headers['user-agent']).toBe(MONITOR_USER_AGENT);

    await a.clearLog();
    await probe(monitor({ header: { 'user-agent': ['custom-checker/1'] } }), originAt(a.url));
    expect((await a.log())[0].headers['user-agent']).toBe('custom-checker/1');
  });

  it("puts the origin's Host over the monitor's (the runtime may still send the URL's host)", () => {
    const m = monitor({ header: { Host: ['monitor.example'] } });
    expect(probeHeaders(m, originAt('127.0.0.1:1')).get('host')).toBe('monitor.example');
    expect(probeHeaders(m, originAt('127.0.0.1:1', { host: ['origin.example'] })).get('host')).toBe('origin.example');
    expect(probeHeaders(monitor(), originAt('127.0.0.1:1')).get('host')).toBeNull();
  });

  it('sends a Host override the way the proxy does: in the URL, resolved to the address, inside the zones (SPEC §10)', () => {
    const m = monitor({ path: '/health', header: { Host: ['monitor.example.net'] } });
    const address = new URL('http://origin.example.net:8080/app');
    const zones = ['example.net'];
    expect(probeRoute(m, originAt(address.href), address, zones)).toEqual({ url: 'http://monitor.example.net:8080/app/health', resolveOverride: 'origin.example.net' });
    expect(probeRoute(m, originAt(address.href, { host: ['own.example.net'] }), address, zones).url).toBe('http://own.example.net:8080/app/health');
    expect(probeRoute(monitor({ path: '/h' }), originAt(address.href), address, zones)).toEqual({ url: 'http://origin.example.net:8080/app/h', resolveOverride: undefined });
    // Without LB_ZONES, or behind a VPC binding, the address is the URL.
    expect(probeRoute(m, originAt(address.href), address, undefined)).toEqual({ url: 'http://origin.example.net:8080/app/health', resolveOverride: undefined });
    expect(probeRoute(m, { ...originAt(address.href), network: 'VPC' }, address, zones)).toEqual({ url: 'http://origin.example.net:8080/app/health', resolveOverride: undefined });
  });

  it('keeps the path prefix of the address, and takes bare host:port', async () => {
    const a = await startOrigin('prefix');
    const m = monitor({ path: '/health' });
    expect(await probe(m, originAt(`${a.url}/app`))).toMatchObject({ ok: true });
    expect(await probe(m, originAt(`${a.url}/app/`))).toMatchObject({ ok: true });
    expect(await probe(m, originAt(new URL(a.url).host))).toMatchObject({ ok: true });
    expect((await a.log()).map((r) => r.url)).toEqual(['/app/health', '/app/health', '/health']);
  });

  it('uses the scheme of the monitor type, whatever the address says', async () => {
    const a = await startOrigin('plain');
    // An https monitor speaks TLS to this plain-HTTP origin, which cannot answer it.
    const tls = await probe(monitor({ type: 'https', timeout: 2 }), originAt(a.url));
    expect(tls).toMatchObject({ ok: false, attempts: 1 });
    expect(tls.status).toBeUndefined();
    // workerd fails the handshake itself; on the edge (and through the emulator) the answer is a 525.
    expect(tls.reason).toMatch(/^(request failed: .+|TLS handshake failed \(525\))$/);
    // An http monitor speaks plain HTTP even to an https:// address.
    expect(await probe(monitor({ type: 'http' }), originAt(`https://${new URL(a.url).host}`))).toMatchObject({ ok: true });
  });
});

describe('retries', () => {
  it('re-tries a refused connection immediately, retries + 1 attempts in all', async () => {
    const a = await startOrigin('down');
    await a.down();
    const outcome = await probe(monitor({ retries: 2 }), originAt(a.url));
    expect(outcome).toMatchObject({ ok: false, attempts: 3 });
    expect(outcome.status).toBeUndefined();
    // workerd says "Network connection lost." for a refused fetch; other runtimes say
    // "refused", and the edge answers 521.
    expect(outcome.reason).toMatch(/^(connection refused( \(521\))?|request failed: .+)$/);
  });

  it('stops at the first success and reports the last attempt', async () => {
    const a = await startOrigin('flaky');
    expect(await probe(monitor({ retries: 3 }), originAt(a.url))).toMatchObject({ ok: true, attempts: 1 });
    await a.mode({ status: 500 });
    await a.clearLog();
    expect(await probe(monitor({ retries: 1 }), originAt(a.url))).toMatchObject({ ok: false, status: 500, attempts: 2 });
    expect(await a.log()).toHaveLength(2);
  });
});

describe('tcp probe', () => {
  it('passes when the port accepts a connection and fails when it is closed', async () => {
    const a = await startOrigin('tcp');
    // A socket (cloudflare:sockets) is not a fetch: the edge's fetch rules (and the
    // emulator, which sees only fetches) do not apply, so the address is the loopback IP.
    const live = await probe(monitor({ type: 'tcp' }), originAt(`127.0.0.1:${a.port}`));
    expect(live).toMatchObject({ ok: true, reason: '', attempts: 1 });
    expect(live.status).toBeUndefined();
    expect(await a.log()).toHaveLength(0);

    await a.down();
    const dead = await probe(monitor({ type: 'tcp', timeout: 2 }), originAt(`127.0.0.1:${a.port}`));
    expect(dead.ok).toBe(false);
    expect(dead.reason).toMatch(/^(connection refused|connect failed: .+)$/);
  });
});

describe('mapBounded', () => {
  it('never runs more than limit at once and keeps input order', async () => {
    let running = 0;
    let peak = 0;
    const items = Array.from({ length: 20 }, (_, i) => i);
    const results = await mapBounded(
      items,
      6,
      async (item, index) => {
        running++;
        peak = Math.max(peak, running);
        // Finish out of order: later items resolve sooner.
        for (let spin = 0; spin < 20 - item; spin++) await Promise.resolve();
        running--;
        return `${item}@${index}`;
      },
      () => 'error',
    );
    expect(peak).toBe(6);
    expect(results).toEqual(items.map((i) => `${i}@${i}`));
  });

  it('turns a throwing fn into onError results', async () => {
    const results = await mapBounded(
      [1, 2, 3, 4],
      2,
      async (item) => {
        if (item % 2 === 0) throw new Error(`boom ${item}`);
        return item * 10;
      },
      (error, item) => -item + (error instanceof Error && error.message === `boom ${item}` ? 0 : 1000),
    );
    expect(results).toEqual([10, -2, 30, -4]);
  });

  it('handles an empty list and a limit below 1', async () => {
    expect(await mapBounded([], 6, async () => 1, () => 0)).toEqual([]);
    expect(await mapBounded([1, 2], 0, async (x) => x, () => 0)).toEqual([1, 2]);
  });

  it('runs real probes six at a time', async () => {
    const origins = await Promise.all(Array.from({ length: 8 }, (_, i) => startOrigin(`fan-${i}`)));
    const outcomes = await mapBounded(origins, 6, (o) => probe(monitor(), originAt(o.url)), (error) => ({ ok: false, reason: String(error) }));
    expect(outcomes.map((o) => o.ok)).toEqual(Array(8).fill(true));
  });
});
