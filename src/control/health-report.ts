import type { Config } from '../config/schema';
import type { HealthMap } from '../health/state';
import { Plan } from '../steering/plan';

// The health document of SPEC §7 (GET /__lb/api/health), built from the stored
// configuration and the active-check results: the same Plan the request path
// compiles decides which pools count as healthy.

export type OriginState = 'healthy' | 'unhealthy' | 'unknown';

export interface HealthReport {
  pools: { id: string; healthy: boolean; healthy_origins: number; minimum_origins: number }[];
  origins: {
    pool: string;
    origin: string;
    healthy: boolean;
    state: OriginState;
    consecutive_up: number;
    consecutive_down: number;
    last_check_at: string | null;
    rtt_ms: number | null;
    reason: string | null;
  }[];
}

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
