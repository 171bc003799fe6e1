import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevWorker } from '../../scripts/lib/dev-worker.mjs';
import { haveChromium, launchChromium } from '../support/chromium';
import { Origin } from '../../scripts/lib/origins.mjs';
import type { ConfigInput } from '../../src/config/schema';
import { MAP_COLORS } from '../../src/geo/world-map';

// The dashboard in a real Chromium: real origins on loopback, the Worker under
// wrangler's dev server (workerd, local KV and Durable Object), and the page driven
// as an operator would: sign in, read the table and the configuration's warnings,
// drain an origin, withdraw a PoP, roll the configuration back.

const TOKEN = 'browser-test-token';

const chromiumThere = haveChromium("the dashboard's browser test");

type Worker = Awaited<ReturnType<typeof startDevWorker>>;

/** What the pixel count below uses of a page (the tests' tsconfig has no DOM lib). */
interface CanvasGlobal {
  Image: new () => { src: string; width: number; height: number; decode(): Promise<void> };
  document: {
    createElement(tag: 'canvas'): {
      width: number;
      height: number;
      getContext(kind: '2d'): { drawImage(image: unknown, x: number, y: number): void; getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } };
    };
  };
}

/**
 * The share of a PNG's pixels within `tolerance` (per channel) of each `#rrggbb`
 * colour, decoded by Chromium itself on a blank page of `browser`.
 */
async function colourShares(browser: Browser, png: Buffer, colours: string[], tolerance = 3): Promise<number[]> {
  const blank = await browser.newPage();
  try {
    return await blank.evaluate(
      async ({ data, colours, tolerance }) => {
        const { Image, document } = globalThis as unknown as CanvasGlobal;
        const image = new Image();
        image.src = `data:image/png;base64,${data}`;
        await image.decode();
        const canvas = document.createElement('canvas');
        canvas.width = image.width;
        canvas.height = image.height;
        const context = canvas.getContext('2d');
        context.drawImage(image, 0, 0);
        const pixels = context.getImageData(0, 0, image.width, image.height).data;
        const wanted = colours.map((c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)));
        const counts = wanted.map(() => 0);
        for (let i = 0; i < pixels.length; i += 4) {
          wanted.forEach(([r, g, b], k) => {
            if (Math.abs(pixels[i] - r) <= tolerance && Math.abs(pixels[i + 1] - g) <= tolerance && Math.abs(pixels[i + 2] - b) <= tolerance) counts[k]++;
          });
        }
        return counts.map((n) => n / (image.width * image.height));
      },
      { data: png.toString('base64'), colours, tolerance },
    );
  } finally {
    await blank.close();
  }
}

/** A condition with markup in it: the page must show it as characters. */
const CANARY = 'http.request.headers["x-canary"] eq "<b>1</b>"';

function testConfig(origins: Record<string, Origin>): ConfigInput {
  const origin = (name: string, extra: { weight?: number } = {}) => ({ name, address: origins[name].url, ...extra });
  return {
    monitors: [{ id: 'http', path: '/', interval: 60, consecutive_up: 1, consecutive_down: 1 }],
    pools: [
      { id: 'eu', name: 'Europe', latitude: 50.11, longitude: 8.68, monitor: 'http', origins: [origin('eu1'), origin('eu2')] },
      { id: 'us', name: 'North America', latitude: 39.04, longitude: -77.49, monitor: 'http', origins: [origin('us1'), origin('us2', { weight: 2 })] },
    ],
    load_balancers: [
      { id: 'geo', hostname: '*', default_pools: ['eu', 'us'], steering_policy: 'proximity' },
      {
        id: 'app',
        hostname: 'app.localhost',
        default_pools: ['us', 'eu'],
        // Rules no request of these tests matches: the panel lists them, steering stays as it is.
        rules: [
          { name: 'canary', priority: 2, condition: CANARY, overrides: { default_pools: ['eu'], session_affinity: 'none' } },
          { name: 'maintenance', priority: 1, terminates: true, condition: 'http.request.uri.path eq "/maintenance"', fixed_response: { status_code: 503, message_body: 'back soon' } },
          { name: 'retired', priority: 2, disabled: true, condition: 'http.host eq "old.localhost"', overrides: { fallback_pool: 'eu' } },
        ],
      },
    ],
  };
}

describe.skipIf(!chromiumThere)('the dashboard in Chromium', () => {
  const origins: Record<string, Origin> = {};
  const pageErrors: string[] = [];
  let persist: string | undefined;
  let worker: Worker | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let base: string;

  async function api(method: string, path: string, body?: unknown): Promise<any> {
    const res = await fetch(`${base}/__lb/api${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  }

  const row = (pool: string, origin: string) => page.getByTestId(`origin-${pool}-${origin}`);
  const text = async (locator: ReturnType<Page['getByTestId']>) => ((await locator.textContent()) ?? '').trim();

  beforeAll(async () => {
    for (const name of ['eu1', 'eu2', 'us1', 'us2']) origins[name] = await new Origin({ name }).start();
    persist = mkdtempSync(join(tmpdir(), 'switchyard-dashboard-'));
    worker = await startDevWorker({
      persist,
      secrets: { ADMIN_TOKEN: TOKEN },
      vars: {
        LB_SIMULATION: 'on',
        LB_CONFIG: JSON.stringify(testConfig(origins)),
      },
    });
    await worker.ready;
    base = new URL(await worker.url).origin;

    // Health known and some traffic counted before the page first looks.
    await api('POST', '/health/check');
    for (let i = 0; i < 6; i++) expect((await fetch(`${base}/`)).status).toBe(200);

    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    const steps = [
      () => browser?.close(),
      () => worker?.dispose(),
      ...Object.values(origins).map((origin) => () => origin.stop()),
    ];
    for (const step of steps) await step()?.catch((error: unknown) => console.error('dashboard test cleanup:', error));
    if (persist !== undefined) rmSync(persist, { recursive: true, force: true });
  });

  it('serves the sign-in form; a wrong token brings it back with a message', async () => {
    await page.goto(`${base}/__lb/`);
    await page.getByTestId('token-input').fill('not-the-token');
    await page.getByTestId('token-submit').click();
    await expect.poll(() => text(page.getByTestId('login-message'))).toMatch(/refused the token \(401 unauthorized/);
    expect(await page.getByTestId('token-form').isVisible()).toBe(true);
    expect(await page.getByTestId('app').isVisible()).toBe(false);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('signs in with the token and shows pools and origins, refreshed live', async () => {
    await page.getByTestId('token-input').fill(TOKEN);
    await page.getByTestId('token-submit').click();
    await row('eu', 'eu1').waitFor();
    expect(await page.getByTestId('token-form').isVisible()).toBe(false);

    expect(await text(page.getByTestId('pool-eu').getByTestId('pool-health'))).toBe('healthy 2/2');
    expect(await text(row('eu', 'eu1').getByTestId('state'))).toBe('active');
    expect(await text(row('eu', 'eu1').getByTestId('health'))).toMatch(/^healthy/);
    expect(await text(row('us', 'us2').getByTestId('weight'))).toBe('2');
    let requests = 0;
    for (const [pool, origin] of [['eu', 'eu1'], ['eu', 'eu2'], ['us', 'us1'], ['us', 'us2']]) {
      requests += Number((await text(row(pool, origin).getByTestId('requests'))).replace(/,/g, ''));
    }
    expect(requests).toBeGreaterThanOrEqual(6);
    expect(await text(row('eu', 'eu1').getByTestId('p50'))).toMatch(/ms$|–/);

    // The token is in this tab's session storage only: not in local storage, a cookie or the URL.
    expect(await page.evaluate(() => sessionStorage.getItem('switchyard.adminToken'))).toBe(TOKEN);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(await page.context().cookies()).toEqual([]);
    expect(page.url()).toBe(`${base}/__lb/`);

    // A change made elsewhere shows up by itself, without reloading the page.
    await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
    await api('PATCH', '/pools/us/origins/us2', { weight: 3 });
    await expect.poll(() => text(row('us', 'us2').getByTestId('weight')), { timeout: 8_000 }).toBe('3');
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  });

  it("lists the configuration's warnings: an origin given by IP address is an ip_origin", async () => {
    // Every origin here is http://127.0.0.1:<port>: valid, and served on a laptop, but
    // Cloudflare's edge refuses a subrequest to an IP address (SPEC §10).
    const panel = page.getByRole('region', { name: /^Configuration warnings/ });
    await panel.waitFor();
    const items = panel.getByTestId('warning');
    await expect.poll(() => items.count()).toBe(4);
    const first = items.first();
    expect(await first.getAttribute('data-code')).toBe('ip_origin');
    expect(await text(first.getByTestId('warning-code'))).toBe('ip_origin');
    expect(await text(first.getByTestId('warning-path'))).toBe('pools.0.origins.0.address');
    expect(await text(first.getByTestId('warning-message'))).toMatch(/127\.0\.0\.1/);
    expect(await text(page.getByTestId('warnings-count'))).toBe('(4)');

    // What the page lists is what GET /config says, in its order.
    const { warnings } = (await api('GET', '/config')) as { warnings: { code: string; path: string; message: string }[] };
    expect(await items.allTextContents()).toEqual(warnings.map((w) => `${w.code} ${w.path}: ${w.message}`));

    // Give one origin a name instead and its warning goes, without reloading the page; then put it back.
    const us2 = origins.us2.url;
    await api('PATCH', '/pools/us/origins/us2', { address: `http://localhost:${origins.us2.port}` });
    await expect.poll(() => items.count(), { timeout: 8_000 }).toBe(3);
    expect(await panel.getByTestId('warning-path').allTextContents()).not.toContain('pools.1.origins.1.address');
    await api('PATCH', '/pools/us/origins/us2', { address: us2 });
    await expect.poll(() => items.count(), { timeout: 8_000 }).toBe(4);
  });

  it("lists each load balancer's rules in the order they are tried, a disabled one greyed, conditions as text", async () => {
    const panel = page.getByRole('region', { name: 'Load balancers and rules' });
    const app = panel.getByTestId('lb-app');
    const rules = app.getByTestId('rule');
    await expect.poll(() => rules.count()).toBe(3);
    expect(await rules.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-rule')))).toEqual(['maintenance', 'canary', 'retired']);
    const [maintenance, canary, retired] = [rules.nth(0), rules.nth(1), rules.nth(2)];
    expect(await text(maintenance.getByTestId('rule-action'))).toBe('fixed response 503');
    expect(await text(maintenance.getByTestId('rule-terminates'))).toBe('terminates');
    expect(await text(canary.getByTestId('rule-action'))).toBe('default_pools: eu · session_affinity: none');
    // Markup in a condition is characters on the page, not an element.
    expect(await text(canary.getByTestId('rule-condition'))).toBe(CANARY);
    expect(await canary.getByTestId('rule-condition').locator('b').count()).toBe(0);
    // Disabled: said in words, and greyed.
    expect(await text(retired.getByTestId('rule-disabled'))).toBe('disabled');
    const colour = (row: typeof retired) =>
      row
        .getByTestId('rule-condition')
        .locator('code')
        .evaluate((code) => (globalThis as unknown as { getComputedStyle(element: unknown): { color: string } }).getComputedStyle(code).color);
    expect(await colour(retired)).toBe('rgb(85, 96, 110)');
    expect(await colour(canary)).not.toBe(await colour(retired));
    expect(await text(panel.getByTestId('lb-geo').getByTestId('no-rules'))).toMatch(/^No rules/);
    expect(pageErrors).toEqual([]);
  });

  it('drains an origin from its row, and shows the API error of a bad weight inline', async () => {
    await row('eu', 'eu1').getByTestId('drain').click();
    await expect.poll(() => text(row('eu', 'eu1').getByTestId('state'))).toBe('drain');
    expect(await text(row('eu', 'eu1').getByTestId('drain'))).toBe('Undrain');
    expect((await api('GET', '/pools/eu/origins/eu1')).origin.drain).toBe(true);

    await row('eu', 'eu2').getByTestId('weight-input').fill('-1');
    await row('eu', 'eu2').getByTestId('weight-set').click();
    await expect.poll(() => text(row('eu', 'eu2').getByTestId('origin-error'))).toMatch(/^400 invalid_\w+: .*weight: /s);
    expect(await text(row('eu', 'eu2').getByTestId('weight'))).toBe('1');
  });

  it('maps the PoPs by the pool they steer to, and withdraws and restores one', async () => {
    const honolulu = page.getByTestId('pop-HNL');
    await expect.poll(() => honolulu.getAttribute('data-pool')).toBe('us');
    expect(await page.getByTestId('pop-FRA').getAttribute('data-pool')).toBe('eu');
    expect(await text(page.getByTestId('legend-eu'))).toMatch(/^eu — Europe \(\d+ PoPs\)$/);
    expect(await text(page.getByTestId('legend-us'))).toMatch(/^us — North America \(\d+ PoPs\)$/);

    await honolulu.click();
    expect(await text(page.getByTestId('pop-detail-title'))).toBe('HNL — Honolulu, US');
    await page.getByTestId('pop-toggle').click();
    await expect.poll(() => honolulu.getAttribute('data-withdrawn')).toBe('true');
    expect(await honolulu.getAttribute('class')).toContain('withdrawn');
    expect(await text(page.getByTestId('withdrawn-list'))).toContain('HNL');
    const pops = (await api('GET', '/pops')).pops as { colo: string; withdrawn: boolean }[];
    expect(pops.find((pop) => pop.colo === 'HNL')?.withdrawn).toBe(true);

    await page.getByTestId('restore-HNL').click();
    await expect.poll(() => honolulu.getAttribute('data-withdrawn')).toBe('false');
    expect(((await api('GET', '/pops')).pops as { colo: string; withdrawn: boolean }[]).find((pop) => pop.colo === 'HNL')?.withdrawn).toBe(false);

    // Another load balancer, another colouring: app.localhost sends everyone to "us" first.
    await page.getByTestId('host-select').selectOption('app.localhost');
    await expect.poll(() => page.getByTestId('pop-FRA').getAttribute('data-pool')).toBe('us');
    expect(pageErrors).toEqual([]);
  });

  it('draws the world under the PoPs: a screenshot of the map is land and ocean, not a grid of dots', async () => {
    // Signed in above: the map shows once the PoPs are drawn on it.
    await page.getByTestId('pop-FRA').waitFor();
    const png = await page.getByTestId('pop-map').screenshot();
    const [land, ocean] = await colourShares(browser!, png, [MAP_COLORS.land, MAP_COLORS.ocean]);
    // Natural Earth's land is about a fifth of the frame and the ocean over half; the
    // PoPs, coastlines, graticule and the corners outside the globe take the rest.
    expect(land).toBeGreaterThan(0.15);
    expect(ocean).toBeGreaterThan(0.35);
    expect(pageErrors).toEqual([]);
  });

  it('lists the configuration versions and rolls back to an earlier one after an in-page confirmation', async () => {
    // Two changes through the admin API: eu2 weighs 5, then 7.
    await api('PATCH', '/pools/eu/origins/eu2', { weight: 5 });
    const earlier = (await api('GET', '/config')).version as number;
    await api('PATCH', '/pools/eu/origins/eu2', { weight: 7 });
    const latest = (await api('GET', '/config')).version as number;
    expect(latest).toBeGreaterThan(earlier);

    const panel = page.getByRole('region', { name: 'Configuration history' });
    const version = (n: number) => panel.getByTestId(`version-${n}`);
    await expect.poll(() => version(latest).getAttribute('data-current'), { timeout: 8_000 }).toBe('true');
    expect(await version(earlier).getAttribute('data-current')).toBe('false');
    expect(await text(version(latest).getByTestId('version-current'))).toBe('current');
    expect(await version(latest).getByTestId('rollback').count()).toBe(0);
    // What the page lists is what GET /config/versions says, newest first, at most 10.
    const { versions } = (await api('GET', '/config/versions')) as { versions: { version: number; actor: string; summary: string }[] };
    const rows = panel.getByTestId('history-list').locator('tr');
    expect(await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-version'))))).toEqual(
      versions.slice(0, 10).map((v) => v.version),
    );
    const listed = versions.find((v) => v.version === earlier)!;
    expect(await text(version(earlier).getByTestId('version-summary'))).toBe(listed.summary);
    expect(await text(version(earlier).getByTestId('version-actor'))).toBe(listed.actor);

    // Asking is not doing: Cancel leaves everything as it was.
    await version(earlier).getByRole('button', { name: `Roll back to version ${earlier}` }).click();
    const question = page.getByTestId('rollback-confirm');
    await question.waitFor();
    expect(await text(page.getByTestId('rollback-question'))).toMatch(new RegExp(`^Roll back to version ${earlier} \\(`));
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id)).toBe('rollback-yes');
    await page.getByTestId('rollback-no').click();
    await question.waitFor({ state: 'hidden' });
    expect((await api('GET', '/config')).version).toBe(latest);

    // Confirmed: the earlier configuration is current again, as a new version.
    await version(earlier).getByTestId('rollback').click();
    await page.getByRole('button', { name: `Roll back to version ${earlier}`, exact: true }).and(page.getByTestId('rollback-yes')).click();
    // Its origins are still given by IP address: the note counts the warnings the panel above lists.
    await expect
      .poll(() => text(page.getByTestId('history-note')))
      .toBe(`Version ${earlier} restored as version ${latest + 1} (4 warnings, listed above).`);
    const now = await api('GET', '/config');
    expect(now.version).toBe(latest + 1);
    expect(now.config.pools.find((p: { id: string }) => p.id === 'eu').origins.find((o: { name: string }) => o.name === 'eu2').weight).toBe(5);
    expect((await api(`GET`, `/config/versions/${earlier}`)).config).toEqual(now.config);
    // The list and the configuration view follow without reloading the page.
    await expect.poll(() => version(latest + 1).getAttribute('data-current')).toBe('true');
    expect(await version(latest).getAttribute('data-current')).toBe('false');
    await expect.poll(() => text(row('eu', 'eu2').getByTestId('weight'))).toBe('5');
    expect(await text(page.getByTestId('version'))).toContain(`configuration version ${latest + 1} `);
    expect(await question.isVisible()).toBe(false);
    expect(await text(page.getByTestId('history-error'))).toBe('');
    expect(pageErrors).toEqual([]);
  });

  it('says so when the admin API is off (503 admin_disabled)', async () => {
    // Another tab, whose API answers as a Worker without ADMIN_TOKEN does.
    const tab = await page.context().newPage();
    await tab.route('**/__lb/api/**', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'admin_disabled', message: 'the admin API is disabled: set the ADMIN_TOKEN secret' } }),
      }),
    );
    await tab.goto(`${base}/__lb/`);
    // Session storage is per tab: this one starts signed out.
    await tab.getByTestId('token-input').fill(TOKEN);
    await tab.getByTestId('token-submit').click();
    await tab.getByTestId('admin-disabled').waitFor();
    expect(await tab.getByTestId('admin-disabled').textContent()).toContain('set the ADMIN_TOKEN secret');
    expect(await tab.getByTestId('app').isVisible()).toBe(false);
    await tab.close();
  });
});
