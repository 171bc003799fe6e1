import { createToken, Lexer, type CustomPatternMatcherReturn, type IToken, type TokenType } from 'chevrotain';
import { ConditionError } from './syntax';

// The words of the condition language. The lexer is chevrotain's: plain regular
// expressions and one matcher function, nothing compiled from text at run time.
// Order matters: the first pattern that matches wins, so longer spellings come
// first, and keywords give way to a longer field name (`index.x` is not `in`).

const Identifier = createToken({ name: 'Identifier', label: 'a field', pattern: /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/ });

/** A word of the language, labelled by its English spelling (`eq` for `eq|==`). */
function keyword(name: string, pattern: RegExp): TokenType {
  return createToken({ name, pattern, label: pattern.source.split('|')[0], longer_alt: Identifier });
}

export const StartsWith = keyword('StartsWith', /starts_with/);
export const EndsWith = keyword('EndsWith', /ends_with/);
export const Lower = keyword('Lower', /lower/);
export const Len = keyword('Len', /len/);
export const Eq = keyword('Eq', /eq|==/);
export const Ne = keyword('Ne', /ne|!=/);
export const Le = keyword('Le', /le|<=/);
export const Lt = keyword('Lt', /lt|</);
export const Ge = keyword('Ge', /ge|>=/);
export const Gt = keyword('Gt', /gt|>/);
export const Contains = keyword('Contains', /contains/);
export const Matches = keyword('Matches', /matches|~/);
export const Wildcard = keyword('Wildcard', /wildcard/);
export const Strict = keyword('Strict', /strict/);
export const In = keyword('In', /in/);
export const And = keyword('And', /and|&&/);
export const Or = keyword('Or', /or|\|\|/);
export const Xor = keyword('Xor', /xor|\^\^/);
export const Not = keyword('Not', /not|!/);
/** `true` and `false`: a rule for every request is `true`, as in Cloudflare's rules. */
export const True = keyword('True', /true/);
export const False = keyword('False', /false/);

export const LParen = createToken({ name: 'LParen', pattern: /\(/, label: "'('" });
export const RParen = createToken({ name: 'RParen', pattern: /\)/, label: "')'" });
export const LBrace = createToken({ name: 'LBrace', pattern: /\{/, label: "'{'" });
export const RBrace = createToken({ name: 'RBrace', pattern: /\}/, label: "'}'" });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/, label: "'['" });
export const RBracket = createToken({ name: 'RBracket', pattern: /\]/, label: "']'" });
export const Comma = createToken({ name: 'Comma', pattern: /,/, label: "','" });
export const DotDot = createToken({ name: 'DotDot', pattern: /\.\./, label: "'..'" });

/** `"…"` with `\"` and `\\` (and, for regular expressions, the pattern's own escapes). */
export const QuotedString = createToken({ name: 'QuotedString', label: 'a string', pattern: /"(?:[^"\\]|\\[\s\S])*"/, line_breaks: true });

/** Cloudflare's raw string: r"…", or r#"…"# with up to 255 #, nothing escaped inside. */
export const RawString = createToken({
  name: 'RawString',
  label: 'a string',
  line_breaks: true,
  start_chars_hint: ['r'],
  pattern: {
    exec(text: string, offset: number): CustomPatternMatcherReturn | null {
      if (text[offset] !== 'r') return null;
      let quote = offset + 1;
      while (text[quote] === '#' && quote - offset <= 255) quote++;
      if (text[quote] !== '"') return null;
      const closing = `"${'#'.repeat(quote - offset - 1)}`;
      const end = text.indexOf(closing, quote + 1);
      return end < 0 ? null : [text.slice(offset, end + closing.length)];
    },
  },
});

export const Ipv6 = createToken({
  name: 'Ipv6',
  label: 'an IP address',
  // Loose on purpose (any number of groups): ipaddr.js decides what is an address.
  pattern: /(?:[0-9A-Fa-f]{0,4}:)+(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4})(?:\/\d{1,3})?/,
});
export const Ipv4 = createToken({ name: 'Ipv4', label: 'an IP address', pattern: /\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,3})?/ });
export const NumberLiteral = createToken({ name: 'NumberLiteral', label: 'a number', pattern: /\d+/ });

const Whitespace = createToken({ name: 'Whitespace', pattern: /\s+/, group: Lexer.SKIPPED, line_breaks: true });

export { Identifier };

export const ALL_TOKENS: TokenType[] = [
  Whitespace,
  RawString,
  QuotedString,
  Ipv6,
  Ipv4,
  NumberLiteral,
  DotDot,
  StartsWith,
  EndsWith,
  Lower,
  Len,
  Eq,
  Ne,
  Le,
  Lt,
  Ge,
  Gt,
  Contains,
  Matches,
  Wildcard,
  Strict,
  In,
  And,
  Or,
  Xor,
  Not,
  True,
  False,
  Identifier,
  LParen,
  RParen,
  LBrace,
  RBrace,
  LBracket,
  RBracket,
  Comma,
];

/**
 * The lexer. `validate` checks the token definitions (and that chevrotain can index
 * them by first character); a test does, the Worker skips it to start faster.
 */
export function conditionLexer(validate = false): Lexer {
  return new Lexer(ALL_TOKENS, { positionTracking: 'onlyOffset', skipValidations: !validate, ensureOptimizations: validate });
}

// Built when the module loads, so the isolate's startup pays for it, not a request.
const LEXER = conditionLexer();

/** The condition's tokens; a character no token starts with is a ConditionError. */
export function tokenize(source: string): IToken[] {
  const result = LEXER.tokenize(source);
  const first = result.errors[0];
  if (first !== undefined) {
    const char = source[first.offset];
    // r#"… that never closes: the lexer took the r for a field and stopped at the #.
    const before = result.tokens.findLast((token) => token.startOffset < first.offset);
    const raw = before?.image === 'r' && before.startOffset === first.offset - 1 && /^#*"/.test(source.slice(first.offset, first.offset + 257));
    if (raw || char === '"') {
      const start = raw ? first.offset - 1 : first.offset;
      throw new ConditionError(`the string starting at column ${start + 1} has no closing quote`, start);
    }
    throw new ConditionError(`unexpected character ${JSON.stringify(char)} at column ${first.offset + 1}`, first.offset);
  }
  return result.tokens;
}
