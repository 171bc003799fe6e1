import { createRoute, z } from '@hono/zod-openapi';
import { importCloudflare, importRefusal } from '../config/cloudflare-import';
import { ConfigSchema } from '../config/schema';
import { validateConfig } from '../config/validate';
import { adoptSnapshot } from '../control/snapshot-cache';
import { controlPlane } from '../control/locator';
import { LbError } from '../errors';
import {
  adminRoutes,
  bodyErrors,
  commonErrors,
  configWarnings,
  ifMatchHeader,
  ifMatchVersion,
  jsonBody,
  jsonContent,
  putRefusal,
  stale,
  warningsField,
} from './http';

// POST /__lb/api/import/cloudflare: Cloudflare Load Balancing API objects in, a
// Switchyard configuration out (the same function `lbctl import-cloudflare` calls),
// with a note for everything that could not be mapped. `?apply=true` stores it, unless
// storing it would take traffic down (SPEC §7's import guard): then 400 import_empty,
// and a dry run says the same in `refusal` beside the conversion.

const Note = z.object({ path: z.string(), message: z.string() });
const Refusal = z
  .object({ code: z.literal('import_empty'), message: z.string() })
  .meta({ description: 'present when apply=true would refuse this conversion (400 import_empty): no load balancer, or a referenced pool without usable origins' });

export const importRoutes = adminRoutes('invalid_request').openapi(
  createRoute({
    method: 'post',
    path: '/import/cloudflare',
    tags: ['Configuration'],
    summary: 'Convert a Cloudflare Load Balancing export (monitors, pools, load balancers) to a configuration; apply=true stores it',
    middleware: jsonBody,
    request: {
      query: z.object({ apply: z.enum(['true', 'false']).default('false') }),
      headers: ifMatchHeader,
      body: {
        required: true,
        content: {
          'application/json': {
            schema: z
              .union([z.record(z.string(), z.unknown()), z.array(z.unknown())])
              .meta({ description: '{"monitors":[…],"pools":[…],"load_balancers":[…]}, each an array or a Cloudflare API envelope {"result":[…]}' }),
          },
        },
      },
    },
    responses: {
      200: jsonContent(
        z.object({
          config: ConfigSchema,
          unmapped: z.array(Note),
          warnings: warningsField,
          refusal: Refusal.optional(),
          version: z.number().int().optional(),
        }),
        'the converted configuration, its edge warnings for this Worker, why apply=true would refuse it (dry run), and the stored version with apply=true',
      ),
      ...bodyErrors,
      ...stale,
      ...commonErrors,
    },
  }),
  async (c) => {
    let imported;
    try {
      imported = importCloudflare(c.req.valid('json'));
    } catch (error) {
      throw new LbError(400, 'invalid_import', (error as Error).message);
    }
    const validation = validateConfig(imported.config);
    if (!validation.ok) {
      throw new LbError(400, 'invalid_config', 'the converted configuration is not valid (see issues; unmapped parts are listed by a dry run)', { issues: validation.issues });
    }
    const warnings = configWarnings(c.env, validation.config);
    const refusal = importRefusal(imported);
    if (c.req.valid('query').apply === 'false') {
      const dry = { config: validation.config, unmapped: imported.unmapped, warnings };
      return c.json(refusal === undefined ? dry : { ...dry, refusal: { code: 'import_empty' as const, message: refusal } }, 200);
    }
    if (refusal !== undefined) throw new LbError(400, 'import_empty', `not applied: ${refusal}`);

    const ifMatch = ifMatchVersion(c.req.header('if-match'));
    const result = await controlPlane(c.env).putConfig(validation.config, ifMatch, 'import-cloudflare');
    if (!result.ok) throw putRefusal(result, ifMatch, 'the converted configuration is not valid');
    await adoptSnapshot(c.env, result.snapshot);
    return c.json({ config: validation.config, unmapped: imported.unmapped, warnings, version: result.version }, 200);
  },
);
