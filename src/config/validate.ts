import type { Issue } from '../errors';
import { ConfigSchema, type Config } from './schema';

export type { Issue };

export type Validation = { ok: true; config: Config } | { ok: false; issues: Issue[] };

export function toIssues(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): Issue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

/** Validates a whole configuration document and fills in defaults. */
export function validateConfig(input: unknown): Validation {
  const result = ConfigSchema.safeParse(input);
  return result.success ? { ok: true, config: result.data } : { ok: false, issues: toIssues(result.error) };
}
