import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Issue } from '../config/validate';

/** An error Switchyard itself answers with: `{"error":{"code","message","issues"?}}`. */
export class LbError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly issues?: Issue[],
    readonly headers?: Record<string, string>,
  ) {
    super(status, { message });
  }

  override getResponse(): Response {
    return errorResponse(this.status as ContentfulStatusCode, this.code, this.message, this.issues, this.headers);
  }
}

export function errorResponse(
  status: ContentfulStatusCode,
  code: string,
  message: string,
  issues?: Issue[],
  headers?: Record<string, string>,
): Response {
  const body = JSON.stringify({ error: issues === undefined ? { code, message } : { code, message, issues } });
  return new Response(body, { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } });
}
