import { NO_POOL, poolColor } from '../../../geo/world-map';
import type { Pool } from './types';

// A pool's colour is the shared map palette's, by its place in the configuration: the
// same in the pools panel, on the map and in the simulator's report.

export type PoolColors = ReadonlyMap<string, string>;

export function poolColors(pools: Pool[]): PoolColors {
  return new Map(pools.map((pool, i) => [pool.id, poolColor(i)]));
}

/** A pool's colour; NO_POOL for none (null), an unknown pool, or a PoP not steered (undefined). */
export function colorOf(colors: PoolColors, id: string | null | undefined): string {
  if (id === null || id === undefined) return NO_POOL;
  return colors.get(id) ?? NO_POOL;
}
