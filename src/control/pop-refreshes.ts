// The refreshes the ControlPlane has served to each PoP since the object started, so
// that the PoP tier's bound (at most one per PoP per SNAPSHOT_TTL_MS, whatever the
// number of isolates) can be watched: GET /__lb/metrics shows the count and the
// shortest time between two refreshes of one PoP. Kept in memory: a count per refresh
// in SQLite would cost the object a write per PoP and TTL.

/** One PoP's refreshes. */
export interface PopRefreshCount {
  pop: string;
  refreshes: number;
  /** The shortest time between two consecutive refreshes of this PoP; null after the first. */
  minIntervalMs: number | null;
  lastAt: number;
}

/** Colo codes are IATA codes; anything else is counted as `unknown`. */
const COLO = /^[A-Z0-9]{3,5}$/;
/** More PoPs than Cloudflare has: a bound on the map, whatever callers send. */
const MAX_POPS = 1000;

export class PopRefreshLog {
  private readonly byPop = new Map<string, PopRefreshCount>();

  record(colo: string, at: number): void {
    let pop = COLO.test(colo) ? colo : 'unknown';
    if (!this.byPop.has(pop) && this.byPop.size >= MAX_POPS) pop = 'unknown';
    const seen = this.byPop.get(pop);
    if (seen === undefined) {
      this.byPop.set(pop, { pop, refreshes: 1, minIntervalMs: null, lastAt: at });
      return;
    }
    const interval = at - seen.lastAt;
    seen.refreshes += 1;
    seen.minIntervalMs = seen.minIntervalMs === null ? interval : Math.min(seen.minIntervalMs, interval);
    seen.lastAt = at;
  }

  /** Every PoP's count, by colo code. */
  report(): PopRefreshCount[] {
    return [...this.byPop.values()].map((count) => ({ ...count })).sort((a, b) => (a.pop < b.pop ? -1 : a.pop > b.pop ? 1 : 0));
  }
}
