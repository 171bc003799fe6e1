import { env } from 'cloudflare:workers';
import { createExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import type { Env } from '../../src/env';
import { ADMIN_TOKEN, lb } from '../support/worker';

// The dashboard's page and assets are public and hold no data: everything it shows
// comes from the authenticated admin API (its behaviour in Chromium:
// test/dashboard/dashboard.browser.test.ts).

describe('the dashboard at /__lb/', () => {
  it('serves the page without authentication: HTML with the token form and no token', async () => {
    const res = await lb('/__lb/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const page = await res.text();
    expect(page).toMatch(/^<!doctype html>/i);
    expect(page).toContain('data-testid="token-form"');
    expect(page).toMatch(/<input[^>]+type="password"/);
    expect(page).toContain('<script src="/__lb/dashboard.js"');
    expect(page).not.toContain(ADMIN_TOKEN);
    // No external fonts, scripts or styles: the machine may have no internet.
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('has a labelled panel for the configuration warnings, hidden until the script fills it', async () => {
    const page = await (await lb('/__lb/')).text();
    const panel = /<section[^>]*\sid="warnings"[^>]*>([\s\S]*?)<\/section>/.exec(page);
    expect(panel).not.toBeNull();
    expect(panel![0]).toMatch(/^<section[^>]*\shidden(="")?[\s>]/);
    expect(panel![0]).toMatch(/^<section[^>]*aria-labelledby="warnings-title"/);
    expect(panel![1]).toMatch(/<h2 id="warnings-title">\s*Configuration warnings/);
    expect(panel![1]).toMatch(/<ul[^>]*id="warnings-list"/);
    // Inside the signed-in part of the page, before the pools.
    expect(page.indexOf('id="app"')).toBeLessThan(page.indexOf('id="warnings"'));
    expect(page.indexOf('id="warnings"')).toBeLessThan(page.indexOf('id="pools"'));
  });

  it('has a labelled configuration history panel, with its rollback question hidden in the page', async () => {
    const page = await (await lb('/__lb/')).text();
    const panel = /<section[^>]*\sid="history"[^>]*>([\s\S]*?)<\/section>/.exec(page);
    expect(panel).not.toBeNull();
    expect(panel![0]).toMatch(/^<section[^>]*aria-labelledby="history-title"/);
    expect(panel![1]).toMatch(/<h2 id="history-title">\s*Configuration history/);
    expect(panel![1]).toMatch(/<tbody[^>]*id="history-list"/);
    expect(panel![1]).toMatch(/<div[^>]*id="rollback-confirm"[^>]*\shidden(="")?[\s>]/);
    expect(panel![1]).toMatch(/<button[^>]*type="button"[^>]*id="rollback-yes"/);
    // No inline script or handler: the CSP allows the page's own script file only.
    expect(page).not.toMatch(/<script(?![^>]*\ssrc=)/);
    expect(page).not.toMatch(/\son[a-z]+=/);
    expect(page.indexOf('id="app"')).toBeLessThan(page.indexOf('id="history"'));
  });

  it('serves the same page with a wrong Authorization header, and with the admin API off', async () => {
    const wrong = await lb('/__lb/', { headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(200);
    const off = { ...(env as Env), ADMIN_TOKEN: undefined } as Env;
    const res = await app.fetch(new Request('http://localhost/__lb/'), off, createExecutionContext());
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('data-testid="token-form"');
  });

  it('redirects /__lb to /__lb/', async () => {
    const res = await lb('/__lb', { redirect: 'manual' });
    expect(res.status).toBe(308);
    expect(res.headers.get('location')).toBe('/__lb/');
  });

  it('serves its script and stylesheet, which hold no token either', async () => {
    const script = await lb('/__lb/dashboard.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    const code = await script.text();
    expect(code).toContain('sessionStorage');
    expect(code).not.toContain('localStorage');
    expect(code).not.toContain(ADMIN_TOKEN);
    const styles = await lb('/__lb/dashboard.css');
    expect(styles.status).toBe(200);
    expect(styles.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('leaves unknown /__lb paths to the JSON 404', async () => {
    for (const path of ['/__lb/x', '/__lb/dashboard', '/__lb/index.html']) {
      const res = await lb(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type'), path).toMatch(/^application\/json/);
      expect(((await res.json()) as { error: { code: string } }).error.code, path).toBe('not_found');
    }
  });
});
