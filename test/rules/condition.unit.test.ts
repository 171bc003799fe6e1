import { describe, expect, it } from 'vitest';
import { compileCondition, type RequestView } from '../../src/rules/condition';
import { ConditionParser } from '../../src/rules/condition/parser';
import { conditionLexer } from '../../src/rules/condition/tokens';
import { view, type ViewInput } from './view';

/** Whether `source` matches the request `input` describes; fails the test if it does not compile. */
function matches(source: string, input: ViewInput | RequestView = {}): boolean {
  const result = compileCondition(source);
  if (!result.ok) throw new Error(`${source}: ${result.message}`);
  return result.test('header' in input ? input : view(input));
}

describe('fields', () => {
  const request: ViewInput = {
    url: 'https://Shop.Example.com/api/search?q=shoes&page=2',
    method: 'POST',
    headers: { 'x-client': 'mobile', cookie: 'session=abc; theme=dark' },
    ip: '198.51.100.4',
    country: 'BR',
    continent: 'SA',
    colo: 'GRU',
    loadBalancer: 'shop.example.com',
  };
  it.each([
    'http.host eq "shop.example.com"',
    'http.request.method eq "POST"',
    'http.request.uri eq "/api/search?q=shoes&page=2"',
    'http.request.uri.path eq "/api/search"',
    'http.request.uri.query eq "q=shoes&page=2"',
    'http.request.full_uri eq "https://shop.example.com/api/search?q=shoes&page=2"',
    'http.request.headers["x-client"] eq "mobile"',
    'http.request.headers["x-client"][0] eq "mobile"',
    'http.request.cookies["theme"] eq "dark"',
    'http.cookie eq "session=abc; theme=dark"',
    'ip.src eq 198.51.100.4',
    'ip.src.country eq "BR"',
    'ip.src.continent eq "SA"',
    'cf.colo.name eq "GRU"',
    'cf.load_balancer.name eq "shop.example.com"',
  ])('%s', (source) => {
    expect(matches(source, request)).toBe(true);
    expect(matches(`not ${source}`, request)).toBe(false);
  });

  it('says which fields a condition reads', () => {
    const result = compileCondition('http.request.headers["a"] eq "1" or (lower(http.host) contains "x" and not ip.src in {10.0.0.0/8})');
    expect(result.ok && [...result.fields].sort()).toEqual(['http.host', 'http.request.headers', 'ip.src']);
  });

  it('reads only the fields it names', () => {
    const read: string[] = [];
    const lazy = new Proxy(view(), {
      get(target, key: string) {
        read.push(key);
        return target[key as keyof RequestView];
      },
    });
    expect(matches('cf.colo.name eq "FRA"', lazy)).toBe(true);
    expect(read).toEqual(['colo']);
  });
});

describe('comparison operators', () => {
  it.each([
    ['http.request.uri.path eq "/api/search"', true],
    ['http.request.uri.path == "/api/search"', true],
    ['http.request.uri.path ne "/api/search"', false],
    ['http.request.uri.path != "/other"', true],
    ['http.request.uri.path lt "/b"', true],
    ['http.request.uri.path < "/a"', false],
    ['http.request.uri.path le "/api/search"', true],
    ['http.request.uri.path <= "/api"', false],
    ['http.request.uri.path gt "/api"', true],
    ['http.request.uri.path > "/b"', false],
    ['http.request.uri.path ge "/api/search"', true],
    ['http.request.uri.path >= "/api/t"', false],
    ['http.request.uri.path contains "/search"', true],
    ['http.request.uri.path contains "/Search"', false],
    ['http.request.uri.path matches "^/api/(search|find)$"', true],
    ['http.request.uri.path ~ "^/API"', false],
    ['http.request.uri.path wildcard "/API/*"', true],
    ['http.request.uri.path strict wildcard "/API/*"', false],
    ['http.request.uri.path strict wildcard "/api/*"', true],
    ['http.request.uri.path in {"/a" "/api/search"}', true],
    ['http.request.uri.path in {"/a" "/b"}', false],
  ])('%s is %s', (source, expected) => {
    expect(matches(source)).toBe(expected);
  });

  it('orders text by code point, as Cloudflare orders bytes', () => {
    expect(matches('http.request.headers["x"] gt "\uffff"', { headers: { x: 'a😀' } })).toBe(false);
    expect(matches('http.request.headers["x"] lt "a😀"', { headers: { x: 'a\uffff' } })).toBe(true);
  });

  it('compares numbers as numbers', () => {
    const long = { url: `https://a.example/${'x'.repeat(150)}` };
    expect(matches('len(http.request.uri.path) gt 100', long)).toBe(true);
    expect(matches('len(http.request.uri.path) gt 100')).toBe(false);
    expect(matches('len(http.request.uri.path) eq 11')).toBe(true);
    expect(matches('len(http.request.uri.path) in {1 5..12 99}')).toBe(true);
    expect(matches('len(http.request.uri.path) in {1 12..20}')).toBe(false);
    // "9" > "100" as text; 9 < 100 as numbers.
    expect(matches('len(http.request.headers["x"]) lt 100', { headers: { x: 'x'.repeat(9) } })).toBe(true);
  });
});

describe('functions', () => {
  it('starts_with and ends_with', () => {
    expect(matches('starts_with(http.request.uri.path, "/api/")')).toBe(true);
    expect(matches('ends_with(http.request.uri.path, "/search")')).toBe(true);
    expect(matches('starts_with(http.request.uri.path, "/API/")')).toBe(false);
    expect(matches('not ends_with(http.request.uri.path, ".html")')).toBe(true);
  });

  it('lower lowers ASCII only, as Cloudflare does', () => {
    expect(matches('lower(http.request.headers["x"]) eq "abc-ÄÖ"', { headers: { x: 'ABC-ÄÖ' } })).toBe(true);
    expect(matches('starts_with(lower(http.request.uri.path), "/api")', { url: 'https://a.example/API/x' })).toBe(true);
  });

  it('len counts UTF-8 bytes', () => {
    expect(matches('len(http.request.headers["x"]) eq 6', { headers: { x: 'aé€' } })).toBe(true);
    expect(matches('len(http.request.cookies["c"]) eq 6', { headers: { cookie: 'c=aé€' } })).toBe(true);
    expect(matches('len(lower(http.host)) eq 16')).toBe(true);
  });
});

describe('logic and precedence (not, then and, then xor, then or)', () => {
  const T = 'http.request.method eq "GET"';
  const F = 'http.request.method eq "PUT"';
  it.each([
    [`${T} and ${F} or ${T}`, true], // (T and F) or T
    [`${T} or ${T} and ${F}`, true], // T or (T and F)
    [`${F} and ${T} or ${F}`, false],
    [`${T} xor ${T} or ${T}`, true], // (T xor T) or T
    [`${T} or ${T} xor ${T}`, true], // T or (T xor T)
    [`${F} or ${T} xor ${T}`, false], // F or (T xor T)
    [`${T} xor ${T} and ${F}`, true], // T xor (T and F)
    [`${T} and ${F} xor ${T}`, true], // (T and F) xor T
    [`not ${T} and ${F}`, false], // (not T) and F
    [`not ${F} and ${T}`, true],
    [`not (${T} and ${F})`, true],
    [`! ${T} || ${T}`, true],
    [`!!${T}`, true],
    [`not not not ${T}`, false],
    [`${T} && ${T} ^^ ${T}`, false],
    [`(${T} or ${F}) and (${F} or ${T})`, true],
    [`${T} xor ${T} xor ${T}`, true],
  ])('%s is %s', (source, expected) => {
    expect(matches(source)).toBe(expected);
  });
});

describe('missing values (an absent header or cookie, an unknown country or continent, no client address)', () => {
  const absent: ViewInput = { country: undefined, continent: undefined, colo: undefined, ip: '' };
  it.each([
    'http.request.headers["x-absent"] eq "a"',
    'http.request.headers["x-absent"] ne "a"',
    'http.request.headers["x-absent"] lt "a"',
    'http.request.headers["x-absent"] contains ""',
    'http.request.headers["x-absent"] matches ".*"',
    'http.request.headers["x-absent"] wildcard "*"',
    'http.request.headers["x-absent"] in {"a"}',
    'http.request.cookies["absent"] eq ""',
    'lower(http.request.headers["x-absent"]) ne "a"',
    'len(http.request.headers["x-absent"]) eq 0',
    'len(http.request.headers["x-absent"]) ge 0',
    'starts_with(http.request.headers["x-absent"], "")',
    'ends_with(http.request.cookies["absent"], "")',
    'ip.src.country ne "DE"',
    'ip.src.continent in {"EU" "NA"}',
    'cf.colo.name ne "FRA"',
    'ip.src eq 203.0.113.7',
    'ip.src ne 203.0.113.7',
    'ip.src in {0.0.0.0/0 ::/0}',
  ])('%s is false, and its not true', (source) => {
    expect(matches(source, absent)).toBe(false);
    expect(matches(`not (${source})`, absent)).toBe(true);
  });

  it('an empty header is present: it compares as the empty string', () => {
    expect(matches('http.request.headers["x-empty"] eq ""', { headers: { 'x-empty': '' } })).toBe(true);
    expect(matches('len(http.request.headers["x-empty"]) eq 0', { headers: { 'x-empty': '' } })).toBe(true);
  });

  it('no Cookie header is an empty http.cookie', () => {
    expect(matches('http.cookie eq ""')).toBe(true);
  });
});

describe('evaluation never throws', () => {
  it('a view that throws counts as no match', () => {
    const result = compileCondition('http.request.headers["x"] eq "a"');
    const broken = { ...view(), header: () => { throw new Error('boom'); } };
    expect(result.ok && result.test(broken)).toBe(false);
  });
});

describe('the grammar', () => {
  it('passes chevrotain’s checks, which the Worker skips to start faster', () => {
    expect(() => conditionLexer(true)).not.toThrow();
    expect(() => new ConditionParser(true)).not.toThrow();
  });
});

describe('true and false', () => {
  it('match every request and none, alone and combined, as in Cloudflare\'s "all incoming requests"', () => {
    expect(matches('true')).toBe(true);
    expect(matches('(true)')).toBe(true);
    expect(matches('false')).toBe(false);
    expect(matches('not false')).toBe(true);
    expect(matches('true and http.host eq "a.example"', { url: 'https://a.example/' })).toBe(true);
    expect(matches('false or http.host eq "b.example"', { url: 'https://a.example/' })).toBe(false);
    // A field named like them is still a field.
    expect(compileCondition('trueish eq "x"')).toMatchObject({ ok: false, message: expect.stringContaining('unknown field trueish') });
  });
});
