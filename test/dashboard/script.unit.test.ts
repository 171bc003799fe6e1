import { Script } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import { bundleDashboard } from '../../scripts/build-dashboard.mjs';
import dashboardScript from '../../src/admin/dashboard/client-bundle.js';
import { MAP_COLORS, MAP_HEIGHT, MAP_WIDTH, NO_POOL, POOL_PALETTE, worldMap } from '../../src/geo/world-map';
import { type FakeCall, FakeElement, runDashboard } from './fake-dom';

// The client is TypeScript (src/admin/dashboard/client/, type-checked by npm run
// typecheck) bundled into one browser script. Here: the bundle the Worker serves is
// the one its sources make today, and it is a classic script that needs nothing else.

describe('the dashboard script', () => {
  it('is the bundle of the client as it is now', async () => {
    expect(dashboardScript).toBe(await bundleDashboard());
  });

  it('is one classic script: no imports, nothing loaded from elsewhere', () => {
    // What <script src defer> runs: a module's import or export would not parse here.
    expect(() => new Script(dashboardScript, { filename: 'dashboard.js' })).not.toThrow();
    expect(dashboardScript).not.toMatch(/\bimport\s*\(|\brequire\s*\(|importScripts|new Worker|<script/);
    // The only URL in it is the SVG namespace, which is a name, not a request.
    expect(dashboardScript.match(/https?:\/\/[^"'`\s)]*/g)).toEqual(['http://www.w3.org/2000/svg']);
  });

  it('keeps the token in sessionStorage only and sends it as a bearer token', () => {
    expect(dashboardScript).toContain('sessionStorage');
    expect(dashboardScript).not.toMatch(/localStorage|document\.cookie/);
    expect(dashboardScript).toMatch(/["'`]Bearer /);
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

describe('the configuration history panel', () => {
  const CONFIG = {
    pools: [{ id: 'eu', name: 'Europe', origins: [{ name: 'eu1', address: 'http://eu1.example.net:8080', weight: 1 }] }],
    load_balancers: [{ id: 'geo', hostname: '*', default_pools: ['eu'] }],
  };
  /** Versions 1..n, newest first, as GET /config/versions lists them. */
  const versions = (n: number) =>
    Array.from({ length: n }, (_, i) => n - i).map((version) => ({
      version,
      at: new Date(Date.UTC(2025, 0, 1, 12, version)).toISOString(),
      actor: version === 1 ? 'migration' : 'admin-api agent lbctl',
      summary: `change number ${version}`,
    }));

  function api(current: number) {
    const answers: Record<string, unknown> = {
      '/config': { version: current, config: CONFIG, warnings: [] },
      '/config/versions': { versions: versions(current) },
      '/health': { pools: [{ id: 'eu', healthy: true, healthy_origins: 1, minimum_origins: 1 }], origins: [] },
      '/stats': { origins: [] },
      '/pops': { pops: [] },
    };
    return answers;
  }

  async function loaded(answers: Record<string, unknown>) {
    const dashboard = runDashboard(answers);
    await vi.waitFor(() => expect(dashboard.byId('app').hidden).toBe(false));
    return dashboard;
  }

  const rows = (dashboard: ReturnType<typeof runDashboard>) => dashboard.byId('history-list').children;

  it('lists the 10 newest versions with time, actor and summary, the current one marked, a rollback on each older one', async () => {
    const dashboard = await loaded(api(12));
    const panel = dashboard.byId('history');
    expect(panel.hidden).toBe(false);
    expect(panel.getAttribute('aria-labelledby')).toBe('history-title');
    expect(dashboard.byId('history-title').tagName).toBe('h2');
    expect(dashboard.byId('history-list').tagName).toBe('tbody');

    const list = rows(dashboard);
    expect(list.map((tr) => tr.getAttribute('data-version'))).toEqual(['12', '11', '10', '9', '8', '7', '6', '5', '4', '3']);
    const [current, older] = list;
    expect(current.getAttribute('data-current')).toBe('true');
    expect(current.getAttribute('aria-current')).toBe('true');
    expect(current.byTestId('version-number').tagName).toBe('th');
    expect(current.byTestId('version-number').textContent).toBe('12');
    expect(current.byTestId('version-current').textContent).toBe('current');
    expect(current.allByTestId('rollback')).toEqual([]);
    expect(older.getAttribute('data-current')).toBe('false');
    expect(older.getAttribute('aria-current')).toBeNull();
    expect(older.byTestId('version-actor').textContent).toBe('admin-api agent lbctl');
    expect(older.byTestId('version-summary').textContent).toBe('change number 11');
    const time = older.byTestId('version-at').children[0];
    expect(time.tagName).toBe('time');
    expect(time.getAttribute('datetime')).toBe('2025-01-01T12:11:00.000Z');
    expect(time.textContent).toBe(new Date('2025-01-01T12:11:00.000Z').toLocaleString());
    const buttons = dashboard.byId('history-list').allByTestId('rollback');
    expect(buttons).toHaveLength(9);
    expect(buttons[0].getAttribute('aria-label')).toBe('Roll back to version 11');
    expect(dashboard.byId('rollback-confirm').hidden).toBe(true);
  });

  it('asks for the list again only when the configuration changes', async () => {
    const answers = api(3);
    const dashboard = await loaded(answers);
    const listed = () => dashboard.requests.filter((r) => r === 'GET /__lb/api/config/versions').length;
    const poll = async (version: number) => {
      const seen = dashboard.requests.filter((r) => r === 'GET /__lb/api/config').length;
      dashboard.tick();
      await vi.waitFor(() => expect(dashboard.requests.filter((r) => r === 'GET /__lb/api/config').length).toBe(seen + 1));
      await vi.waitFor(() => expect(dashboard.byId('version').textContent).toContain(`version ${version} `));
      await new Promise((resolve) => setTimeout(resolve, 20));
    };
    expect(listed()).toBe(1);
    const before = rows(dashboard)[0];
    await poll(3);
    expect(listed()).toBe(1);
    expect(rows(dashboard)[0]).toBe(before);

    Object.assign(answers, { '/config': { version: 4, config: CONFIG, warnings: [] }, '/config/versions': { versions: versions(4) } });
    await poll(4);
    expect(listed()).toBe(2);
    expect(rows(dashboard).map((tr) => tr.getAttribute('data-current'))).toEqual(['true', 'false', 'false', 'false']);
  });

  it('rolls back only after the in-page confirmation, with the bearer token, then refreshes the list and the configuration', async () => {
    const answers = api(5);
    answers['/config/rollback'] = (call: FakeCall) => {
      const { version } = call.body as { version: number };
      Object.assign(answers, {
        '/config': { version: 6, config: CONFIG, warnings: [] },
        '/config/versions': { versions: [{ version: 6, at: '2025-01-01T13:00:00.000Z', actor: 'admin-api', summary: `rolled back to version ${version}` }, ...versions(5)] },
      });
      return { version: 6, restored: version, warnings: [] };
    };
    const dashboard = await loaded(answers);
    const posts = () => dashboard.calls.filter((c) => c.method === 'POST');
    const confirm = dashboard.byId('rollback-confirm');
    const rollbackOf = (version: number) => dashboard.byTestId(`version-${version}`).byTestId('rollback');

    // Asking is not doing: the question appears in the page, focused; Cancel takes it back.
    rollbackOf(3).click();
    expect(confirm.hidden).toBe(false);
    expect(confirm.getAttribute('role')).toBe('group');
    expect(confirm.getAttribute('aria-labelledby')).toBe('rollback-question');
    expect(dashboard.byId('rollback-question').textContent).toMatch(/^Roll back to version 3 \(.+: change number 3\)\? .*version 5 stays in the history\.$/);
    expect(dashboard.byId('rollback-yes').textContent).toBe('Roll back to version 3');
    expect(dashboard.document.activeElement).toBe(dashboard.byId('rollback-yes'));
    dashboard.byId('rollback-no').click();
    expect(confirm.hidden).toBe(true);
    expect(dashboard.document.activeElement).toBe(rollbackOf(3));
    await new Promise((resolve) => setImmediate(resolve));
    expect(posts()).toEqual([]);

    // Escape says no as well.
    rollbackOf(2).click();
    for (const listener of confirm.listeners.get('keydown') ?? []) listener({ key: 'Escape', preventDefault() {} });
    expect(confirm.hidden).toBe(true);
    expect(posts()).toEqual([]);

    // Confirmed: one POST with the version and the token; then the list and the configuration follow.
    rollbackOf(3).click();
    dashboard.byId('rollback-yes').click();
    await vi.waitFor(() => expect(posts()).toHaveLength(1));
    expect(posts()[0]).toEqual({ method: 'POST', path: '/config/rollback', authorization: 'Bearer test-token', body: { version: 3 } });
    await vi.waitFor(() => expect(dashboard.byTestId('version-6').getAttribute('data-current')).toBe('true'));
    expect(dashboard.byTestId('version-6').byTestId('version-summary').textContent).toBe('rolled back to version 3');
    expect(dashboard.byTestId('version-5').getAttribute('data-current')).toBe('false');
    expect(dashboard.byTestId('version-5').allByTestId('rollback')).toHaveLength(1);
    await vi.waitFor(() => expect(dashboard.byId('version').textContent).toContain('configuration version 6 '));
    expect(confirm.hidden).toBe(true);
    expect(dashboard.byId('history-note').textContent).toBe('Version 3 restored as version 6.');
    expect(dashboard.byId('history-error').textContent).toBe('');
  });

  it('shows the API error of a refused rollback in the panel and changes nothing', async () => {
    const answers = api(5);
    answers['/config/rollback'] = () =>
      Response.json({ error: { code: 'not_found', message: 'version 2 is not kept (the last 50 are)' } }, { status: 404 });
    const dashboard = await loaded(answers);
    const button = dashboard.byTestId('version-2').byTestId('rollback');
    button.click();
    dashboard.byId('rollback-yes').click();
    await vi.waitFor(() => expect(dashboard.byId('history-error').textContent).toBe('404 not_found: version 2 is not kept (the last 50 are)'));
    expect(dashboard.byId('rollback-confirm').hidden).toBe(true);
    expect(dashboard.byId('history-note').textContent).toBe('');
    expect(dashboard.byTestId('version-5').getAttribute('data-current')).toBe('true');
  });

  it('says so in the panel when the API keeps no history (an older Worker), and shows the rest', async () => {
    const answers = api(2);
    delete answers['/config/versions'];
    const dashboard = await loaded(answers);
    expect(dashboard.byId('history-error').textContent).toMatch(/^404 not_found/);
    expect(dashboard.byId('pools').allByTestId('origin-eu-eu1')).toHaveLength(1);
  });
});

describe('the map', () => {
  const CONFIG = {
    pools: [
      { id: 'eu', name: 'Europe', latitude: 50.11, longitude: 8.68, origins: [{ name: 'eu1', address: 'http://eu1.example.net:8080' }] },
      { id: 'us', name: 'North America', origins: [{ name: 'us1', address: 'http://us1.example.net:8080' }] },
    ],
    load_balancers: [{ id: 'geo', hostname: '*', default_pools: ['eu', 'us'] }],
  };
  const POPS = [
    { colo: 'FRA', city: 'Frankfurt', country: 'DE', region: 'WEU', latitude: 50.03, longitude: 8.56, withdrawn: false, pool: 'eu' },
    { colo: 'HNL', city: 'Honolulu', country: 'US', region: 'ENAM', latitude: 21.32, longitude: -157.92, withdrawn: false, pool: 'us' },
    { colo: 'SYD', city: 'Sydney', country: 'AU', region: 'OC', latitude: -33.94, longitude: 151.18, withdrawn: true, pool: null },
  ];

  async function loaded() {
    const dashboard = runDashboard({
      '/config': { version: 1, config: CONFIG, warnings: [] },
      '/config/versions': { versions: [] },
      '/health': { pools: [], origins: [] },
      '/stats': { origins: [] },
      '/pops': { pops: POPS },
    });
    await vi.waitFor(() => expect(dashboard.byId('app').hidden).toBe(false));
    return dashboard;
  }

  it('draws the shared world map (src/geo/world-map.ts): its frame, ocean, graticule and land, in its colours', async () => {
    const dashboard = await loaded();
    const world = worldMap();
    expect(dashboard.byId('pop-map').getAttribute('viewBox')).toBe(`0 0 ${MAP_WIDTH} ${MAP_HEIGHT}`);
    const [ocean, graticule, land, ...rest] = dashboard.byId('map-land').children;
    expect(rest).toEqual([]);
    expect([ocean, graticule, land].map((path) => [path.tagName, path.getAttribute('class')])).toEqual([
      ['path', 'ocean'],
      ['path', 'graticule'],
      ['path', 'land'],
    ]);
    expect(ocean.getAttribute('d')).toBe(world.sphere);
    expect(ocean.getAttribute('fill')).toBe(MAP_COLORS.ocean);
    expect(graticule.getAttribute('d')).toBe(world.graticule);
    expect(land.getAttribute('d')).toBe(world.land);
    expect(land.getAttribute('fill')).toBe(MAP_COLORS.land);
    expect(land.getAttribute('stroke')).toBe(MAP_COLORS.coast);
    // Natural Earth's 1:110m land: over a hundred rings, not a handful of shapes.
    expect(world.land.match(/M/g)!.length).toBeGreaterThan(100);
  });

  it("places each PoP and pool where the shared projection puts them, in the pool's colour from the shared palette", async () => {
    const dashboard = await loaded();
    const world = worldMap();
    for (const pop of POPS) {
      const dot = dashboard.byTestId(`pop-${pop.colo}`).children[0];
      const [x, y] = world.project(pop.longitude, pop.latitude);
      expect([dot.getAttribute('cx'), dot.getAttribute('cy')], pop.colo).toEqual([String(x), String(y)]);
    }
    expect(dashboard.byTestId('pop-FRA').children[0].getAttribute('fill')).toBe(POOL_PALETTE[0]);
    expect(dashboard.byTestId('pop-HNL').children[0].getAttribute('fill')).toBe(POOL_PALETTE[1]);
    // Withdrawn: hollow, ringed in its pool's colour (none here), crossed.
    const sydney = dashboard.byTestId('pop-SYD');
    expect(sydney.children[0].getAttribute('fill')).toBe('#ffffff');
    expect(sydney.children[0].getAttribute('stroke')).toBe(NO_POOL);
    expect(sydney.children[1].getAttribute('visibility')).toBe('visible');
    // Only the pool with coordinates has a site, a diamond centred where the projection puts it.
    const [site, label, ...more] = dashboard.byId('map-pools').children;
    expect(more).toEqual([]);
    const [x, y] = world.project(8.68, 50.11);
    expect(site.getAttribute('transform')).toBe(`rotate(45 ${x} ${y})`);
    expect(site.getAttribute('fill')).toBe(POOL_PALETTE[0]);
    expect(label.textContent).toBe('eu');
  });
});

describe('load balancers and their rules', () => {
  const MARKUP = '<img src=x onerror="alert(1)">';
  const RULES = [
    {
      name: 'api',
      priority: 5,
      disabled: false,
      terminates: false,
      condition: 'http.request.uri.path wildcard "/api/*"',
      fixed_response: null,
      overrides: { default_pools: ['us', 'eu'], session_affinity: 'none' },
    },
    {
      name: 'maintenance',
      priority: 0,
      disabled: false,
      terminates: true,
      condition: 'http.request.uri.path eq "/down"',
      fixed_response: { status_code: 503, content_type: 'text/plain', message_body: 'back soon' },
      overrides: {},
    },
    {
      name: `old ${MARKUP}`,
      priority: 5,
      disabled: true,
      terminates: false,
      condition: `http.request.headers["x-test"] eq "${MARKUP}"\n  and ip.src in {10.0.0.0/8}`,
      fixed_response: null,
      overrides: { origin_steering: { policy: 'hash', hash_key: 'path' }, redirect: { status_code: 307 } },
    },
    { name: 'moved', priority: 9, condition: 'http.host eq "old.example"', fixed_response: { status_code: 301, location: 'https://new.example/' } },
  ];
  const CONFIG = {
    pools: [
      {
        id: 'eu',
        name: 'Europe',
        origin_steering: { policy: 'hash', hash_key: 'header:x-user' },
        load_shedding: { default_percent: 10, default_policy: 'random', session_percent: 5, session_policy: 'hash' },
        origins: [{ name: 'eu1', address: 'http://eu1.example.net:8080' }],
      },
      {
        id: 'us',
        origin_steering: { policy: 'least_outstanding_requests', hash_key: 'ip' },
        load_shedding: { default_percent: 0, default_policy: 'random', session_percent: 0, session_policy: 'hash' },
        origins: [{ name: 'us1', address: 'http://us1.example.net:8080' }],
      },
    ],
    load_balancers: [
      { id: 'main', hostname: 'app.example', default_pools: ['eu', 'us'], fallback_pool: 'us', steering_policy: 'off', session_affinity: 'cookie', rules: RULES },
      { id: 'geo', hostname: '*', default_pools: ['us'] },
    ],
  };

  function api(config: unknown) {
    return {
      '/config': { version: 3, config, warnings: [] },
      '/config/versions': { versions: [] },
      '/health': { pools: [], origins: [] },
      '/stats': { origins: [] },
      '/pops': { pops: [] },
    };
  }

  async function loaded(answers: Record<string, unknown>) {
    const dashboard = runDashboard(answers);
    await vi.waitFor(() => expect(dashboard.byId('app').hidden).toBe(false));
    return dashboard;
  }

  it('lists each load balancer with its steering, and its rules in the order they are tried', async () => {
    const dashboard = await loaded(api(CONFIG));
    const panel = dashboard.byId('load-balancers');
    expect(panel.children.map((section) => section.getAttribute('data-testid'))).toEqual(['lb-main', 'lb-geo']);
    const main = dashboard.byTestId('lb-main');
    expect(main.getAttribute('aria-label')).toBe('load balancer main');
    expect(main.byTestId('lb-note').textContent).toBe('pools eu → us · fallback us · steering off · affinity cookie');

    const rows = main.allByTestId('rule');
    // Priority first, then the order of the list: maintenance (0), api and old (5), moved (9).
    expect(rows.map((tr) => tr.getAttribute('data-rule'))).toEqual(['maintenance', 'api', `old ${MARKUP}`, 'moved']);
    const cells = (tr: FakeElement) =>
      ['rule-priority', 'rule-name', 'rule-condition', 'rule-terminates', 'rule-action'].map((id) => tr.byTestId(id).textContent);
    expect(rows.map(cells)).toEqual([
      ['0', 'maintenance', 'http.request.uri.path eq "/down"', 'terminates', 'fixed response 503'],
      ['5', 'api', 'http.request.uri.path wildcard "/api/*"', '', 'default_pools: us, eu · session_affinity: none'],
      ['5', `old ${MARKUP}disabled`, RULES[2].condition, '', 'origin_steering: {policy: hash, hash_key: path} · redirect: {status_code: 307}'],
      ['9', 'moved', 'http.host eq "old.example"', '', 'fixed response 301 → https://new.example/'],
    ]);
    expect(rows[0].byTestId('rule-name').tagName).toBe('th');
    expect(main.byTestId('rules').tagName).toBe('table');
  });

  it('greys a disabled rule and says so in words', async () => {
    const dashboard = await loaded(api(CONFIG));
    const [maintenance, , old] = dashboard.byTestId('lb-main').allByTestId('rule');
    expect(old.className).toBe('rule-disabled');
    expect(old.byTestId('rule-disabled').textContent).toBe('disabled');
    expect(maintenance.className).toBe('');
    expect(maintenance.allByTestId('rule-disabled')).toEqual([]);
  });

  it('writes a condition as text: markup in it stays characters', async () => {
    const dashboard = await loaded(api(CONFIG));
    const old = dashboard.byTestId('lb-main').allByTestId('rule')[2];
    const [code] = old.byTestId('rule-condition').children;
    expect(code.tagName).toBe('code');
    expect(code.childNodes).toHaveLength(1);
    expect(code.childNodes[0].nodeType).toBe(3);
    expect(code.textContent).toBe(RULES[2].condition);
    expect(code.children).toEqual([]);
  });

  it('says when a load balancer has no rules, and when there are no load balancers', async () => {
    const dashboard = await loaded(api(CONFIG));
    const geo = dashboard.byTestId('lb-geo');
    expect(geo.allByTestId('rule')).toEqual([]);
    expect(geo.byTestId('no-rules').textContent).toMatch(/^No rules/);
    expect(geo.byTestId('lb-note').textContent).toBe('pools us');

    const empty = await loaded(api({ pools: CONFIG.pools, load_balancers: [] }));
    expect(empty.byId('load-balancers').textContent).toBe('No load balancers configured.');
  });

  it('redraws only when the load balancers change', async () => {
    const answers = api(CONFIG);
    const dashboard = await loaded(answers);
    const poll = async (version: number) => {
      dashboard.tick();
      await vi.waitFor(() => expect(dashboard.byId('version').textContent).toContain(`version ${version} `));
      await new Promise((resolve) => setImmediate(resolve));
    };
    const before = dashboard.byTestId('lb-main');
    await poll(3);
    expect(dashboard.byTestId('lb-main')).toBe(before);

    const changed = structuredClone(CONFIG);
    changed.load_balancers[0].rules = RULES.slice(0, 1);
    answers['/config'] = { version: 4, config: changed, warnings: [] };
    await poll(4);
    expect(dashboard.byTestId('lb-main')).not.toBe(before);
    expect(dashboard.byTestId('lb-main').allByTestId('rule').map((tr) => tr.getAttribute('data-rule'))).toEqual(['api']);
  });

  it("shows a hash pool's key and a pool's load shedding, only when it sheds", async () => {
    const dashboard = await loaded(api(CONFIG));
    expect(dashboard.byTestId('pool-eu').byTestId('pool-note').textContent).toBe('hash by header:x-user · sheds 10% (random) · sheds 5% of sessions (hash)');
    expect(dashboard.byTestId('pool-us').byTestId('pool-note').textContent).toBe('least outstanding requests');
  });

  it("shows each check region's verdict of an origin, and the regions a pool fails", async () => {
    const verdict = (region: string, state: string, healthy = state !== 'unhealthy', reason = '') => ({ region, state, healthy, reason, rtt_ms: 12 });
    const answers = {
      ...api(CONFIG),
      '/health': {
        pools: [
          { id: 'us', healthy: true, healthy_origins: 1, minimum_origins: 1, regions: [{ region: 'WEU', healthy: true, healthy_origins: 1 }, { region: 'SEAS', healthy: false, healthy_origins: 0 }] },
        ],
        origins: [
          { pool: 'us', origin: 'us1', state: 'healthy', reason: 'unhealthy from 1 of 2 check regions', regions: [verdict('WEU', 'healthy'), verdict('SEAS', 'unhealthy', false, 'connection refused')] },
        ],
      },
    };
    const dashboard = await loaded(answers);
    const pool = dashboard.byTestId('pool-us');
    expect(pool.byTestId('pool-note').textContent).toBe('needs 1 · least outstanding requests · checked from WEU, SEAS · unhealthy for clients in SEAS');
    const regions = pool.byTestId('origin-us-us1').byTestId('health-regions');
    expect(regions.textContent).toBe('WEU healthy · SEAS unhealthy');
    const seas = regions.childNodes.find((n) => n instanceof FakeElement && n.getAttribute('data-region') === 'SEAS') as FakeElement;
    expect(seas.getAttribute('class')).toBe('health-unhealthy');
    expect(seas.getAttribute('title')).toBe('connection refused, rtt 12 ms');
    // An origin without check regions shows none.
    expect(dashboard.byTestId('pool-eu').byTestId('origin-eu-eu1').byTestId('health-regions').textContent).toBe('');
  });
});
