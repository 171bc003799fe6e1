/** mulberry32: a tiny seeded PRNG, so that tests of random policies are deterministic. Returns values in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` distinct, deterministic IPv4 client addresses (10.x.y.7). */
export function clientIps(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.7`);
}
