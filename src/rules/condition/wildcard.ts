import { ConditionError, type StringNode } from './syntax';
import { asciiLower, patternText } from './text';

// Cloudflare's `wildcard` (case-insensitive) and `strict wildcard`: the whole value
// must match; `*` stands for any run of characters, empty included; `\*` is a literal
// star and `\\` a backslash; `**` is refused, as Cloudflare refuses it. Matching is
// a prefix, a suffix and the pieces between found left to right: no backtracking.

/** A matcher for the wildcard pattern `node`; case-insensitive unless `strict`. */
export function compileWildcard(node: StringNode, strict: boolean): (value: string) => boolean {
  const text = patternText(node);
  const pieces: string[] = [''];
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === '*') {
      if (text[i + 1] === '*') throw wildcardError(node, `** is not allowed in a wildcard (write one *)`);
      pieces.push('');
    } else if (char === '\\') {
      const next = text[i + 1];
      if (next !== '*' && next !== '\\') throw wildcardError(node, 'in a wildcard, \\ escapes only * and \\ (write \\\\ for a backslash)');
      pieces[pieces.length - 1] += next;
      i++;
    } else {
      pieces[pieces.length - 1] += char;
    }
  }
  const fold = strict ? (value: string) => value : asciiLower;
  const parts = pieces.map(fold);
  if (parts.length === 1) {
    const only = parts[0]!;
    return (value) => fold(value) === only;
  }
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1);
  const fixed = first.length + last.length;
  return (raw) => {
    const value = fold(raw);
    if (value.length < fixed || !value.startsWith(first) || !value.endsWith(last)) return false;
    let from = first.length;
    const until = value.length - last.length;
    for (const part of middle) {
      const found = value.indexOf(part, from);
      if (found < 0 || found + part.length > until) return false;
      from = found + part.length;
    }
    return true;
  };
}

function wildcardError(node: StringNode, problem: string): ConditionError {
  return new ConditionError(`the wildcard at column ${node.at + 1}: ${problem}`, node.at);
}
