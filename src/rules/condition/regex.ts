import { RE2JS } from 're2js';
import { CONDITION_LIMITS } from './limits';
import { ConditionError, type StringNode } from './syntax';
import { patternText } from './text';

// `matches`: RE2's syntax and its guarantee, through re2js (a pure-JavaScript port of
// RE2 that builds automata, not code): matching time grows linearly with the input,
// whatever the pattern. What only a backtracking engine can do (backreferences,
// lookaround) is refused when the condition is compiled. Cloudflare uses Rust's regex
// crate, which makes the same choice. The match is partial, as Cloudflare's: anchor
// with ^ and $ to match a whole value.

/** A test for the regular expression `node`; an unsupported or oversized pattern is a ConditionError. */
export function compileRegex(node: StringNode): (value: string) => boolean {
  const pattern = patternText(node);
  const where = `the regular expression at column ${node.at + 1}`;
  if (pattern.length > CONDITION_LIMITS.patternLength) {
    throw new ConditionError(`${where} is longer than ${CONDITION_LIMITS.patternLength} characters`, node.at);
  }
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (error) {
    throw new ConditionError(`${where} ${problem(error)}`, node.at);
  }
  if (compiled.programSize() > CONDITION_LIMITS.programSize) {
    throw new ConditionError(`${where} is too large once compiled (${compiled.programSize()} steps, at most ${CONDITION_LIMITS.programSize})`, node.at);
  }
  return (value) => compiled.test(value);
}

function problem(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).replace(/^error parsing regexp: /, '');
  if (/invalid escape sequence: `\\[1-9]/.test(message)) {
    return 'uses a backreference, which needs backtracking: matching here is linear-time (RE2 syntax), without backreferences';
  }
  if (/`\(\?<?[=!]/.test(message)) {
    return 'uses a lookaround ((?=, (?!, (?<=, (?<!), which needs backtracking: matching here is linear-time (RE2 syntax), without lookaround';
  }
  return `is not valid: ${message}`;
}
