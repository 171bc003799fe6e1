import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

// The one error shape of SPEC §7, shared by every layer that answers a client:
// `{"error":{"code","message","issues"?}}`.

/** One problem with a document, addressed by its dotted path ("pools.0.origins.1.weight"). */
export interface Issue {
  path: string;
  message: string;
}

export interface LbErrorOptions {
  /** What is wrong with the request's document, field by field. */
  issues?: Issue[];
  /** Response headers the error carries (Retry-After, WWW-Authenticate). */
  headers?: Record<string, string>;
}

/** An error Switchyard itself answers with, thrown from anywhere below the app's onError. */
export class LbError extends HTTPException {
  readonly issues: Issue[] | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    options: LbErrorOptions = {},
  ) {
    super(status, { message });
    this.issues = options.issues;
    this.headers = options.headers;
  }

  override getResponse(): Response {
    return errorResponse(this.status as ContentfulStatusCode, this.code, this.message, this);
  }
}

export function errorResponse(status: ContentfulStatusCode, code: string, message: string, options: LbErrorOptions = {}): Response {
  const { issues, headers } = options;
  const body = JSON.stringify({ error: issues === undefined ? { code, message } : { code, message, issues } });
  return new Response(body, { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } });
}

/** An error nobody meant to throw: logged with where it happened, answered 500. */
export function internalErrorResponse(error: unknown, method: string, path: string): Response {
  console.error(`unhandled error on ${method} ${path}`, error);
  return errorResponse(500, 'internal_error', 'Switchyard failed to handle this request; see the Worker logs');
}
