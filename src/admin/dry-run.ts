import { z } from '@hono/zod-openapi';
import { oversize } from '../config/compact';
import type { Config } from '../config/schema';
import { fieldDiff } from '../control/config-edit';
import { controlPlane } from '../control/locator';
import type { Env } from '../env';
import { LbError } from '../errors';
import { configImpact } from '../steering/impact';
import { configWarnings, warningsField } from './http';

// PUT /config?dry_run=true (SPEC §7): what a new configuration would change, checked
// exactly as a PUT is (If-Match, validation, size) and stored nowhere. The impact is
// computed on fresh compiled plans from the stored snapshot's health and PoP
// withdrawals, so the live isolate's round robins do not move.

const Placement = z.object({ pool: z.string(), origin: z.string() }).nullable();
const Counts = z
  .object({
    pools: z.record(z.string(), z.number().int()).meta({ description: 'sample clients per pool' }),
    origins: z.record(z.string(), z.number().int()).meta({ description: 'sample clients per "pool/origin"' }),
  })
  .nullable();

export const ImpactSchema = z
  .object({
    sample: z.object({ clients: z.number().int(), population: z.number(), description: z.string() }),
    load_balancers: z.array(
      z.object({
        id: z.string(),
        hostname: z.string(),
        change: z.enum(['added', 'removed', 'changed', 'unchanged']),
        before: Counts,
        after: Counts,
        moved: z.object({ clients: z.number().int(), population: z.number() }),
        moves: z
          .array(
            z.object({
              client: z.string(),
              country: z.string(),
              colo: z.string().nullable(),
              population: z.number(),
              before: Placement,
              after: Placement,
            }),
          )
          .meta({ description: 'the sample clients whose new requests would go elsewhere (the 50 largest by population)' }),
        sessions: z
          .object({
            pinned: z.number().int(),
            leaving: z.number().int(),
            by_origin: z.record(z.string(), z.number().int()).meta({ description: 'leaving sessions by the "pool/origin" they were pinned to' }),
          })
          .nullable()
          .meta({ description: 'with affinity: one session per sample client, pinned where it goes now; how many would leave that origin' }),
      }),
    ).meta({ description: 'changed load balancers first, at most 100' }),
    omitted: z
      .object({ changed: z.number().int(), unchanged: z.number().int() })
      .meta({ description: 'load balancers past the first 100, not steered' }),
  })
  .meta({ id: 'Impact' });

export const DryRunSchema = z
  .object({
    version: z.number().int().meta({ description: 'the stored version the change was compared with (unchanged)' }),
    diff: z.object({
      added: z.array(z.string()),
      removed: z.array(z.string()),
      changed: z.array(
        z.object({
          resource: z.string().meta({ description: 'e.g. "origin eu/e1", "load balancer www"' }),
          fields: z.array(z.object({ field: z.string(), before: z.unknown(), after: z.unknown() })),
        }),
      ),
    }),
    warnings: warningsField,
    impact: ImpactSchema,
  })
  .meta({ id: 'DryRun' });

export type DryRun = z.output<typeof DryRunSchema>;

export async function dryRunConfig(env: Env, config: Config, ifMatch: number | undefined): Promise<DryRun> {
  const stored = await controlPlane(env).current();
  if (ifMatch !== undefined && ifMatch !== stored.version) {
    throw new LbError(412, 'version_mismatch', `If-Match names version ${ifMatch} but the stored version is ${stored.version}`);
  }
  const tooLarge = oversize(config);
  if (tooLarge !== undefined) throw new LbError(413, 'payload_too_large', tooLarge);
  return {
    version: stored.version,
    diff: fieldDiff(stored.config, config),
    warnings: configWarnings(env, config),
    impact: configImpact({ before: stored.config, after: config, health: stored.health, withdrawn: stored.withdrawn, now: Date.now() }),
  };
}
