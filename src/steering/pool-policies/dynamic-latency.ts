import type { PoolPolicy } from './pool-policy';

/** dynamic_latency: by the mean of the pool's monitor round-trip times; pools without one last. */
export const dynamicLatency: PoolPolicy = {
  order(plan, lb) {
    const rtt = (id: string) => plan.pools.get(id)?.meanRttMs ?? Infinity;
    const ids = [...lb.config.default_pools].sort((a, b) => rtt(a) - rtt(b));
    return { ids, reason: () => `by mean probe RTT: ${ids.map((id) => `${id} ${fmtMs(rtt(id))}`).join(', ')}` };
  },
};

function fmtMs(ms: number): string {
  return Number.isFinite(ms) ? `${ms.toFixed(1)} ms` : 'unknown';
}
