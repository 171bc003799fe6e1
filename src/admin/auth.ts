import { bearerAuth } from 'hono/bearer-auth';
import { createMiddleware } from 'hono/factory';
import { timingSafeEqual } from 'hono/utils/buffer';
import { settings, type Env } from '../env';
import { errorResponse, LbError } from '../proxy/errors';

/** Without an ADMIN_TOKEN secret the admin API is off (503) while proxying goes on. */
export const adminEnabled = createMiddleware<{ Bindings: Env }>(async function adminEnabled(c, next) {
  if (settings(c.env).adminToken === undefined) {
    throw new LbError(503, 'admin_disabled', 'the admin API is disabled: set the ADMIN_TOKEN secret (wrangler secret put ADMIN_TOKEN, or .dev.vars locally)');
  }
  await next();
});

const unauthorized = (message: string) => () => errorResponse(401, 'unauthorized', message);

/** `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time; 401 with WWW-Authenticate otherwise. */
export const adminAuth = bearerAuth({
  realm: 'switchyard',
  verifyToken: (token, c) => timingSafeEqual(settings(c.env as Env).adminToken ?? '', token),
  noAuthenticationHeader: { message: unauthorized('missing Authorization: Bearer <token> header') },
  invalidAuthenticationHeader: {
    message: unauthorized('malformed Authorization header: expected Bearer <token>'),
    wwwAuthenticateHeader: 'Bearer realm="switchyard", error="invalid_request"',
  },
  invalidToken: { message: unauthorized('invalid token') },
});
