// The HTTP side of lbctl: one admin API call with the bearer token, a JSON body and
// a timeout. It never decides what a status means; run.mjs does.

export const API_PREFIX = '/__lb/api';
export const DEFAULT_TIMEOUT_MS = 10_000;

/** The server could not be reached at all (refused, reset, DNS, timeout). Exit code 3. */
export class UnreachableError extends Error {
  /** @param {string} url @param {string} reason */
  constructor(url, reason) {
    super(`cannot reach ${url}: ${reason}`);
    this.name = 'UnreachableError';
    this.url = url;
    this.reason = reason;
  }
}

/**
 * The URL of an admin API call.
 * @param {string} baseUrl e.g. http://127.0.0.1:8787 (a trailing slash is fine)
 * @param {string} path e.g. /pools/eu
 * @param {Record<string, string | string[]> | undefined} [query] a list is sent as the parameter repeated
 */
export function apiUrl(baseUrl, path, query) {
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}${API_PREFIX}${path}`);
  for (const [key, value] of Object.entries(query ?? {})) {
    for (const one of Array.isArray(value) ? value : [value]) url.searchParams.append(key, one);
  }
  return url.toString();
}

/**
 * Why fetch() failed, as a person would say it ("connect ECONNREFUSED 127.0.0.1:8787").
 * @param {any} error whatever fetch() threw
 * @param {number} [timeoutMs]
 * @returns {string}
 */
export function networkReason(error, timeoutMs = DEFAULT_TIMEOUT_MS) {
  if (error?.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  // undici wraps the socket error: TypeError('fetch failed', { cause }).
  let cause = error?.cause ?? error;
  if (cause instanceof AggregateError && cause.errors?.length > 0) cause = cause.errors[0];
  if (typeof cause?.message === 'string' && cause.message !== '') return cause.message;
  if (typeof cause?.code === 'string') return cause.code;
  return String(error?.message ?? error);
}

/**
 * @typedef {object} ApiResponse
 * @property {number} status
 * @property {boolean} ok
 * @property {any} json the parsed body, undefined when it is not JSON
 * @property {string} text the raw body
 * @property {string | undefined} etag the ETag header: what If-Match sends back to change what was read
 */

/**
 * Makes one admin API call. Resolves with any HTTP answer (2xx or not); rejects with
 * UnreachableError when there is none.
 * @param {{ url: string, token: string, fetch?: typeof fetch, timeoutMs?: number }} target
 * @param {{ method: string, path: string, query?: Record<string, string | string[]>, body?: string, ifMatch?: string }} call
 * @returns {Promise<ApiResponse>}
 */
export async function callApi(target, call) {
  const timeoutMs = target.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${target.token}`, accept: 'application/json' };
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  if (call.ifMatch !== undefined) headers['if-match'] = call.ifMatch;
  const doFetch = target.fetch ?? fetch;
  let res;
  let text;
  try {
    res = await doFetch(apiUrl(target.url, call.path, call.query), {
      method: call.method,
      headers,
      body: call.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (error) {
    throw new UnreachableError(target.url, networkReason(error, timeoutMs));
  }
  let json;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, ok: res.ok, json, text, etag: res.headers.get('etag') ?? undefined };
}
