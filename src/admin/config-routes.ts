import { createRoute, z } from '@hono/zod-openapi';
import { ConfigSchema } from '../config/schema';
import { adoptSnapshot, controlPlane } from '../control/snapshot-cache';
import { LbError } from '../proxy/errors';
import {
  actorOf,
  adminRoutes,
  bodyErrors,
  commonErrors,
  configWarnings,
  conflict,
  ifMatchHeader,
  ifMatchVersion,
  jsonBody,
  jsonContent,
  notFound,
  stale,
  warningsField,
} from './http';

// The whole configuration at once (SPEC §7): GET with its version as ETag, PUT to
// replace it, optionally guarded by If-Match. Both carry the configuration's edge
// warnings (SPEC §10). The last versions are kept: list them, read one, roll back.

const VersionSummary = z.object({
  version: z.number().int(),
  at: z.string().meta({ description: 'when it was stored (ISO 8601)' }),
  actor: z.string(),
  summary: z.string(),
});
const VersionParam = z.object({
  n: z
    .string()
    .regex(/^\d{1,15}$/, 'must be a version number')
    .transform(Number)
    .meta({ description: 'a version number' }),
});

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
      const result = await controlPlane(c.env).putConfig(c.req.valid('json'), ifMatch, actorOf(c));
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
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/config/versions',
      tags: ['Configuration'],
      summary: 'The kept configuration versions (the last 50), newest first',
      responses: { 200: jsonContent(z.object({ versions: z.array(VersionSummary) }), 'version, time, actor and a one-line summary of each'), ...commonErrors },
    }),
    async (c) => c.json({ versions: await controlPlane(c.env).versions() }, 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/config/versions/{n}',
      tags: ['Configuration'],
      summary: 'One kept version, with its configuration',
      request: { params: VersionParam },
      responses: { 200: jsonContent(VersionSummary.extend({ config: ConfigSchema, warnings: warningsField }), 'the version'), ...notFound, ...conflict, ...commonErrors },
    }),
    async (c) => {
      const { n } = c.req.valid('param');
      const found = await controlPlane(c.env).version(n);
      if (found === undefined) throw new LbError(404, 'not_found', `version ${n} is not kept (the last 50 are)`);
      if (found === 'damaged') throw new LbError(409, 'invalid_version', `the stored copy of version ${n} is damaged`);
      return c.json({ ...found, warnings: configWarnings(c.env, found.config) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/config/rollback',
      tags: ['Configuration'],
      summary: 'Make a kept version current again, as a new version',
      middleware: jsonBody,
      request: { body: { required: true, content: { 'application/json': { schema: z.strictObject({ version: z.number().int().min(0) }) } } } },
      responses: {
        200: jsonContent(z.object({ version: z.number().int(), restored: z.number().int(), warnings: warningsField }), 'the new version'),
        ...notFound,
        ...conflict,
        ...bodyErrors,
        ...commonErrors,
      },
    }),
    async (c) => {
      const { version } = c.req.valid('json');
      const result = await controlPlane(c.env).rollback(version, actorOf(c));
      if (!result.ok) throw new LbError(result.status, result.code, result.message);
      await adoptSnapshot(c.env, result.snapshot);
      c.header('ETag', `"${result.version}"`);
      return c.json({ version: result.version, restored: version, warnings: configWarnings(c.env, result.snapshot.config) }, 200);
    },
  );
