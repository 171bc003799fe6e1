import { token } from './auth';
import type { ErrorBody, Issue } from './types';

// Every call to the admin API, and the one error shape it answers with: code, message
// and, for a refused body, the issues with their paths.

const API = '/__lb/api';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues: Issue[];
  /** Set once the dashboard has reacted for everyone (a 401 signs out, a 503 admin_disabled says so). */
  handled = false;

  constructor(status: number, body: ErrorBody | null) {
    const error = body?.error ?? {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || `http_${status}`;
    this.issues = Array.isArray(error.issues) ? (error.issues as Issue[]) : [];
  }
}

/** Whether the dashboard already showed what `err` means (the sign-in form, the switched-off notice). */
export function handled(err: unknown): boolean {
  return err instanceof ApiError && err.handled;
}

/** One line for an error: `404 not_found: …` for the API's, the message for any other. */
export function describe(err: unknown): string {
  if (err instanceof ApiError) return `${err.status ? `${err.status} ` : ''}${err.code}: ${err.message}`;
  if (err !== null && typeof err === 'object' && 'message' in err) return String(err.message);
  return String(err);
}

/** What ends every call, whoever made it: a refused token (401) or no token set at all (503 admin_disabled). */
export type Refusal = (err: ApiError) => void;

export class AdminApi {
  readonly #refused: Refusal;

  constructor(refused: Refusal) {
    this.#refused = refused;
  }

  /** The JSON answer of a 2xx; anything else throws an ApiError. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: 'Bearer ' + (token() ?? '') };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(API + path, { method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(0, { error: { code: 'network_error', message: `Switchyard did not answer (${describe(e)})` } });
    }
    const text = await res.text();
    let data: unknown = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (res.ok) return data as T;
    const shaped = data !== null && typeof data === 'object' && 'error' in data;
    const err = new ApiError(res.status, shaped ? (data as ErrorBody) : { error: { code: `http_${res.status}`, message: text.slice(0, 200) || res.statusText } });
    if (res.status === 401 || (res.status === 503 && err.code === 'admin_disabled')) {
      err.handled = true;
      this.#refused(err);
    }
    throw err;
  }
}
