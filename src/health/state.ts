import type { Region } from '../geo/regions';

// What active checks found, as the Durable Object keeps it and the snapshot carries
// it to every isolate (docs/storage-schema.md, key `health`).

/** Active-check results by pool id, then origin name. Missing = never checked = healthy. */
export type HealthMap = Record<string, Record<string, OriginHealth>>;

export interface OriginHealth {
  healthy: boolean;
  rtt_ms?: number;
  /** Consecutive successful and failed checks, the last check's time (ISO) and why it failed. */
  consecutive_up?: number;
  consecutive_down?: number;
  last_check_at?: string;
  reason?: string;
  /** Failed checks in all (switchyard_origin_check_failures_total). */
  check_failures?: number;
  /** When the current state began (ms since the epoch): the start of a slow_start ramp. */
  since?: number;
  /**
   * An origin of a pool with check_regions: what each region's prober found, each with
   * its own rise/fall counters. The fields above are then the verdict of them all
   * (src/health/regional.ts): healthy by majority, the newest check, the mean RTT.
   */
  regions?: RegionalResults;
}

/** One origin's results by check region. */
export type RegionalResults = Partial<Record<Region, OriginHealth>>;

/** Names the check region a probe comes from (SPEC §4), so an origin's logs tell the probers apart. */
export const PROBE_REGION_HEADER = 'x-lb-probe-region';
