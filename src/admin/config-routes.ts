import { createRoute, z } from '@hono/zod-openapi';
import { ConfigSchema } from '../config/schema';
import { adoptSnapshot } from '../control/snapshot-cache';
import { controlPlane } from '../control/locator';
import { LbError } from '../errors';
import { DryRunSchema, dryRunConfig } from './dry-run';
import {
  actorOf,
  adminRoutes,
  bodyErrors,
  commonErrors,
  configBody,
  configBodyErrors,
  configWarnings,
  conflict,
  ifMatchHeader,
  ifMatchVersion,
  jsonBody,
  jsonContent,
  notFound,
  putRefusal,
  stale,
  warningsField,
} from './http';

// The whole configuration at once (SPEC §7): GET with its version as ETag, PUT to
// replace it, optionally guarded by If-Match. Both carry the configuration's edge
// warnings (SPEC §10). A PUT may be a dry run. The last versions are kept: list them,
// read one, roll back.

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

const Stored = z.object({
  version: z.number().int(),
  config: ConfigSchema.nullable(),
  config_error: z.string().optional().openapi({ description: 'while nothing is configured: why (LB_CONFIG could not be used, or the stored configuration was damaged with no valid version kept)' }),
  warnings: warningsField,
});

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
      summary: 'Replace the configuration; with dry_run=true, only show what the change would do',
      middleware: configBody,
      request: {
        headers: ifMatchHeader,
        // Strict: a misspelt dry_run must not store the configuration.
        query: z.strictObject({
          dry_run: z
            .enum(['true', 'false'])
            .default('false')
            .meta({ description: 'true: store nothing; answer the diff, the warnings and the impact on a sample of clients' }),
        }),
        body: { required: true, content: { 'application/json': { schema: ConfigSchema } } },
      },
      responses: {
        200: jsonContent(
          z.union([z.strictObject({ version: z.number().int(), warnings: warningsField }), DryRunSchema]),
          'stored: the new version and its warnings; dry run: the stored version, the diff, the warnings and the impact',
        ),
        ...configBodyErrors,
        ...stale,
        ...commonErrors,
      },
    }),
    async (c) => {
      const ifMatch = ifMatchVersion(c.req.header('if-match'));
      if (c.req.valid('query').dry_run === 'true') return c.json(await dryRunConfig(c.env, c.req.valid('json'), ifMatch), 200);
      const result = await controlPlane(c.env).putConfig(c.req.valid('json'), ifMatch, actorOf(c));
      if (!result.ok) throw putRefusal(result, ifMatch, 'the document is not a valid configuration');
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
