import { createRoute, z } from '@hono/zod-openapi';
import { ConfigSchema } from '../config/schema';
import { adoptSnapshot, controlPlane } from '../control/snapshot-cache';
import { LbError } from '../proxy/errors';
import {
  adminRoutes,
  bodyErrors,
  commonErrors,
  configWarnings,
  ifMatchHeader,
  ifMatchVersion,
  jsonBody,
  jsonContent,
  stale,
  warningsField,
} from './http';

// The whole configuration at once (SPEC §7): GET with its version as ETag, PUT to
// replace it, optionally guarded by If-Match. Both carry the configuration's edge
// warnings (SPEC §10).

const Stored = z.object({ version: z.number().int(), config: ConfigSchema.nullable(), warnings: warningsField });

export const configRoutes = adminRoutes('invalid_config')
  .openapi(
    createRoute({
      method: 'get',
      path: '/config',
      tags: ['Configuration'],
      summary: 'The stored configuration and its version (ETag: "version")',
      responses: { 200: jsonContent(Stored, 'the configuration; null until one is stored'), ...commonErrors },
    }),
    async (c) => {
      const stored = await controlPlane(c.env).getConfig();
      c.header('ETag', `"${stored.version}"`);
      return c.json({ ...stored, warnings: configWarnings(c.env, stored.config) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'put',
      path: '/config',
      tags: ['Configuration'],
      summary: 'Replace the configuration',
      middleware: jsonBody,
      request: { headers: ifMatchHeader, body: { required: true, content: { 'application/json': { schema: ConfigSchema } } } },
      responses: {
        200: jsonContent(z.object({ version: z.number().int(), warnings: warningsField }), 'stored; warnings of the stored configuration'),
        ...bodyErrors,
        ...stale,
        ...commonErrors,
      },
    }),
    async (c) => {
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
      return c.json({ version: result.version, warnings: configWarnings(c.env, result.snapshot.config) }, 200);
    },
  );
