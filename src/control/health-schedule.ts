import { checkRegionsOf, type Config, type Monitor, type Origin, type Pool } from '../config/schema';
import type { Region } from '../geo/regions';
import { combineRegions, regionalVerdict } from '../health/regional';
import { nextHealth, type ProbeResult, type Transition } from '../health/rise-fall';
import type { HealthMap, OriginHealth } from '../health/state';

// When active checks run and what their outcomes do to the stored health, pure: the
// configuration, the health map and `now` in; the due probes, the next alarm time and
// the new health map out. The Durable Objects only probe, store and arm their alarms.
// `from` says who checks: undefined for the ControlPlane, which probes the pools
// without check_regions, or a region, whose prober probes the pools that list it
// (a health map of that region's own results).

/** A check counts as due this early, so an alarm that fires a little late or early does not skip a round. */
export const DUE_SLACK_MS = 1000;
/** Without a transition, new check results (RTTs for dynamic_latency) are published at most this often. */
export const HEALTH_PUBLISH_MS = 60_000;

/** One origin to probe with its pool's monitor. */
export interface CheckTarget {
  pool: Pool;
  origin: Origin;
  monitor: Monitor;
  /** "pool\0origin": which probe this is, so that one never overlaps the previous. */
  key: string;
}

/** A transition an applied outcome caused, with when it happened and the origin's RTT then. */
export interface HealthChange {
  pool: string;
  origin: string;
  /** The check region whose prober saw it; undefined for the verdict of the control plane or of all the pool's regions. */
  region?: Region;
  transition: Transition;
  at: number;
  rtt_ms: number | undefined;
}

export function targetKey(pool: string, origin: string): string {
  return `${pool}\u0000${origin}`;
}

/** Is `pool` checked from `from` (the control plane when undefined, else a check region)? */
export function checkedFrom(pool: Pool, from: Region | undefined): boolean {
  const regions = checkRegionsOf(pool);
  return from === undefined ? regions.length === 0 : regions.includes(from);
}

/** Every enabled origin of an enabled pool whose monitor exists and that is checked from `from`. */
function* monitored(config: Config, from: Region | undefined): Generator<CheckTarget> {
  const monitors = new Map(config.monitors.map((m) => [m.id, m]));
  for (const pool of config.pools) {
    const monitor = pool.monitor === undefined ? undefined : monitors.get(pool.monitor);
    if (!pool.enabled || monitor === undefined || !checkedFrom(pool, from)) continue;
    for (const origin of pool.origins) if (origin.enabled) yield { pool, origin, monitor, key: targetKey(pool.id, origin.name) };
  }
}

/** When an origin's next probe is due: now if never checked, else its last check plus the interval. */
export function nextDue(health: OriginHealth | undefined, monitor: Monitor, now: number): number {
  const last = health?.last_check_at === undefined ? NaN : Date.parse(health.last_check_at);
  return Number.isNaN(last) ? now : last + monitor.interval * 1000;
}

/**
 * The probes to run now: monitored origins that are due (every one with `all`), less
 * those in `busy` (being probed by a round still running), the longest unchecked
 * first: a round that runs out of subrequests leaves the newest checked for the next.
 */
export function dueTargets(
  config: Config | undefined,
  health: HealthMap,
  now: number,
  options: { all?: boolean; busy?: { has(key: string): boolean }; from?: Region } = {},
): CheckTarget[] {
  if (config === undefined) return [];
  const targets: CheckTarget[] = [];
  for (const target of monitored(config, options.from)) {
    if (options.busy?.has(target.key)) continue;
    if (options.all || now + DUE_SLACK_MS >= nextDue(health[target.pool.id]?.[target.origin.name], target.monitor, now)) targets.push(target);
  }
  const checkedAt = (t: CheckTarget): number => {
    const at = health[t.pool.id]?.[t.origin.name]?.last_check_at;
    const ms = at === undefined ? NaN : Date.parse(at);
    return Number.isNaN(ms) ? -Infinity : ms;
  };
  const at = new Map(targets.map((t) => [t, checkedAt(t)]));
  return targets.sort((a, b) => at.get(a)! - at.get(b)! || 0);
}

/** When the alarm should fire: the next due probe, at least DUE_SLACK_MS from now; undefined when nothing is monitored. */
export function nextAlarm(config: Config | undefined, health: HealthMap, now: number, from?: Region): number | undefined {
  let next = Infinity;
  if (config !== undefined) for (const { pool, origin, monitor } of monitored(config, from)) next = Math.min(next, nextDue(health[pool.id]?.[origin.name], monitor, now));
  return next === Infinity ? undefined : Math.max(next, now + DUE_SLACK_MS);
}

/**
 * The results of origins still in `config`, still monitored and still checked the same
 * way; the rest are dropped. In the ControlPlane's map (`from` undefined) an origin of
 * a pool with check_regions keeps its regions' results, those of regions the pool no
 * longer lists left out and the verdict taken again when its regions changed, while a pool that
 * gained or lost check_regions starts afresh. A prober's map keeps the pools that list
 * its region.
 */
export function pruneHealth(health: HealthMap, config: Config, at: number, from?: Region): HealthMap {
  const kept: HealthMap = {};
  for (const pool of config.pools) {
    const results = health[pool.id];
    if (results === undefined || pool.monitor === undefined) continue;
    const regions = from === undefined ? checkRegionsOf(pool) : [];
    if (from !== undefined && !checkedFrom(pool, from)) continue;
    for (const origin of pool.origins) {
      let result: OriginHealth | undefined = results[origin.name];
      if (result !== undefined && (result.regions !== undefined) !== regions.length > 0) result = undefined;
      if (result?.regions !== undefined && regionsChanged(result, regions)) result = combineRegions(result, regions, result.regions, at).health;
      if (result !== undefined) (kept[pool.id] ??= {})[origin.name] = result;
    }
  }
  return kept;
}

/** Does a regional entry hold a region the pool no longer lists, or a verdict its listed regions no longer give? */
function regionsChanged(entry: OriginHealth, regions: readonly Region[]): boolean {
  const results = entry.regions ?? {};
  for (const region of Object.keys(results)) if (!regions.includes(region as Region)) return true;
  return regionalVerdict(regions, results).healthy !== entry.healthy;
}

/**
 * A round's outcomes (`outcomes[i]` of `targets[i]`) applied at `at` to the stored
 * health through rise/fall, against the configuration as it is now: an outcome whose
 * pool changed monitor or whose origin was removed or moved while it was probed is
 * left out, and the results of removed or unmonitored origins are dropped.
 */
export function applyOutcomes(
  config: Config,
  stored: HealthMap,
  targets: readonly CheckTarget[],
  outcomes: readonly ProbeResult[],
  at: number,
  from?: Region,
): { health: HealthMap; changes: HealthChange[]; applied: CheckTarget[] } {
  const health = pruneHealth(stored, config, at, from);
  const changes: HealthChange[] = [];
  const applied: CheckTarget[] = [];
  targets.forEach((target, i) => {
    const pool = config.pools.find((p) => p.id === target.pool.id);
    const origin = pool?.origins.find((o) => o.name === target.origin.name);
    if (pool?.monitor !== target.monitor.id || origin?.address !== target.origin.address || !checkedFrom(pool, from)) return;
    // Not made for want of subrequests: the origin keeps its health and stays due.
    if (outcomes[i].unchecked === true) return;
    const monitor = config.monitors.find((m) => m.id === pool.monitor) ?? target.monitor;
    const next = nextHealth(health[pool.id]?.[origin.name], outcomes[i], monitor, at);
    (health[pool.id] ??= {})[origin.name] = next.health;
    applied.push(target);
    if (next.transition !== undefined) changes.push({ pool: pool.id, origin: origin.name, ...(from === undefined ? {} : { region: from }), transition: next.transition, at, rtt_ms: next.health.rtt_ms });
  });
  return { health, changes, applied };
}

/** Whether new results go out now: at once on a transition, else at most every HEALTH_PUBLISH_MS. */
export function healthPublishDue(changes: number, at: number, publishedAt: number): boolean {
  return changes > 0 || at - publishedAt >= HEALTH_PUBLISH_MS;
}
