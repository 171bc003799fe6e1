import { createMiddleware } from 'hono/factory';
import { timingSafeEqual } from 'hono/utils/buffer';
import { settings, type Env } from '../env';
import { LbError } from '../errors';

// Admin authentication (SPEC §7): `Authorization: Bearer <ADMIN_TOKEN>`, where the token
// is any printable ASCII without spaces. hono's bearerAuth only takes RFC 6750 token68
// (letters, digits and -._~+/=), so a secret such as `p@ss:w0rd!$#` could never sign in.

/** A token as this API takes it: one or more printable ASCII characters, no space (0x21–0x7E). */
const TOKEN = /^[\x21-\x7e]+$/;

/** `Bearer <token>`, the scheme in any case, one or more spaces after it (RFC 7235 `1*SP`). */
const BEARER = /^bearer +([\x21-\x7e]+)$/i;

/**
 * Why a configured ADMIN_TOKEN can never be sent as `Bearer <token>`, or undefined when
 * it can. Says which kind of character is wrong, never where: the answer is public.
 */
export function adminTokenProblem(token: string): string | undefined {
  if (TOKEN.test(token)) return undefined;
  const kinds: string[] = [];
  if (/^\s|\s$/.test(token)) kinds.push('leading or trailing whitespace (was the secret stored with a newline?)');
  if (/\S\s+\S/.test(token)) kinds.push('a space or other whitespace inside it');
  if (/[\x00-\x08\x0e-\x1f\x7f]/.test(token)) kinds.push('a control character');
  if (/[^\x00-\x7f]/.test(token)) kinds.push('a non-ASCII character');
  return `ADMIN_TOKEN holds ${kinds.join(' and ')}; a token is printable ASCII without spaces (0x21-0x7E), so none can match it`;
}

/**
 * Without an ADMIN_TOKEN secret the admin API is off (503) while proxying goes on; with
 * one that no Authorization header could carry, it is off too, and the message says why.
 */
export const adminEnabled = createMiddleware<{ Bindings: Env }>(async function adminEnabled(c, next) {
  const token = settings(c.env).adminToken;
  if (token === undefined) {
    throw new LbError(503, 'admin_disabled', 'the admin API is disabled: set the ADMIN_TOKEN secret (wrangler secret put ADMIN_TOKEN, or .dev.vars locally)');
  }
  const problem = adminTokenProblem(token);
  if (problem !== undefined) throw new LbError(503, 'admin_disabled', `the admin API is disabled: ${problem}; set it again`);
  await next();
});

const unauthorized = (message: string, error?: 'invalid_request' | 'invalid_token') =>
  new LbError(401, 'unauthorized', message, {
    headers: { 'www-authenticate': `Bearer realm="switchyard"${error === undefined ? '' : `, error="${error}"`}` },
  });

/** `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time; 401 with WWW-Authenticate otherwise. */
export const adminAuth = createMiddleware<{ Bindings: Env }>(async function adminAuth(c, next) {
  const header = c.req.header('authorization');
  if (header === undefined || header === '') throw unauthorized('missing Authorization: Bearer <token> header');
  const sent = BEARER.exec(header)?.[1];
  if (sent === undefined) {
    throw unauthorized('malformed Authorization header: expected Bearer <token>, the token printable ASCII without spaces', 'invalid_request');
  }
  // adminEnabled ran first: the token is set.
  if (!(await timingSafeEqual(settings(c.env).adminToken ?? '', sent))) throw unauthorized('invalid token', 'invalid_token');
  await next();
});
