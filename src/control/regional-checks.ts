import { compactConfig, expandStored, storedText } from '../config/compact';
import { checkRegionsOf, type Config } from '../config/schema';
import { validateConfig } from '../config/validate';
import { REGIONS, type Region } from '../geo/regions';
import { combineRegions } from '../health/regional';
import { stateOf, type Transition } from '../health/rise-fall';
import type { HealthMap, OriginHealth } from '../health/state';
import { checkedFrom, pruneHealth, type HealthChange } from './health-schedule';

// Check regions between the ControlPlane and the probers (SPEC §4), pure: which
// regions have work, what each region's prober is given to check, and what its report
// does to the ControlPlane's health map. Each prober keeps its own rise/fall state
// and schedule (prober.ts); the ControlPlane keeps what they report, takes the
// verdict over the regions and stays the one writer of the snapshot.

/** What a region's prober checks: the pools that list its region, with their monitors, as of admin version `version`. */
export interface ProbeAssignment {
  region: Region;
  version: number;
  /** That part of the configuration in its stored form (src/config/compact.ts): compact, with the defaults it leaves out. */
  config: string;
}

/** One origin's health in one region after a round of that region's prober, and the transition the round made there. */
export interface RegionalResult {
  pool: string;
  origin: string;
  /** The address and monitor probed: a result for an origin changed meanwhile is left out. */
  address: string;
  monitor: string;
  health: OriginHealth;
  transition?: Transition;
}

export interface RegionalReport {
  region: Region;
  results: RegionalResult[];
}

/** The regions some monitored pool lists, in Cloudflare's order. */
export function regionsInUse(config: Config | undefined): Region[] {
  const used = new Set<Region>();
  for (const pool of config?.pools ?? []) if (pool.monitor !== undefined) for (const region of checkRegionsOf(pool)) used.add(region);
  return REGIONS.filter((region) => used.has(region));
}

/** The part of `config` that `region`'s prober checks (nothing when no pool lists it). */
export function assignmentFor(config: Config | undefined, region: Region, version: number): ProbeAssignment {
  const pools = (config?.pools ?? []).filter((pool) => pool.monitor !== undefined && checkedFrom(pool, region));
  const used = new Set(pools.map((pool) => pool.monitor));
  const part: Config = { monitors: (config?.monitors ?? []).filter((m) => used.has(m.id)), pools, load_balancers: [] };
  return { region, version, config: storedText(JSON.stringify(compactConfig(part))) };
}

/** An assignment's configuration as the prober checks it; undefined if it does not validate (a damaged copy). */
export function assignedConfig(assignment: ProbeAssignment): Config | undefined {
  let document: unknown;
  try {
    document = JSON.parse(assignment.config);
  } catch {
    return undefined;
  }
  const validation = validateConfig(expandStored(document));
  return validation.ok ? validation.config : undefined;
}

/**
 * A prober's report applied at `at` to the ControlPlane's health map: each result is
 * kept under its origin's `regions`, and the verdict over the pool's regions taken
 * again. A result for a pool that no longer lists the region, changed monitor, or an
 * origin removed or moved meanwhile is left out. The changes are the region's own
 * transitions (`region` set) and those of the verdict.
 */
export function applyRegionalReport(config: Config, stored: HealthMap, report: RegionalReport, at: number): { health: HealthMap; changes: HealthChange[] } {
  const health = pruneHealth(stored, config, at);
  const changes: HealthChange[] = [];
  const { region } = report;
  for (const result of report.results) {
    const pool = config.pools.find((p) => p.id === result.pool);
    const origin = pool?.origins.find((o) => o.name === result.origin);
    if (pool === undefined || origin === undefined || pool.monitor !== result.monitor || origin.address !== result.address || !checkedFrom(pool, region)) continue;
    const entry = health[pool.id]?.[origin.name];
    const before = entry?.regions?.[region];
    const after = result.health;
    if ((before?.healthy ?? true) !== after.healthy) {
      const transition = result.transition ?? { from: stateOf(before), to: after.healthy ? 'healthy' : 'unhealthy', reason: after.reason || `reported by ${region}` };
      changes.push({ pool: pool.id, origin: origin.name, region, transition, at, rtt_ms: after.rtt_ms });
    }
    const combined = combineRegions(entry, checkRegionsOf(pool), { ...entry?.regions, [region]: after }, at);
    (health[pool.id] ??= {})[origin.name] = combined.health;
    if (combined.transition !== undefined) changes.push({ pool: pool.id, origin: origin.name, transition: combined.transition, at, rtt_ms: combined.health.rtt_ms });
  }
  return { health, changes };
}
