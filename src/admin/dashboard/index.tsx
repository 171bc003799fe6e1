import { Hono } from 'hono';
import { html } from 'hono/html';
import type { Env } from '../../env';
import dashboardScript from './client-bundle.js';
import { DashboardPage } from './page';
import { dashboardStyles } from './styles';

// The dashboard at /__lb/ (README "Dashboard"): a page, its script and its stylesheet,
// all static and served without authentication; the script (client/, bundled at build
// time into client-bundle.js) reads and changes state through the admin API with the
// token the operator types in.

/** Same-origin script, style and fetch only: no inline code, nothing from elsewhere. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const pageHeaders = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const assetHeaders = (type: string) => ({
  'content-type': type,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cache-control': 'no-cache',
});

export const dashboard = new Hono<{ Bindings: Env }>()
  .get('/__lb', (c) => c.redirect('/__lb/', 308))
  .get('/__lb/', (c) => c.html(html`<!doctype html>${<DashboardPage />}`, 200, pageHeaders))
  .get('/__lb/dashboard.js', (c) => c.body(dashboardScript, 200, assetHeaders('text/javascript; charset=utf-8')))
  .get('/__lb/dashboard.css', (c) => c.body(dashboardStyles, 200, assetHeaders('text/css; charset=utf-8')));
