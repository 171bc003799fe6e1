import { ConditionError, type StringNode } from './syntax';

// Strings as Cloudflare's Rules language treats them: compared byte for byte (here,
// code point by code point, which orders the same as UTF-8 bytes), lower() only
// touching ASCII, len() counting UTF-8 bytes.

/**
 * A string literal's value where it is plain text (eq, contains, in, function
 * arguments, map keys): a quoted string knows `\"` and `\\`; a raw string has no
 * escapes at all.
 */
export function plainText(node: StringNode): string {
  if (node.raw || !node.text.includes('\\')) return node.text;
  let out = '';
  for (let i = 0; i < node.text.length; i++) {
    const char = node.text[i]!;
    if (char !== '\\') {
      out += char;
      continue;
    }
    const next = node.text[i + 1];
    if (next !== '"' && next !== '\\') {
      const offset = node.at + 1 + i;
      throw new ConditionError(
        `unknown escape \\${next ?? ''} at column ${offset + 1}: a quoted string knows \\" and \\\\; a raw string r"…" takes text as it is`,
        offset,
      );
    }
    out += next;
    i++;
  }
  return out;
}

/**
 * A string literal's text where the operand has escapes of its own (a regular
 * expression, a wildcard): only `\"` is undone, every other backslash is the
 * pattern's. A raw string is taken as it is.
 */
export function patternText(node: StringNode): string {
  if (node.raw || !node.text.includes('\\"')) return node.text;
  let out = '';
  for (let i = 0; i < node.text.length; i++) {
    const char = node.text[i]!;
    if (char === '\\' && i + 1 < node.text.length) {
      const next = node.text[++i]!;
      out += next === '"' ? '"' : char + next;
    } else {
      out += char;
    }
  }
  return out;
}

/** Cloudflare's lower(): ASCII upper-case letters only, everything else as it is. */
export function asciiLower(text: string): string {
  return /[A-Z]/.test(text) ? text.replace(/[A-Z]+/g, (run) => run.toLowerCase()) : text;
}

/** The length of `text` in UTF-8 bytes (a lone surrogate counts as U+FFFD's three). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit < 0xdc00 && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Orders two strings by code point, which is the order of their UTF-8 bytes. */
export function compareText(a: string, b: string): number {
  const shorter = Math.min(a.length, b.length);
  for (let i = 0; i < shorter; i++) {
    if (a.charCodeAt(i) !== b.charCodeAt(i)) return a.codePointAt(i)! - b.codePointAt(i)!;
  }
  return a.length - b.length;
}
