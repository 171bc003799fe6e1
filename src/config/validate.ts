import type { Issue } from '../errors';
import { ConfigSchema, type Config } from './schema';

export type { Issue };

export type Validation = { ok: true; config: Config } | { ok: false; issues: Issue[] };

export function toIssues(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): Issue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

/** At most this many issues are listed; a last one counts the rest. */
const MAX_ISSUES = 100;

/** Validates a whole configuration document and fills in defaults. */
export function validateConfig(input: unknown): Validation {
  let result: ReturnType<typeof ConfigSchema.safeParse>;
  try {
    result = ConfigSchema.safeParse(input);
  } catch (error) {
    // Collecting a hundred thousand issues overflows the validator's stack.
    if (!(error instanceof RangeError)) throw error;
    return { ok: false, issues: [{ path: '', message: 'the document has too many problems to list, or nests too deep' }] };
  }
  return result.success ? { ok: true, config: result.data } : { ok: false, issues: capIssues(toIssues(result.error)) };
}

/** The first MAX_ISSUES issues, and a last one that counts the rest: an answer stays small whatever the body. */
export function capIssues(issues: Issue[]): Issue[] {
  if (issues.length <= MAX_ISSUES) return issues;
  return [...issues.slice(0, MAX_ISSUES), { path: '', message: `and ${issues.length - MAX_ISSUES} more problems` }];
}
