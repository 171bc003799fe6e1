import type { HealthChange } from './health-schedule';

// HEALTH_WEBHOOK_URL: one JSON POST per health transition, retried once, each
// attempt bounded by a timeout. Runs beside the checks (ctx.waitUntil), never in
// their way; a webhook that keeps failing is logged, not retried forever.

export interface HealthNotice {
  event: 'health_transition';
  balancer: string;
  pool: string;
  origin: string;
  /** The check region whose prober saw the transition; absent for the control plane's checks and for the verdict over a pool's check regions. */
  region?: string;
  from: string;
  to: string;
  reason: string;
  at: string;
  rtt_ms: number | null;
}

const ATTEMPTS = 2;
const TIMEOUT_MS = 5000;

export async function postHealthNotice(url: string, notice: HealthNotice, fetcher: typeof fetch = fetch): Promise<boolean> {
  const body = JSON.stringify(notice);
  let last = '';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      const res = await fetcher(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'switchyard-monitor' },
        body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      await res.body?.cancel();
      if (res.ok) return true;
      last = `status ${res.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
  }
  const where = notice.region === undefined ? '' : ` from ${notice.region}`;
  console.error(`health webhook ${url} failed twice for ${notice.pool}/${notice.origin} ${notice.from} -> ${notice.to}${where}: ${last}`);
  return false;
}

/** One notice per transition of a check round, sent side by side. */
export function postHealthChanges(url: string, balancer: string, changes: readonly HealthChange[], fetcher: typeof fetch = fetch): Promise<boolean[]> {
  return Promise.all(
    changes.map(({ pool, origin, region, transition, at, rtt_ms }) =>
      postHealthNotice(
        url,
        { event: 'health_transition', balancer, pool, origin, ...(region === undefined ? {} : { region }), from: transition.from, to: transition.to, reason: transition.reason, at: new Date(at).toISOString(), rtt_ms: rtt_ms ?? null },
        fetcher,
      ),
    ),
  );
}
