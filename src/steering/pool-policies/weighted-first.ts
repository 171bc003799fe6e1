import type { PoolOrder } from './pool-policy';

/** One pool drawn by weight goes first; the rest follow in failover order. */
export function weightedFirst(ids: readonly string[], weight: (id: string) => number, random: () => number, reason: string): PoolOrder {
  const weights = ids.map((id) => Math.max(0, weight(id)));
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) return { ids: [...ids], reason: () => `${reason}: all weights 0, failover order` };
  let target = random() * total;
  let chosen = ids.length - 1;
  for (let i = 0; i < ids.length; i++) {
    target -= weights[i];
    if (target < 0) {
      chosen = i;
      break;
    }
  }
  return { ids: [ids[chosen], ...ids.filter((_, i) => i !== chosen)], reason: () => reason };
}
