import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileCondition, CONDITION_LIMITS, type RequestView } from '../../src/rules/condition';

// Properties of the compiler over generated input: any text at all compiles or is
// refused with a column, never a throw; any condition built from the grammar compiles,
// and evaluates without throwing, `not C` always the opposite of C (a failure hidden
// inside evaluation would make both false).

const WORDS = [
  'http.host', 'http.request.uri.path', 'ip.src', 'http.request.headers["a"]', 'lower(', 'len(', 'starts_with(', 'ends_with(',
  'eq', '==', 'ne', '!=', 'lt', '<', 'le', '<=', 'gt', '>', 'ge', '>=', 'contains', 'matches', '~', 'wildcard', 'strict', 'in',
  'not', '!', 'and', '&&', 'or', '||', 'xor', '^^', '(', ')', '{', '}', '[', ']', ',', '..', '"a"', 'r#"b"#', '"\\"', '"(a+)+$"',
  '10.0.0.0/8', '::1', '2001:db8::/32', '42', '0', '"*"', '"**"', 'r"', '\\',
];

describe('compileCondition on any text', () => {
  const check = (source: string) => {
    const result = compileCondition(source);
    if (!result.ok) {
      expect(result.message.length).toBeGreaterThan(0);
      expect(result.column).toBeGreaterThanOrEqual(1);
      expect(result.column).toBeLessThanOrEqual(Math.max(source.length, CONDITION_LIMITS.length) + 1);
    }
  };

  it('never throws on random strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200, unit: 'binary' }), check), { numRuns: 2000 });
  });

  it('never throws on random sequences of the language’s own words', () => {
    const soup = fc.array(fc.constantFrom(...WORDS), { maxLength: 30 }).chain((words) =>
      fc.array(fc.constantFrom(' ', '', '\n'), { minLength: words.length, maxLength: words.length }).map((gaps) => words.map((w, i) => w + gaps[i]).join('')),
    );
    fc.assert(fc.property(soup, check), { numRuns: 3000 });
  });
});

/** A string literal for any text: quoted with escapes, or raw when it can be. */
const stringLiteral = fc
  .tuple(fc.string({ maxLength: 12 }), fc.boolean())
  .map(([text, raw]) => (raw && !text.includes('"#') ? `r#"${text}"#` : `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`));

const textValue: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('http.host', 'http.request.method', 'http.request.uri', 'http.request.uri.path', 'http.request.uri.query', 'http.request.full_uri', 'http.cookie', 'ip.src.country', 'ip.src.continent', 'cf.colo.name', 'cf.load_balancer.name'),
    fc.constantFrom('a', 'x-id', 'cookie').map((name) => `http.request.headers["${name}"]`),
    fc.constantFrom('a', 'session').map((name) => `http.request.cookies["${name}"][0]`),
    tie('value').map((inner) => `lower(${inner})`),
  ),
})).value;

const regex = fc.constantFrom('^/api', '(a+)+$', '(?i)shop', '[[:digit:]]{2,}', '\\.html$', '^$', '.*', 'é|😀');
const wildcard = fc.array(fc.stringMatching(/^[a-z/.é]{0,3}$/), { minLength: 1, maxLength: 4 }).map((parts) => parts.join('*')).filter((p) => !p.includes('**'));
const ipv4Number = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const ipv4 = (n: number) => [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');

const textComparison = fc.oneof(
  fc.tuple(textValue, fc.constantFrom('eq', '==', 'ne', '!=', 'lt', '<', 'le', '<=', 'gt', '>', 'ge', '>=', 'contains'), stringLiteral).map((p) => p.join(' ')),
  fc.tuple(textValue, fc.constantFrom('matches', '~'), regex).map(([v, op, r]) => `${v} ${op} r"${r}"`),
  fc.tuple(textValue, fc.constantFrom('wildcard', 'strict wildcard'), wildcard).map(([v, op, w]) => `${v} ${op} "${w}"`),
  fc.tuple(textValue, fc.array(stringLiteral, { minLength: 1, maxLength: 4 })).map(([v, items]) => `${v} in {${items.join(' ')}}`),
  fc.tuple(fc.constantFrom('starts_with', 'ends_with'), textValue, stringLiteral).map(([fn, v, s]) => `${fn}(${v}, ${s})`),
);

const numberComparison = fc.oneof(
  fc.tuple(textValue, fc.constantFrom('eq', 'ne', 'lt', 'le', 'gt', 'ge', '<', '>='), fc.nat(200)).map(([v, op, n]) => `len(${v}) ${op} ${n}`),
  fc.tuple(textValue, fc.array(fc.tuple(fc.nat(50), fc.nat(50), fc.boolean()), { minLength: 1, maxLength: 4 })).map(
    ([v, items]) => `len(${v}) in {${items.map(([a, b, range]) => (range ? `${Math.min(a, b)}..${Math.max(a, b)}` : `${a}`)).join(' ')}}`,
  ),
);

const ipItem = fc.oneof(
  ipv4Number.map(ipv4),
  fc.ipV6(),
  fc.tuple(ipv4Number, fc.integer({ min: 0, max: 32 })).map(([n, bits]) => `${ipv4(n)}/${bits}`),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([a, bits]) => `${a}/${bits}`),
  fc.tuple(ipv4Number, ipv4Number).map(([a, b]) => `${ipv4(Math.min(a, b))}..${ipv4(Math.max(a, b))}`),
);
const ipComparison = fc.oneof(
  fc.tuple(fc.constantFrom('eq', 'ne', '==', '!='), fc.oneof(ipv4Number.map(ipv4), fc.ipV6())).map(([op, a]) => `ip.src ${op} ${a}`),
  fc.array(ipItem, { minLength: 1, maxLength: 5 }).map((items) => `ip.src in {${items.join(' ')}}`),
);

const condition: fc.Arbitrary<string> = fc.letrec<{ condition: string }>((tie) => ({
  condition: fc.oneof(
    { maxDepth: 4, depthSize: 'small' },
    textComparison,
    numberComparison,
    ipComparison,
    fc.tuple(fc.constantFrom('not ', '!', 'not not '), tie('condition')).map(([not, c]) => not + c),
    fc.tuple(tie('condition'), fc.constantFrom('and', '&&', 'or', '||', 'xor', '^^'), tie('condition')).map((p) => p.join(' ')),
    tie('condition').map((c) => `(${c})`),
  ),
})).condition;

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const address = fc.oneof(ipv4Number.map(ipv4), fc.ipV6(), fc.constantFrom('', 'garbage', '::ffff:10.0.0.1'));
const request: fc.Arbitrary<RequestView> = fc
  .record({
    host: fc.string({ maxLength: 20 }),
    method: fc.constantFrom('GET', 'POST'),
    uri: fc.string({ maxLength: 30 }),
    path: fc.string({ maxLength: 30 }),
    query: fc.string({ maxLength: 10 }),
    fullUri: fc.string({ maxLength: 40 }),
    headers: fc.dictionary(fc.constantFrom('a', 'x-id', 'cookie'), fc.string({ maxLength: 20, unit: 'binary' })),
    cookies: fc.dictionary(fc.constantFrom('a', 'session'), fc.string({ maxLength: 10 })),
    cookieHeader: fc.string({ maxLength: 20 }),
    ip: address,
    country: optional(fc.constantFrom('DE', 'BR', 'US')),
    continent: optional(fc.constantFrom('EU', 'SA', 'NA')),
    colo: optional(fc.constantFrom('FRA', 'GRU')),
    loadBalancer: fc.string({ maxLength: 10 }),
  })
  .map(({ headers, cookies, ...rest }) => ({ ...rest, header: (name: string) => headers[name], cookie: (name: string) => cookies[name] }));

describe('compileCondition on conditions built from the grammar', () => {
  it('compiles them, and evaluates them without throwing, not C the opposite of C', () => {
    fc.assert(
      fc.property(condition, fc.array(request, { minLength: 1, maxLength: 3 }), (source, requests) => {
        fc.pre(source.length <= CONDITION_LIMITS.length - 10);
        const result = compileCondition(source);
        const negated = compileCondition(`not (${source})`);
        if (!result.ok || !negated.ok) throw new Error(`${source}: ${result.ok ? '' : result.message}`);
        for (const view of requests) {
          const value = result.test(view);
          expect(typeof value).toBe('boolean');
          expect(negated.test(view)).toBe(!value);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
