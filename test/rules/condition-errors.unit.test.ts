import { describe, expect, it } from 'vitest';
import { compileCondition, CONDITION_LIMITS } from '../../src/rules/condition';
import { view } from './view';

/** The error of a condition that must not compile. */
function refused(source: string): { message: string; column: number } {
  const result = compileCondition(source);
  if (result.ok) throw new Error(`${source} compiled`);
  return { message: result.message, column: result.column };
}

describe('syntax errors name the column', () => {
  it.each([
    ['http.request.uri.path "/x"', 23, 'expected an operator after http.request.uri.path at column 23, found "/x"'],
    ['http.request.uri.path', 22, 'expected an operator after http.request.uri.path at column 22'],
    ['len(http.host)', 15, 'expected an operator after len(http.host) at column 15'],
    ['http.host eq', 13, 'expected a value after eq at column 13'],
    ['(http.host eq "a"', 18, `expected ')' after "a" at column 18`],
    ['http.host eq "a")', 17, `expected and, or, xor or the end of the condition after "a" at column 17, found ')'`],
    ['http.host eq "a" AND http.host eq "b"', 18, 'expected and, or, xor or the end of the condition after "a" at column 18, found AND'],
    ['http.host eq "a" and', 21, 'expected a condition (a comparison, starts_with(), ends_with(), true, false or a parenthesis) after and at column 21'],
    ['and http.host eq "a"', 1, 'expected a condition (a comparison, starts_with(), ends_with(), true, false or a parenthesis) at column 1, found and'],
    ['http.host in {}', 15, `expected a value after '{' at column 15, found '}'`],
    ['http.host strict "a"', 18, 'expected wildcard after strict at column 18, found "a"'],
    ['starts_with(http.host "a")', 23, `expected ',' after http.host at column 23, found "a"`],
    ['starts_with(http.host, 5)', 24, `expected a string after ',' at column 24, found 5`],
    ['starts_with("abc", "a")', 13, `expected a field after '(' at column 13, found "abc"`],
    ['upper(http.host) eq "x"', 1, 'unknown function upper at column 1 (there are starts_with, ends_with, lower and len)'],
    ['http.host eq "abc', 14, 'the string starting at column 14 has no closing quote'],
    ['http.host eq r#"abc"', 14, 'the string starting at column 14 has no closing quote'],
    ['http.host $ "x"', 11, 'unexpected character "$" at column 11'],
    ['', 1, 'the condition is empty'],
  ])('%s', (source, column, message) => {
    expect(refused(source)).toEqual({ column, message });
  });

  it('counts columns from the first character, across line breaks', () => {
    expect(refused('http.host eq "a"\nand').column).toBe(21);
  });
});

describe('type and name errors name the column', () => {
  it.each([
    ['http.hots eq "a"', 1, 'unknown field http.hots'],
    ['http.host eq 5', 14, 'http.host compares with a string ("…"), not a number'],
    ['len(http.host) eq "5"', 19, 'len(http.host) compares with a number, not a string'],
    ['len(http.host) contains "5"', 16, 'contains does not apply to len(http.host)'],
    ['ip.src eq "192.0.2.1"', 11, 'ip.src compares with an IP address, not a string'],
    ['ip.src eq 10.0.0.0/8', 11, 'a CIDR range compares only with in: ip.src in {10.0.0.0/8}'],
    ['ip.src lt 192.0.2.1', 8, 'lt does not apply to ip.src'],
    ['ip.src matches "1"', 8, 'matches does not apply to ip.src'],
    ['ip.src in {192.0.2.1 "a"}', 22, 'ip.src compares with IP addresses and CIDR ranges, not a string'],
    ['ip.src in {300.1.1.1}', 12, '300.1.1.1 at column 12 is not an IP address or CIDR range'],
    ['ip.src in {10.0.0.0/33}', 12, 'is not an IP address or CIDR range'],
    ['ip.src in {2001:db8::/129}', 12, 'is not an IP address or CIDR range'],
    ['ip.src in {1:2:3:4:5:6:7:8:9}', 12, 'is not an IP address'],
    ['ip.src in {192.0.2.9..192.0.2.4}', 12, 'ends before it starts'],
    ['ip.src in {192.0.2.4..::1}', 12, 'mixes IPv4 and IPv6'],
    ['http.host in {"a".."b"}', 15, 'ranges (a..b) are for numbers and IP addresses'],
    ['http.host in {"a" 1}', 19, 'http.host compares with strings ("…"), not a number'],
    ['len(http.host) in {5..3}', 20, 'ends before it starts'],
    ['len(http.host) eq 99999999999999999999', 19, 'too large'],
    ['http.request.headers eq "a"', 1, 'http.request.headers needs a header name: http.request.headers["name"]'],
    ['http.request.cookies eq "a"', 1, 'http.request.cookies needs a cookie name'],
    ['http.request.headers["X-Id"] eq "a"', 22, 'header names are lower-case: http.request.headers["x-id"]'],
    ['http.request.headers["a b"] eq "a"', 22, 'is not a header name'],
    ['http.request.cookies[""] eq "a"', 22, 'is not a cookie name'],
    ['http.host["a"] eq "x"', 11, 'http.host takes no ["…"]'],
    ['http.request.headers["a"][1] eq "x"', 27, 'only [0] (the first value)'],
    ['lower(ip.src) eq "x"', 7, 'lower() takes text; ip.src is an IP address'],
    ['len(len(http.host)) eq 1', 5, 'len() takes text; len(http.host) is a number'],
    ['starts_with(ip.src, "1")', 13, 'starts_with() takes text'],
    [String.raw`http.host eq "a\nb"`, 16, String.raw`unknown escape \n at column 16: a quoted string knows \" and \\; a raw string r"…" takes text as it is`],
    ['http.host wildcard "a**b"', 20, '** is not allowed in a wildcard'],
    [String.raw`http.host wildcard r"a\b"`, 20, String.raw`in a wildcard, \ escapes only * and \ `],
  ])('%s', (source, column, message) => {
    const error = refused(source);
    expect(error.column).toBe(column);
    expect(error.message).toContain(message.trim());
    expect(error.message).toContain(`column ${column}`);
  });
});

describe('regular expressions', () => {
  it.each([
    [String.raw`http.request.uri.path matches "(a)\1"`, 'uses a backreference, which needs backtracking'],
    [String.raw`http.request.uri.path matches r"(?P<x>a)\k<x>"`, 'is not valid'],
    ['http.request.uri.path matches "(?=a)b"', 'uses a lookaround'],
    ['http.request.uri.path matches "a(?!b)"', 'uses a lookaround'],
    ['http.request.uri.path matches "(?<=a)b"', 'uses a lookaround'],
    ['http.request.uri.path matches "(?<!a)b"', 'uses a lookaround'],
    ['http.request.uri.path matches "a++"', 'is not valid'],
    ['http.request.uri.path matches "(["', 'is not valid: missing closing ]'],
    ['http.request.uri.path matches "a{1001}"', 'invalid repeat count'],
    [`http.request.uri.path matches "${'a'.repeat(CONDITION_LIMITS.patternLength + 1)}"`, `longer than ${CONDITION_LIMITS.patternLength} characters`],
    [`http.request.uri.path matches "${'[a-z]{1000}'.repeat(6)}"`, 'too large once compiled (6002 steps, at most 5000)'],
  ])('%s is refused: %s', (source, message) => {
    const error = refused(source);
    expect(error.column).toBe(31);
    expect(error.message).toContain('the regular expression at column 31');
    expect(error.message).toContain(message);
  });

  it('a catastrophic pattern for a backtracking engine still returns', () => {
    const result = compileCondition('http.request.headers["x"] matches "(a+)+$" or http.request.headers["x"] matches "^(a|a)*b$"');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.test(view({ headers: { x: `${'a'.repeat(50_000)}!` } }))).toBe(false);
    expect(result.test(view({ headers: { x: 'a'.repeat(50_000) } }))).toBe(true);
  });
});

describe('hostile input', () => {
  it(`refuses a condition over ${CONDITION_LIMITS.length} characters`, () => {
    const long = `http.host eq "${'a'.repeat(CONDITION_LIMITS.length)}"`;
    expect(refused(long).message).toBe(`a condition is at most ${CONDITION_LIMITS.length} characters long (this one is ${long.length})`);
    expect(compileCondition(`http.host eq "${'a'.repeat(CONDITION_LIMITS.length - 15)}"`).ok).toBe(true);
  });

  it(`refuses parentheses nested over ${CONDITION_LIMITS.depth} deep, groups and calls alike`, () => {
    const nest = (depth: number) => `${'('.repeat(depth)}http.host eq "a"${')'.repeat(depth)}`;
    expect(compileCondition(nest(CONDITION_LIMITS.depth)).ok).toBe(true);
    expect(refused(nest(CONDITION_LIMITS.depth + 1))).toEqual({ column: CONDITION_LIMITS.depth + 1, message: `parentheses nest at most 32 deep (column 33)` });
    expect(refused(`${'lower('.repeat(40)}http.host${')'.repeat(40)} eq "a"`).message).toContain('nest at most');
    expect(refused('('.repeat(4000)).message).toContain('nest at most');
  });

  it('takes long runs of not and long chains of and without recursing on them', () => {
    const nots = `${'!'.repeat(4000)}http.host eq "shop.example.com"`;
    const chain = Array.from({ length: 150 }, () => 'http.host eq "shop.example.com"').join(' and ').slice(0, CONDITION_LIMITS.length - 40);
    const result = compileCondition(nots);
    expect(result.ok && result.test(view())).toBe(true);
    expect(compileCondition(chain.slice(0, chain.lastIndexOf(' and '))).ok).toBe(true);
  });

  it(`refuses a set of more than ${CONDITION_LIMITS.setItems} values`, () => {
    const set = (n: number) => `len(http.host) in {${Array.from({ length: n }, (_, i) => i % 10).join(' ')}}`;
    expect(compileCondition(set(CONDITION_LIMITS.setItems)).ok).toBe(true);
    expect(refused(set(CONDITION_LIMITS.setItems + 1)).message).toContain(`a set holds at most ${CONDITION_LIMITS.setItems} values`);
  });

  it('never throws on odd text', () => {
    for (const source of ['\u0000', '"', 'r', 'r#', 'r"', '((', '))', '{', '}', '[', ']', '..', ':', '::', '1.2.3.4', '\ud800', 'ip.src in {:}', 'ip.src in {::/}']) {
      expect(() => compileCondition(source)).not.toThrow();
      expect(compileCondition(source).ok).toBe(false);
    }
  });
});
