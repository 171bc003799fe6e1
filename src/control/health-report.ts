import { z } from 'zod';
import type { Config } from '../config/schema';
import type { HealthMap } from '../health/state';
import { Plan } from '../steering/plan';

// The health document of SPEC §7 (GET /__lb/api/health), built from the stored
// configuration and the active-check results: the same Plan the request path
// compiles decides which pools count as healthy. Its schema is the admin API's
// response schema (the OpenAPI document's Health) and its type is inferred from it.

const OriginStateSchema = z.enum(['healthy', 'unhealthy', 'unknown']);

export const HealthSchema = z
  .object({
    pools: z.array(z.object({ id: z.string(), healthy: z.boolean(), healthy_origins: z.number().int(), minimum_origins: z.number().int() })),
    origins: z.array(
      z.object({
        pool: z.string(),
        origin: z.string(),
        healthy: z.boolean(),
        state: OriginStateSchema,
        consecutive_up: z.number().int(),
        consecutive_down: z.number().int(),
        last_check_at: z.string().nullable(),
        rtt_ms: z.number().nullable(),
        reason: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: 'Health' });

export type OriginState = z.infer<typeof OriginStateSchema>;
export type HealthReport = z.infer<typeof HealthSchema>;

export function healthReport(config: Config | null, health: HealthMap): HealthReport {
  if (config === null) return { pools: [], origins: [] };
  const plan = new Plan(0, config, health, new Set());
  const report: HealthReport = { pools: [], origins: [] };
  for (const pool of plan.pools.values()) {
    report.pools.push({ id: pool.id, healthy: pool.healthy, healthy_origins: pool.healthyOrigins, minimum_origins: pool.config.minimum_origins });
    for (const origin of pool.origins) {
      // Results are kept only for monitored pools; an origin never checked counts as healthy.
      const checked = pool.config.monitor === undefined ? undefined : health[pool.id]?.[origin.name];
      report.origins.push({
        pool: pool.id,
        origin: origin.name,
        healthy: origin.healthy,
        state: checked === undefined ? 'unknown' : checked.healthy ? 'healthy' : 'unhealthy',
        consecutive_up: checked?.consecutive_up ?? 0,
        consecutive_down: checked?.consecutive_down ?? 0,
        last_check_at: checked?.last_check_at ?? null,
        rtt_ms: checked?.rtt_ms ?? null,
        reason: checked?.reason ?? null,
      });
    }
  }
  return report;
}
