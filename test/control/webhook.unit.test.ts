import { describe, expect, it, vi } from 'vitest';
import { postHealthNotice, type HealthNotice } from '../../src/control/webhook';

const notice: HealthNotice = {
  event: 'health_transition',
  balancer: 'switchyard',
  pool: 'eu',
  origin: 'e1',
  from: 'healthy',
  to: 'unhealthy',
  reason: 'timeout after 2000 ms (3 consecutive failed checks)',
  at: '2026-11-22T00:00:00.000Z',
  rtt_ms: null,
};

describe('postHealthNotice', () => {
  it('POSTs the transition as JSON once when the receiver accepts it', async () => {
    const fetcher = vi.fn(async () => new Response('ok'));
    expect(await postHealthNotice('https://hooks.example/x', notice, fetcher as typeof fetch)).toBe(true);
    expect(fetcher).toHaveBeenCalledTimes(1);
    const [url, init] = fetcher.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('https://hooks.example/x');
    expect(init.method).toBe('POST');
    expect(new Headers(init.headers).get('content-type')).toBe('application/json');
    expect(JSON.parse(init.body as string)).toEqual(notice);
  });

  it('retries once after a failure or an error status, then gives up without throwing', async () => {
    const flaky = vi.fn().mockRejectedValueOnce(new Error('connection reset')).mockResolvedValueOnce(new Response('ok'));
    expect(await postHealthNotice('https://hooks.example/x', notice, flaky as typeof fetch)).toBe(true);
    expect(flaky).toHaveBeenCalledTimes(2);

    const errorSpy = vi.spyOn(console, 'error').mockImplementation(() => {});
    const down = vi.fn(async () => new Response('no', { status: 503 }));
    expect(await postHealthNotice('https://hooks.example/x', notice, down as typeof fetch)).toBe(false);
    expect(down).toHaveBeenCalledTimes(2);
    expect(errorSpy.mock.calls[0]?.[0]).toMatch(/failed twice.*eu\/e1 healthy -> unhealthy: status 503/);
    errorSpy.mockRestore();
  });
});
