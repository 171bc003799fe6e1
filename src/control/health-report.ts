import { z } from 'zod';
import { checkRegionsOf, type Config } from '../config/schema';
import { REGIONS } from '../geo/regions';
import type { HealthMap, OriginHealth } from '../health/state';
import { Plan } from '../steering/plan';

// The health document of SPEC §7 (GET /__lb/api/health), built from the stored
// configuration and the active-check results: the same Plan the request path
// compiles decides which pools count as healthy. Its schema is the admin API's
// response schema (the OpenAPI document's Health) and its type is inferred from it.
// A pool with check_regions has its regions' verdicts beside its own (SPEC §4).

const OriginStateSchema = z.enum(['healthy', 'unhealthy', 'unknown']);
const RegionSchema = z.enum(REGIONS);

/** What active checks found, as the top level of an origin and each of its check regions say it. */
const checkFields = {
  healthy: z.boolean(),
  state: OriginStateSchema,
  consecutive_up: z.number().int(),
  consecutive_down: z.number().int(),
  last_check_at: z.string().nullable(),
  rtt_ms: z.number().nullable(),
  reason: z.string().nullable(),
};

export const HealthSchema = z
  .object({
    pools: z.array(
      z.object({
        id: z.string(),
        healthy: z.boolean(),
        healthy_origins: z.number().int(),
        minimum_origins: z.number().int(),
        regions: z
          .array(z.object({ region: RegionSchema, healthy: z.boolean(), healthy_origins: z.number().int() }))
          .optional()
          .meta({ description: 'a pool with check_regions: the pool as the clients of each of its regions see it' }),
      }),
    ),
    origins: z.array(
      z.object({
        pool: z.string(),
        origin: z.string(),
        ...checkFields,
        regions: z
          .array(z.object({ region: RegionSchema, ...checkFields }))
          .optional()
          .meta({
            description:
              "an origin of a pool with check_regions: each region's prober's verdict, with its own rise/fall counters; the origin's own fields are then the verdict of them all (healthy while a majority of its regions say so)",
          }),
      }),
    ),
  })
  .meta({ id: 'Health' });

export type OriginState = z.infer<typeof OriginStateSchema>;
export type HealthReport = z.infer<typeof HealthSchema>;

function checkOf(checked: OriginHealth | undefined, healthy: boolean) {
  return {
    healthy,
    state: checked === undefined ? 'unknown' : checked.healthy ? 'healthy' : 'unhealthy',
    consecutive_up: checked?.consecutive_up ?? 0,
    consecutive_down: checked?.consecutive_down ?? 0,
    last_check_at: checked?.last_check_at ?? null,
    rtt_ms: checked?.rtt_ms ?? null,
    reason: checked?.reason ?? null,
  } as const;
}

export function healthReport(config: Config | null, health: HealthMap): HealthReport {
  if (config === null) return { pools: [], origins: [] };
  const plan = new Plan(0, config, health, new Set());
  const report: HealthReport = { pools: [], origins: [] };
  for (const pool of plan.pools.values()) {
    const regions = checkRegionsOf(pool.config);
    const views = regions.map((region) => pool.inRegion(region));
    const entry: HealthReport['pools'][number] = { id: pool.id, healthy: pool.healthy, healthy_origins: pool.healthyOrigins, minimum_origins: pool.config.minimum_origins };
    if (regions.length > 0) entry.regions = views.map((view, i) => ({ region: regions[i]!, healthy: view.healthy, healthy_origins: view.healthyOrigins }));
    report.pools.push(entry);
    pool.origins.forEach((origin, index) => {
      // Results are kept only for monitored pools; an origin never checked counts as healthy.
      const checked = pool.config.monitor === undefined ? undefined : health[pool.id]?.[origin.name];
      const row: HealthReport['origins'][number] = { pool: pool.id, origin: origin.name, ...checkOf(checked, origin.healthy) };
      if (regions.length > 0) {
        row.regions = views.map((view, i) => ({ region: regions[i]!, ...checkOf(checked?.regions?.[regions[i]!], view.origins[index]!.healthy) }));
      }
      report.origins.push(row);
    });
  }
  return report;
}
