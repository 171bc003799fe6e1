import { zValidator } from '@hono/zod-validator';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { ConfigSchema } from '../config/schema';
import { toIssues } from '../config/validate';
import { adoptSnapshot, controlPlane } from '../control/snapshot-cache';
import type { Env } from '../env';
import { LbError } from '../proxy/errors';
import { adminAuth, adminEnabled } from './auth';

// The admin API under /__lb/api (SPEC §7). Routes stay thin: validate, call the
// control plane, answer.

export const MAX_BODY_BYTES = 1024 * 1024;

const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new LbError(413, 'payload_too_large', `request body over ${MAX_BODY_BYTES} bytes`);
  },
});

/** A JSON body is required: without this, a non-JSON content type would validate as {}. */
const requireJson = createMiddleware(async function requireJson(c, next) {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([\w.-]+\+)?json\s*(;|$)/i.test(type)) {
    throw new LbError(400, 'invalid_json', `expected a JSON body (Content-Type: application/json), got "${type || 'none'}"`);
  }
  await next();
});

function validJson<T extends Parameters<typeof zValidator>[1]>(schema: T) {
  return zValidator('json', schema, (result) => {
    if (!result.success) throw new LbError(400, 'invalid_config', 'the document is not a valid configuration', toIssues(result.error));
  });
}

/** `If-Match: "n"` (or `W/"n"`, or a bare n) as a version number. */
function ifMatchVersion(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(header);
  if (match === null) throw new LbError(400, 'invalid_if_match', `If-Match must be a version ETag such as "3", got ${header}`);
  return Number(match[1]);
}

export const adminApi = new Hono<{ Bindings: Env }>()
  .use('*', adminEnabled, adminAuth)
  .get('/config', async (c) => {
    const stored = await controlPlane(c.env).getConfig();
    c.header('ETag', `"${stored.version}"`);
    return c.json(stored);
  })
  .put('/config', limitBody, requireJson, validJson(ConfigSchema), async (c) => {
    const ifMatch = ifMatchVersion(c.req.header('if-match'));
    const result = await controlPlane(c.env).putConfig(c.req.valid('json'), ifMatch, 'admin-api');
    if (!result.ok) {
      if (result.code === 'version_mismatch') {
        throw new LbError(412, 'version_mismatch', `If-Match names version ${ifMatch} but the stored version is ${result.version}`);
      }
      throw new LbError(400, 'invalid_config', 'the document is not a valid configuration', result.issues);
    }
    await adoptSnapshot(c.env, result.snapshot);
    c.header('ETag', `"${result.version}"`);
    return c.json({ version: result.version });
  });
