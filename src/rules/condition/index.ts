import type { IToken } from 'chevrotain';
import { ConditionCompiler } from './compile';
import type { FieldName, RequestView } from './fields';
import { CONDITION_LIMITS } from './limits';
import { parseTokens } from './parser';
import { ConditionError } from './syntax';
import { LParen, RParen, tokenize } from './tokens';

// The condition of a load balancer rule (SPEC §9), in the subset of Cloudflare's Rules
// language that Switchyard reads, turned into a predicate once per snapshot. Pure: no
// I/O, nothing compiled from text at run time (workerd forbids it), so it runs the
// same in Node and in the Worker.
//
// Semantics, as Cloudflare documents them where it does so:
// - precedence: not, then and, then xor, then or; English operators are lower-case;
// - a missing value (an absent header or cookie, an unknown country, continent or
//   colo, an ip that is not an address) makes every comparison false, `ne` and `in`
//   included; lower() and len() of it are missing too (len is not 0), and
//   starts_with()/ends_with() of it are false; `not` inverts such a false;
// - text compares case-sensitively, by code point (the order of UTF-8 bytes);
//   `wildcard` folds ASCII case, `strict wildcard` does not; lower() folds ASCII only;
//   len() counts UTF-8 bytes;
// - `matches` is a partial match in RE2 syntax; anchor it with ^ and $;
// - a quoted string knows \" and \\; as the operand of matches or wildcard it keeps
//   every other backslash for the pattern; r"…" and r#"…"# take text as it is;
// - no field here is boolean, so a field alone is an error ("expected an operator");
// - http.request.headers["name"] and http.request.cookies["name"] are the value (an
//   optional [0] reads the same); header names are written lower-case;
// - columns in errors are 1-based and counted from the first character, line breaks
//   included.

export { CONDITION_LIMITS } from './limits';
export { FIELDS, type FieldName, type RequestView } from './fields';

/** Whether a request matches. Never throws: a failure inside counts as no match. */
export type CompiledCondition = (request: RequestView) => boolean;

export type ConditionResult =
  | { ok: true; test: CompiledCondition; fields: ReadonlySet<FieldName> }
  /** `column` is 1-based, counted from the condition's first character; `message` says it too. */
  | { ok: false; message: string; column: number };

/**
 * Parses, checks and compiles `source`. Never throws: a condition that is too long,
 * nested too deep, misspelt or ill-typed gives `ok: false` with a message that names
 * the column.
 */
export function compileCondition(source: string): ConditionResult {
  try {
    if (source.length > CONDITION_LIMITS.length) {
      throw new ConditionError(`a condition is at most ${CONDITION_LIMITS.length} characters long (this one is ${source.length})`, CONDITION_LIMITS.length);
    }
    if (source.trim() === '') throw new ConditionError('the condition is empty', 0);
    const tokens = tokenize(source);
    checkDepth(tokens);
    const compiler = new ConditionCompiler(source);
    const test = compiler.condition(parseTokens(source, tokens));
    const guarded: CompiledCondition = (request) => {
      try {
        return test(request);
      } catch {
        return false;
      }
    };
    return { ok: true, test: guarded, fields: compiler.fields };
  } catch (error) {
    if (error instanceof ConditionError) return { ok: false, message: error.message, column: error.offset + 1 };
    // Nothing above should throw anything else; if it does, the condition is refused, not the caller.
    return { ok: false, message: `the condition could not be compiled (${error instanceof Error ? error.message : String(error)})`, column: 1 };
  }
}

/** Parentheses (groups and calls) are what nests: bounded before the recursive parser sees them. */
function checkDepth(tokens: IToken[]): void {
  let depth = 0;
  for (const token of tokens) {
    if (token.tokenType === LParen && ++depth > CONDITION_LIMITS.depth) {
      throw new ConditionError(`parentheses nest at most ${CONDITION_LIMITS.depth} deep (column ${token.startOffset + 1})`, token.startOffset);
    }
    if (token.tokenType === RParen) depth = Math.max(0, depth - 1);
  }
}
