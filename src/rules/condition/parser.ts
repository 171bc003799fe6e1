import { EmbeddedActionsParser, EOF, type IParserErrorMessageProvider, type IToken, type TokenType } from 'chevrotain';
import { ConditionError, type ConditionNode, type LiteralNode, type Operator, type SetItemNode, type StringNode, type ValueNode } from './syntax';
import {
  ALL_TOKENS,
  And,
  Comma,
  Contains,
  DotDot,
  EndsWith,
  Eq,
  Ge,
  Gt,
  Identifier,
  In,
  Ipv4,
  Ipv6,
  LBrace,
  LBracket,
  Le,
  Len,
  Lower,
  LParen,
  Lt,
  Matches,
  Ne,
  Not,
  NumberLiteral,
  Or,
  QuotedString,
  RawString,
  True,
  False,
  RBrace,
  RBracket,
  RParen,
  StartsWith,
  Strict,
  Wildcard,
  Xor,
} from './tokens';

// The grammar, with Cloudflare's precedence: not binds tightest, then and, xor, or
// (developers.cloudflare.com/ruleset-engine/rules-language/operators/). Chains of
// and/or/xor and runs of `not` are loops, not recursion; only parentheses nest, and
// their depth is bounded before the parser runs.

/** What the parser expected, by rule; the caller adds where and after what. */
const EXPECTED: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected }) => `expected ${expected.LABEL ?? expected.name}`,
  buildNotAllInputParsedMessage: () => 'expected and, or, xor or the end of the condition',
  buildNoViableAltMessage: ({ ruleName }) => `expected ${RULE_EXPECTS[ruleName] ?? 'something else'}`,
  buildEarlyExitMessage: () => 'expected a value',
};

const RULE_EXPECTS: Record<string, string> = {
  primary: 'a condition (a comparison, starts_with(), ends_with(), true, false or a parenthesis)',
  value: 'a field',
  literal: 'a value',
  stringLiteral: 'a string',
};

const OPERATORS: [TokenType, Operator][] = [
  [Eq, 'eq'],
  [Ne, 'ne'],
  [Lt, 'lt'],
  [Le, 'le'],
  [Gt, 'gt'],
  [Ge, 'ge'],
  [Contains, 'contains'],
  [Matches, 'matches'],
  [Wildcard, 'wildcard'],
];

export class ConditionParser extends EmbeddedActionsParser {
  /** The text being parsed, for messages that quote it. */
  source = '';

  /** `validate` checks the grammar (ambiguities, left recursion); a test does, the Worker skips it to start faster. */
  constructor(validate = false) {
    super(ALL_TOKENS, { maxLookahead: 2, errorMessageProvider: EXPECTED, skipValidations: !validate });
    this.performSelfAnalysis();
  }

  readonly condition = this.RULE('condition', (): ConditionNode => this.SUBRULE(this.orExpression));

  private readonly orExpression = this.RULE('orExpression', () =>
    this.chain(Or, 'or', () => this.SUBRULE(this.xorExpression), () => this.SUBRULE2(this.xorExpression)),
  );
  private readonly xorExpression = this.RULE('xorExpression', () =>
    this.chain(Xor, 'xor', () => this.SUBRULE(this.andExpression), () => this.SUBRULE2(this.andExpression)),
  );
  private readonly andExpression = this.RULE('andExpression', () =>
    this.chain(And, 'and', () => this.SUBRULE(this.notExpression), () => this.SUBRULE2(this.notExpression)),
  );

  private readonly notExpression = this.RULE('notExpression', (): ConditionNode => {
    let count = 0;
    this.MANY(() => {
      this.CONSUME(Not);
      count++;
    });
    const item = this.SUBRULE(this.primary);
    // `not not x` is x: an odd run is one not.
    return this.ACTION(() => (count % 2 === 1 ? { kind: 'not', item } : item));
  });

  private readonly primary = this.RULE('primary', (): ConditionNode =>
    this.OR([
      {
        ALT: () => {
          this.CONSUME(LParen);
          const inner = this.SUBRULE(this.orExpression);
          this.CONSUME(RParen);
          return inner;
        },
      },
      { ALT: () => this.SUBRULE(this.call) },
      {
        ALT: () => {
          const word = this.OR2([{ ALT: () => this.CONSUME(True) }, { ALT: () => this.CONSUME(False) }]);
          return { kind: 'const' as const, value: word.image === 'true', at: word.startOffset };
        },
      },
      { ALT: () => this.SUBRULE(this.comparison) },
    ]),
  );

  /** starts_with(value, "x"), ends_with(value, "x"): the two functions that are conditions. */
  private readonly call = this.RULE('call', (): ConditionNode => {
    const name = this.OR([{ ALT: () => this.CONSUME(StartsWith) }, { ALT: () => this.CONSUME(EndsWith) }]);
    this.CONSUME(LParen);
    const value = this.SUBRULE(this.value);
    this.CONSUME(Comma);
    const arg = this.SUBRULE(this.stringLiteral);
    this.CONSUME(RParen);
    return this.ACTION(() => ({ kind: 'call', name: name.image === 'starts_with' ? 'starts_with' : 'ends_with', value, arg, at: name.startOffset }));
  });

  private readonly comparison = this.RULE('comparison', (): ConditionNode => {
    const value = this.SUBRULE(this.value);
    let made: ConditionNode | undefined;
    this.OPTION(() => {
      made = this.OR([
        {
          ALT: () => {
            const operator = this.SUBRULE(this.operator);
            const operand = this.SUBRULE(this.literal);
            return this.ACTION((): ConditionNode => ({ kind: 'compare', value, operator: operator.name, operand, at: operator.at }));
          },
        },
        {
          ALT: () => {
            const at = this.CONSUME(In).startOffset;
            this.CONSUME(LBrace);
            const items: SetItemNode[] = [];
            this.AT_LEAST_ONE(() => items.push(this.SUBRULE(this.setItem)));
            this.CONSUME(RBrace);
            return this.ACTION((): ConditionNode => ({ kind: 'in', value, items, at }));
          },
        },
      ]);
    });
    return this.ACTION(() => made ?? this.missingOperator(value));
  });

  /** A comparison operator but `in`, and where it stands. */
  private readonly operator = this.RULE('operator', (): { name: Operator; at: number } =>
    this.OR([
      ...OPERATORS.map(([token, name]) => ({ ALT: () => ({ name, at: this.CONSUME(token).startOffset }) })),
      {
        ALT: () => {
          const at = this.CONSUME(Strict).startOffset;
          this.CONSUME2(Wildcard);
          return { name: 'strict wildcard' as const, at };
        },
      },
    ]),
  );

  /** A field, `field["key"]`, `field["key"][0]`, lower(…) or len(…). */
  private readonly value = this.RULE('value', (): ValueNode =>
    this.OR([
      {
        ALT: () => {
          const name = this.CONSUME(Identifier);
          this.ACTION(() => {
            if (this.LA(1).tokenType === LParen) {
              throw new ConditionError(`unknown function ${name.image} at column ${name.startOffset + 1} (there are starts_with, ends_with, lower and len)`, name.startOffset);
            }
          });
          let key: StringNode | undefined;
          let index: LiteralNode | undefined;
          let end = endOf(name);
          this.OPTION(() => {
            this.CONSUME(LBracket);
            key = this.SUBRULE(this.stringLiteral);
            end = endOf(this.CONSUME(RBracket));
            this.OPTION2(() => {
              this.CONSUME2(LBracket);
              index = this.SUBRULE(this.literal);
              end = endOf(this.CONSUME2(RBracket));
            });
          });
          return this.ACTION((): ValueNode => ({ kind: 'field', name: name.image, key, index, at: name.startOffset, end }));
        },
      },
      {
        ALT: () => {
          const name = this.OR2([{ ALT: () => this.CONSUME(Lower) }, { ALT: () => this.CONSUME(Len) }]);
          this.CONSUME2(LParen);
          const arg = this.SUBRULE2(this.value);
          const end = endOf(this.CONSUME2(RParen));
          return this.ACTION((): ValueNode => ({ kind: 'function', name: name.image === 'lower' ? 'lower' : 'len', arg, at: name.startOffset, end }));
        },
      },
    ]),
  );

  private readonly setItem = this.RULE('setItem', (): SetItemNode => {
    const from = this.SUBRULE(this.literal);
    let to: LiteralNode | undefined;
    this.OPTION(() => {
      this.CONSUME(DotDot);
      to = this.SUBRULE2(this.literal);
    });
    return this.ACTION(() => (to === undefined ? from : { kind: 'range', from, to, at: from.at }));
  });

  private readonly literal = this.RULE('literal', (): LiteralNode =>
    this.OR([
      { ALT: () => this.SUBRULE(this.stringLiteral) },
      { ALT: () => this.literalOf(this.CONSUME(NumberLiteral), 'number') },
      { ALT: () => this.literalOf(this.CONSUME(Ipv4), 'ip') },
      { ALT: () => this.literalOf(this.CONSUME(Ipv6), 'ip') },
    ]),
  );

  private readonly stringLiteral = this.RULE('stringLiteral', (): StringNode =>
    this.OR([
      {
        ALT: () => {
          const token = this.CONSUME(QuotedString);
          return this.ACTION((): StringNode => ({ kind: 'string', text: token.image.slice(1, -1), raw: false, at: token.startOffset }));
        },
      },
      {
        ALT: () => {
          const token = this.CONSUME(RawString);
          return this.ACTION((): StringNode => {
            const hashes = token.image.indexOf('"') - 1;
            return { kind: 'string', text: token.image.slice(hashes + 2, token.image.length - hashes - 1), raw: true, at: token.startOffset };
          });
        },
      },
    ]),
  );

  private literalOf(token: IToken, kind: 'number' | 'ip'): LiteralNode {
    return this.ACTION(() => ({ kind, text: token.image, at: token.startOffset }));
  }

  /** `a op b op c …` as one node of all its parts. */
  private chain(separator: TokenType, kind: 'or' | 'xor' | 'and', first: () => ConditionNode, next: () => ConditionNode): ConditionNode {
    const items = [first()];
    this.MANY(() => {
      this.CONSUME(separator);
      items.push(next());
    });
    return this.ACTION(() => (items.length === 1 ? items[0]! : { kind, items }));
  }

  private missingOperator(value: ValueNode): never {
    const next = this.LA(1);
    const atEnd = next.tokenType === EOF;
    const offset = atEnd ? this.source.length : next.startOffset;
    const found = atEnd ? '' : `, found ${describeToken(next)}`;
    throw new ConditionError(`expected an operator after ${this.source.slice(value.at, value.end)} at column ${offset + 1}${found}`, offset);
  }
}

function endOf(token: IToken): number {
  return token.startOffset + token.image.length;
}

/** A token as a message quotes it: words as they are, punctuation in quotes, long strings cut. */
export function describeToken(token: IToken): string {
  const image = token.image.length > 32 ? `${token.image.slice(0, 29)}…` : token.image;
  return /^[\w."r#]/.test(image) ? image : `'${image}'`;
}

// Built on the first compile (chevrotain analyses the grammar once, tens of ms), so
// a configuration without rules never pays for it.
let built: ConditionParser | undefined;

/** The syntax tree of a tokenized condition; a syntax error is a ConditionError. */
export function parseTokens(source: string, tokens: IToken[]): ConditionNode {
  const parser = (built ??= new ConditionParser());
  parser.source = source;
  parser.input = tokens;
  const tree = parser.condition();
  const error = parser.errors[0];
  if (error === undefined) return tree;
  const token = error.token;
  const atEnd = token.tokenType === EOF;
  const offset = atEnd ? source.length : token.startOffset;
  const index = atEnd ? tokens.length : tokens.indexOf(token);
  const previous = index > 0 ? tokens[index - 1] : undefined;
  const after = previous === undefined ? '' : ` after ${describeToken(previous)}`;
  const found = atEnd ? '' : `, found ${describeToken(token)}`;
  throw new ConditionError(`${error.message}${after} at column ${offset + 1}${found}`, offset);
}
