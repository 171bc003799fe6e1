import type { Region } from '../geo/regions';
import { stateOf, type Transition } from './rise-fall';
import type { OriginHealth, RegionalResults } from './state';

// Check regions (SPEC §4), pure: an origin probed from several regions is healthy
// while a majority of them say so, a tie counting as healthy, so that one region that
// cannot reach it does not fail it over for everyone. A region that has not checked
// it yet counts as healthy, as an origin never checked does. The clients of a region
// that probes it follow that region's verdict as well: they are sent to it while the
// majority and their own region both find it healthy, so an origin unreachable from
// one region only is skipped there, and one that most regions cannot reach is
// skipped everywhere.

export interface RegionalVerdict {
  healthy: boolean;
  /** The regions whose prober finds it unhealthy, in the order the pool lists them. */
  down: Region[];
  /** How many regions vote. */
  of: number;
}

export function regionalVerdict(regions: readonly Region[], results: RegionalResults | undefined): RegionalVerdict {
  const down = regions.filter((region) => results?.[region]?.healthy === false);
  return { healthy: down.length * 2 <= regions.length, down, of: regions.length };
}

/**
 * The entry of an origin probed from `regions` with these results: the regions' own
 * entries under `regions` (only those listed), and over them the verdict of them all:
 * healthy by majority, the newest check, the mean round trip, every failed check
 * counted, `since` moved on when the verdict changes, and the reason naming the regions
 * that find it down. The transition is the verdict's, from `previous`.
 */
export function combineRegions(
  previous: OriginHealth | undefined,
  regions: readonly Region[],
  results: RegionalResults,
  at: number,
): { health: OriginHealth; transition: Transition | undefined } {
  const kept: RegionalResults = {};
  for (const region of regions) if (results[region] !== undefined) kept[region] = results[region];
  const verdict = regionalVerdict(regions, kept);
  const entries = Object.values(kept) as OriginHealth[];

  let lastCheck = '';
  let failures = 0;
  let rttSum = 0;
  let rttCount = 0;
  for (const entry of entries) {
    if (entry.last_check_at !== undefined && entry.last_check_at > lastCheck) lastCheck = entry.last_check_at;
    failures += entry.check_failures ?? 0;
    if (entry.rtt_ms !== undefined) {
      rttSum += entry.rtt_ms;
      rttCount++;
    }
  }

  const wasHealthy = previous?.healthy ?? true;
  const transition: Transition | undefined =
    wasHealthy === verdict.healthy ? undefined : { from: stateOf(previous), to: verdict.healthy ? 'healthy' : 'unhealthy', reason: verdictReason(verdict, kept) };
  const health: OriginHealth = { healthy: verdict.healthy, reason: verdict.down.length === 0 ? '' : verdictReason(verdict, kept), check_failures: failures, regions: kept };
  if (lastCheck !== '') health.last_check_at = lastCheck;
  if (rttCount > 0) health.rtt_ms = Math.round((rttSum / rttCount) * 100) / 100;
  const since = transition !== undefined ? at : previous?.since;
  if (since !== undefined) health.since = since;
  return { health, transition };
}

/** "unhealthy from 2 of 3 check regions (EEU: connection refused; SEAS: timeout after 2000 ms)", or how many find it healthy. */
function verdictReason(verdict: RegionalVerdict, results: RegionalResults): string {
  const { down, of } = verdict;
  if (down.length === 0) return `healthy from all ${of} check regions`;
  const why = down.map((region) => `${region}: ${results[region]?.reason || 'unhealthy'}`).join('; ');
  const count = `unhealthy from ${down.length} of ${of} check region${of > 1 ? 's' : ''} (${why})`;
  return verdict.healthy ? `${count}; healthy by majority` : count;
}

/**
 * The origin as the clients of `region` see it: that region's own result (its round
 * trip, its counters), unhealthy as well when the verdict of all the regions is;
 * undefined when nothing is known.
 */
export function asSeenFrom(entry: OriginHealth | undefined, region: Region): OriginHealth | undefined {
  const own = entry?.regions?.[region];
  if (entry === undefined) return undefined;
  if (own === undefined) return entry.healthy ? undefined : { healthy: false, reason: entry.reason ?? '' };
  return entry.healthy || !own.healthy ? own : { ...own, healthy: false, reason: entry.reason ?? '' };
}

/** When an active check last found the origin up: its own entry's, or for check regions the newest region that did. */
export function lastFoundUp(entry: OriginHealth | undefined): number | undefined {
  if (entry === undefined) return undefined;
  if (entry.regions === undefined) return foundUp(entry);
  let newest: number | undefined;
  for (const result of Object.values(entry.regions)) {
    const at = foundUp(result);
    if (at !== undefined && (newest === undefined || at > newest)) newest = at;
  }
  return newest;
}

function foundUp(entry: OriginHealth | undefined): number | undefined {
  return entry?.healthy === true && (entry.consecutive_up ?? 0) > 0 && entry.last_check_at !== undefined ? Date.parse(entry.last_check_at) : undefined;
}
