// Distances, estimated round trips and the statistics over them. The distance is the
// Worker's own (src/geo/distance.ts), so the simulator and proximity steering agree on
// what "nearest" means.
import { distanceKm } from '../../../src/geo/distance.ts';

/** Great-circle distance in kilometres (haversine), the Worker's. */
export const haversineKm = distanceKm;

/** Light in fibre covers about 200 km per millisecond (two thirds of c). */
export const FIBRE_KM_PER_MS = 200;

/**
 * Round trip over `km` of fibre one way: 2 × km / (200 km/ms).
 * @param {number} km
 */
export function rttMs(km) {
  return (2 * km) / FIBRE_KM_PER_MS;
}

/**
 * Nearest-rank percentile (p in 0..100) of a list of numbers; null when it is empty.
 * @param {readonly number[]} values
 * @param {number} p
 * @returns {number | null}
 */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/**
 * @param {readonly number[]} values
 * @returns {number | null}
 */
export function mean(values) {
  if (values.length === 0) return null;
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/**
 * Two decimals; null stays null.
 * @param {number | null | undefined} n
 * @returns {number | null}
 */
export const round2 = (n) => (n === null || n === undefined ? null : Math.round(n * 100) / 100);
