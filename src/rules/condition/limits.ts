/**
 * Bounds on a condition, so a hostile configuration costs little to compile and to
 * evaluate. The length is Cloudflare's own limit for a rule expression.
 */
export const CONDITION_LIMITS = {
  /** Characters in a condition. */
  length: 4096,
  /** Parentheses (groups and function calls) open at once. */
  depth: 32,
  /** Values in one `in {…}` set. */
  setItems: 512,
  /** Characters in one regular expression. */
  patternLength: 1024,
  /** Instructions of one compiled regular expression (re2js's programSize()). */
  programSize: 5000,
} as const;
