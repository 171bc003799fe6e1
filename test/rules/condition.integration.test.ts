import { describe, expect, it } from 'vitest';
import { compileCondition } from '../../src/rules/condition';
import { view } from './view';

// The condition compiler inside workerd, which refuses code generated from strings at
// run time: the parser (chevrotain), the regular expressions (re2js) and the address
// ranges (ipaddr.js) all have to work there as they do in Node.

describe('conditions in workerd', () => {
  it('compiles and evaluates every kind of condition', () => {
    const source =
      '(http.request.uri.path matches r"^/api/(search|find)" and not ip.src in {10.0.0.0/8 2001:db8::/32 192.0.2.1})' +
      ' or (len(http.request.uri.path) gt 100 xor lower(http.host) wildcard "*.EXAMPLE.com")' +
      ' or starts_with(http.request.headers["x-client"], "mob")';
    const result = compileCondition(source);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.test(view({ ip: '203.0.113.7' }))).toBe(true);
    expect(result.test(view({ url: 'https://other.net/api/search', ip: '10.1.2.3' }))).toBe(false);
    expect(result.test(view({ url: 'https://other.net/', ip: '2001:db8::5', headers: { 'x-client': 'mobile' } }))).toBe(true);
  });

  it('matches a catastrophic pattern in linear time', () => {
    const result = compileCondition('http.request.headers["x"] matches "(a+)+$"');
    expect(result.ok && result.test(view({ headers: { x: `${'a'.repeat(50_000)}!` } }))).toBe(false);
  });

  it('refuses what it cannot compile, with a column', () => {
    expect(compileCondition('http.request.uri.path "/x"')).toEqual({
      ok: false,
      message: 'expected an operator after http.request.uri.path at column 23, found "/x"',
      column: 23,
    });
    expect(compileCondition(String.raw`http.host matches "(a)\1"`)).toMatchObject({ ok: false, column: 19 });
  });
});
