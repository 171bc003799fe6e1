/** mulberry32, the seeded PRNG the simulator draws with: tests of random policies are deterministic. */
export { mulberry32 } from '../../scripts/lib/simulate/core.mjs';

/** `count` distinct, deterministic IPv4 client addresses (10.x.y.7). */
export function clientIps(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.7`);
}
