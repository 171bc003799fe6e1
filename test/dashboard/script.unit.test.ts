import { describe, expect, it } from 'vitest';
import { dashboardScript } from '../../src/admin/dashboard/script';

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
