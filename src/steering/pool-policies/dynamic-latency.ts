import type { PoolPolicy } from './pool-policy';

/**
 * dynamic_latency: by the mean of the pool's monitor round-trip times, measured from
 * the client's region when the pool is probed from there (SPEC §4); pools without one last.
 */
export const dynamicLatency: PoolPolicy = {
  order(plan, lb, facts) {
    const rtt = (id: string) => plan.pool(id, facts.region)?.meanRttMs ?? Infinity;
    const ids = [...lb.config.default_pools].sort((a, b) => rtt(a) - rtt(b));
    return {
      ids,
      reason: () => {
        const from = ids.some((id) => plan.pool(id, facts.region)?.region !== undefined) ? ` (from ${facts.region} where probed there)` : '';
        return `by mean probe RTT${from}: ${ids.map((id) => `${id} ${fmtMs(rtt(id))}`).join(', ')}`;
      },
    };
  },
};

function fmtMs(ms: number): string {
  return Number.isFinite(ms) ? `${ms.toFixed(1)} ms` : 'unknown';
}
