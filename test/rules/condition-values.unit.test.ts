import { describe, expect, it } from 'vitest';
import { compileCondition } from '../../src/rules/condition';
import { view, type ViewInput } from './view';

function matches(source: string, input: ViewInput = {}): boolean {
  const result = compileCondition(source);
  if (!result.ok) throw new Error(`${source}: ${result.message}`);
  return result.test(view(input));
}

describe('ip.src in a set of addresses and ranges', () => {
  const set = 'ip.src in {10.0.0.0/8 2001:db8::/32 192.0.2.1 198.51.100.3..198.51.100.7 ::1}';
  it.each([
    ['10.0.0.0', true],
    ['10.255.255.255', true],
    ['11.0.0.0', false],
    ['9.255.255.255', false],
    ['2001:db8::1', true],
    ['2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', true],
    ['2001:db9::', false],
    ['192.0.2.1', true],
    ['192.0.2.2', false],
    ['198.51.100.3', true],
    ['198.51.100.7', true],
    ['198.51.100.8', false],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::2', false],
    // An IPv4-mapped IPv6 address is its IPv4 address.
    ['::ffff:10.1.2.3', true],
    ['::ffff:11.1.2.3', false],
    // Not an address: a missing value.
    ['', false],
    ['not-an-ip', false],
    ['10.1', false],
  ])('%s is %s', (ip, expected) => {
    expect(matches(set, { ip })).toBe(expected);
  });

  it('eq and ne take one address, either family, in any spelling', () => {
    expect(matches('ip.src eq 2001:db8::1', { ip: '2001:0db8:0000:0000:0000:0000:0000:0001' })).toBe(true);
    expect(matches('ip.src == ::ffff:192.0.2.1', { ip: '192.0.2.1' })).toBe(true);
    expect(matches('ip.src ne 192.0.2.1', { ip: '192.0.2.2' })).toBe(true);
    expect(matches('ip.src eq 192.0.2.1', { ip: '2001:db8::1' })).toBe(false);
  });

  it('a CIDR range with host bits set covers its whole network', () => {
    expect(matches('ip.src in {192.0.2.77/24}', { ip: '192.0.2.1' })).toBe(true);
    expect(matches('ip.src in {0.0.0.0/0}', { ip: '2001:db8::1' })).toBe(false);
    expect(matches('ip.src in {::/0}', { ip: '2001:db8::1' })).toBe(true);
    expect(matches('ip.src in {::ffff:10.0.0.0/104}', { ip: '10.9.9.9' })).toBe(true);
  });
});

describe('wildcard', () => {
  it.each([
    ['https://example.com/a/*', 'https://example.com/a/', true],
    ['https://example.com/a/*', 'https://example.com/a/page.html', true],
    ['https://example.com/a/*', 'https://example.com/ab/', false],
    ['https://example.com/a/*', 'https://sub.example.com/a/', false],
    ['*.example.com/*/page.html', 'http://sub.example.com/folder/page.html', true],
    ['*.example.com/*/page.html', 'https://admin.example.com/team/subteam/page.html', true],
    ['*.example.com/*/page.html', 'https://example.com/ab/page.html', false],
    ['*.example.com/*/page.html', 'https://sub.example.com/folder2/page.html?s=value', false],
    ['*', 'anything', true],
    ['HTTPS://EXAMPLE.COM/*', 'https://example.com/x', true],
    ['*a*a*a*', 'xaxaxa', true],
    ['*a*a*a*', 'xaxax', false],
    ['*ab*ba*', 'aba', false],
    ['*ab*ba*', 'ab-ba', true],
  ])('%s against %s is %s', (pattern, value, expected) => {
    expect(matches(`http.request.headers["x"] wildcard "${pattern}"`, { headers: { x: value } })).toBe(expected);
  });

  it('reads the full URI with its query', () => {
    expect(matches('http.request.full_uri wildcard "https://shop.example.com/api/*"')).toBe(true);
    expect(matches('http.request.full_uri wildcard "*/search"')).toBe(false);
  });

  it('matches the whole value', () => {
    expect(matches('http.request.uri.path wildcard "/api"')).toBe(false);
    expect(matches('http.request.uri.path wildcard "/api/search"')).toBe(true);
  });

  it('strict wildcard keeps case', () => {
    expect(matches('http.request.uri.path strict wildcard "/Api/*"')).toBe(false);
    expect(matches('http.request.uri.path strict wildcard "/api/*"')).toBe(true);
  });

  it('\\* is a literal star, \\\\ a backslash', () => {
    expect(matches(String.raw`http.request.headers["x"] wildcard r"a\*b"`, { headers: { x: 'a*b' } })).toBe(true);
    expect(matches(String.raw`http.request.headers["x"] wildcard r"a\*b"`, { headers: { x: 'axxb' } })).toBe(false);
    expect(matches(String.raw`http.request.headers["x"] wildcard "a\*b"`, { headers: { x: 'a*b' } })).toBe(true);
    expect(matches(String.raw`http.request.headers["x"] wildcard r"a\\*"`, { headers: { x: 'a\\zz' } })).toBe(true);
  });

  it('takes linear time on a hostile value', () => {
    const value = 'a'.repeat(20_000);
    expect(matches(`http.request.headers["x"] wildcard "${'*a'.repeat(200)}*b"`, { headers: { x: value } })).toBe(false);
  });
});

describe('strings', () => {
  it('quoted strings know \\" and \\\\', () => {
    expect(matches(String.raw`http.request.headers["x"] eq "say \"hi\" \\ bye"`, { headers: { x: 'say "hi" \\ bye' } })).toBe(true);
  });

  it('raw strings take text as it is, with # delimiters', () => {
    expect(matches(String.raw`http.request.headers["x"] eq r"a\b"`, { headers: { x: 'a\\b' } })).toBe(true);
    expect(matches(String.raw`http.request.headers["x"] eq r#"a"b"#`, { headers: { x: 'a"b' } })).toBe(true);
    expect(matches(String.raw`http.request.headers["x"] eq r##"a"#b"##`, { headers: { x: 'a"#b' } })).toBe(true);
    expect(matches(String.raw`http.request.uri.path matches r"^/api/\w+$"`)).toBe(true);
  });

  it('in a regular expression a quoted string keeps its backslashes for the pattern', () => {
    expect(matches(String.raw`http.request.uri.path matches "^/api/\w+$"`)).toBe(true);
    expect(matches(String.raw`http.request.headers["x"] matches "a\"b"`, { headers: { x: 'xa"bx' } })).toBe(true);
    expect(matches(String.raw`http.request.headers["x"] matches "^a\\b$"`, { headers: { x: 'a\\b' } })).toBe(true);
  });

  it('strings may hold anything, even what looks like syntax', () => {
    expect(matches('http.request.headers["x"] eq "a) or (b {1 2} and"', { headers: { x: 'a) or (b {1 2} and' } })).toBe(true);
    expect(matches('http.request.headers["x"] in {"é" "😀" ""}', { headers: { x: '😀' } })).toBe(true);
  });

  it('regular expressions are partial matches, case-sensitive, RE2 syntax', () => {
    expect(matches('http.request.uri.path matches "search"')).toBe(true);
    expect(matches('http.request.uri.path matches "SEARCH"')).toBe(false);
    expect(matches('http.request.uri.path matches "(?i)SEARCH"')).toBe(true);
    expect(matches('http.request.uri.path matches "^/api/[[:alpha:]]+$"')).toBe(true);
  });
});

describe('whitespace and layout', () => {
  it('spaces, tabs and line breaks separate words; symbols need none', () => {
    expect(matches('(http.request.method=="GET"&&ip.src in{203.0.113.0/24})||!http.host~"x"')).toBe(true);
    expect(matches('\n  http.request.method eq "GET"\n\tand cf.colo.name eq "FRA"\n')).toBe(true);
  });
});
