import { describe, expect, it, vi } from 'vitest';
import { dashboardScript } from '../../src/admin/dashboard/script';
import { type FakeElement, runDashboard } from './fake-dom';

// The client script is a string the bundler never parses: check here that it is
// valid JavaScript, so a syntax slip fails fast even where Chromium is missing.

describe('the dashboard script', () => {
  it('parses as JavaScript', () => {
    expect(() => new Function(dashboardScript)).not.toThrow();
  });

  it('keeps the token in sessionStorage only and sends it as a bearer token', () => {
    expect(dashboardScript).toContain('sessionStorage');
    expect(dashboardScript).not.toMatch(/localStorage|document\.cookie/);
    expect(dashboardScript).toContain("'Bearer '");
  });
});

// The script run against the real page's elements in a small fake DOM (fake-dom.ts).
describe('the configuration warnings panel', () => {
  const CONFIG = {
    pools: [
      {
        id: 'eu',
        name: 'Europe',
        origins: [
          { name: 'eu1', address: 'http://eu1.example.net:8080', weight: 1 },
          { name: 'eu2', address: 'http://10.0.0.2:8080', weight: 1 },
        ],
      },
    ],
    load_balancers: [{ id: 'geo', hostname: '*', default_pools: ['eu'] }],
  };
  const IP = {
    path: 'pools.0.origins.1.address',
    code: 'ip_origin',
    message: '10.0.0.2 is an IP address: Cloudflare refuses a Worker\'s subrequest to an IP (error 1003)',
  };
  const HOST = { path: 'load_balancers.0.preserve_host', code: 'host_override', message: 'preserve_host sends any client Host to pool eu origin eu1' };

  function api(warnings: unknown) {
    return {
      '/config': { version: 4, config: CONFIG, ...(warnings === undefined ? {} : { warnings }) },
      '/health': { pools: [{ id: 'eu', healthy: true, healthy_origins: 2, minimum_origins: 1 }], origins: [] },
      '/stats': { origins: [{ pool: 'eu', origin: 'eu1', requests: 3, latency_ms: { p50: 1.2, p95: 3.4 } }] },
      '/pops': { pops: [{ colo: 'FRA', city: 'Frankfurt', country: 'DE', region: 'WEU', latitude: 50.03, longitude: 8.56, withdrawn: false, pool: 'eu' }] },
    };
  }

  /** The dashboard after its first refresh. */
  async function loaded(answers: Record<string, unknown>) {
    const dashboard = runDashboard(answers);
    await vi.waitFor(() => expect(dashboard.byId('app').hidden).toBe(false));
    return dashboard;
  }

  const lines = (list: FakeElement) => list.allByTestId('warning').map((li) => li.textContent);

  it('lists code, path and message of each warning of GET /config in a labelled panel', async () => {
    const answers = api([IP, HOST]);
    const dashboard = await loaded(answers);
    const panel = dashboard.byId('warnings');
    expect(panel.hidden).toBe(false);
    expect(panel.getAttribute('aria-labelledby')).toBe('warnings-title');
    expect(dashboard.byId('warnings-title').tagName).toBe('h2');
    expect(dashboard.byId('warnings-count').textContent).toBe('(2)');
    const list = dashboard.byId('warnings-list');
    expect(list.tagName).toBe('ul');
    expect(lines(list)).toEqual([`ip_origin ${IP.path}: ${IP.message}`, `host_override ${HOST.path}: ${HOST.message}`]);
    const [first] = list.allByTestId('warning');
    expect(first.tagName).toBe('li');
    expect(first.getAttribute('data-code')).toBe('ip_origin');
    expect(first.byTestId('warning-code').textContent).toBe('ip_origin');
    expect(first.byTestId('warning-path').tagName).toBe('code');
    expect(first.byTestId('warning-path').textContent).toBe(IP.path);
    expect(first.byTestId('warning-message').textContent).toBe(IP.message);
    // The rest of the page is drawn as before.
    expect(dashboard.byId('pools').allByTestId('origin-eu-eu2')).toHaveLength(1);
  });

  it('shows nothing when there are none, or when the API does not say (an older Worker)', async () => {
    for (const warnings of [[], undefined]) {
      const dashboard = await loaded(api(warnings));
      expect(dashboard.byId('warnings').hidden).toBe(true);
      expect(dashboard.byId('warnings-list').childNodes).toEqual([]);
    }
  });

  it('follows the configuration as it is polled, redrawing only on a change', async () => {
    const answers = api([IP]);
    const dashboard = await loaded(answers);
    const requests = () => dashboard.requests.filter((r) => r === 'GET /__lb/api/config').length;
    const [before] = dashboard.byId('warnings-list').allByTestId('warning');

    const poll = async () => {
      const seen = requests();
      dashboard.tick();
      await vi.waitFor(() => expect(requests()).toBe(seen + 1));
      await vi.waitFor(() => expect(dashboard.byId('version').textContent).toContain('version'));
      await new Promise((resolve) => setImmediate(resolve));
    };

    await poll();
    expect(dashboard.byId('warnings-list').allByTestId('warning')[0]).toBe(before);

    answers['/config'] = { version: 5, config: CONFIG, warnings: [] };
    await poll();
    await vi.waitFor(() => expect(dashboard.byId('warnings').hidden).toBe(true));
    expect(dashboard.byId('warnings-list').childNodes).toEqual([]);

    answers['/config'] = { version: 6, config: CONFIG, warnings: [HOST, { code: 'ip_origin', path: '', message: '<b>not markup</b>' }] };
    await poll();
    await vi.waitFor(() => expect(dashboard.byId('warnings').hidden).toBe(false));
    expect(lines(dashboard.byId('warnings-list'))).toEqual([`host_override ${HOST.path}: ${HOST.message}`, 'ip_origin (document): <b>not markup</b>']);
    expect(dashboard.byId('warnings-count').textContent).toBe('(2)');
  });

  it('writes text, never markup', () => {
    expect(dashboardScript).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });
});
