import { z } from 'zod';

// Traffic statistics (HAProxy's stats page, ipvsadm --stats), pure. Each isolate
// counts into a TrafficCounter on the request path (a few map updates, no I/O) and
// hands the pending counts over as a StatsDelta in the background (hand-over.ts); the
// stats shards merge deltas into StatsTotals, and a read merges the shards' totals,
// from which the stats document and the Prometheus metrics are made.

/** Upper bounds (ms) of the latency histogram's buckets; the last bucket is +Inf. */
export const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;

export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx';

export interface OriginCounts {
  /** Attempts sent to the origin. */
  requests: number;
  responses: Partial<Record<StatusClass, number>>;
  /** Attempts that failed: network error, timeout, 502/503/504. */
  failures: number;
  /** Attempts that were retries of a request another attempt had failed. */
  retries: number;
  /** Passive ejections. */
  ejections: number;
  /** Counts per LATENCY_BUCKETS_MS bucket (+Inf last): time to response headers. */
  latency: number[];
  latency_sum_ms: number;
}

export interface RequestCounts {
  requests: number;
  responses: Partial<Record<StatusClass, number>>;
}

export interface StatsDelta {
  /** By "pool/origin". */
  origins: Record<string, OriginCounts>;
  pools: Record<string, RequestCounts>;
  pops: Record<string, RequestCounts>;
}

export interface StatsTotals extends StatsDelta {
  /** When counting started (ms). */
  since: number;
}

/** One attempt of a request, as forward() made it. */
export interface AttemptRecord {
  /** The origin, as "pool/origin". */
  key: string;
  status: number | undefined;
  failed: boolean;
  ejected: boolean;
  ms: number;
}

const STATUS_CLASSES: readonly StatusClass[] = ['1xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

export function statusClass(status: number): StatusClass {
  return STATUS_CLASSES[Math.min(5, Math.max(1, Math.floor(status / 100)))]!;
}

export function emptyDelta(): StatsDelta {
  return { origins: {}, pools: {}, pops: {} };
}

function originCounts(): OriginCounts {
  return { requests: 0, responses: {}, failures: 0, retries: 0, ejections: 0, latency: new Array(LATENCY_BUCKETS_MS.length + 1).fill(0), latency_sum_ms: 0 };
}

function bucketOf(ms: number): number {
  for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) if (ms <= LATENCY_BUCKETS_MS[i]!) return i;
  return LATENCY_BUCKETS_MS.length;
}

export class TrafficCounter {
  private pending = emptyDelta();
  private pendingRequests = 0;

  /** Counts one client request: its attempts, the pool that answered, the PoP, the final status. */
  record(attempts: readonly AttemptRecord[], pool: string | undefined, pop: string | undefined, status: number): void {
    this.pendingRequests++;
    for (let i = 0; i < attempts.length; i++) {
      const attempt = attempts[i]!;
      const counts = (this.pending.origins[attempt.key] ??= originCounts());
      counts.requests++;
      if (i > 0) counts.retries++;
      if (attempt.failed) counts.failures++;
      if (attempt.ejected) counts.ejections++;
      if (attempt.status !== undefined) {
        const cls = statusClass(attempt.status);
        counts.responses[cls] = (counts.responses[cls] ?? 0) + 1;
      }
      if (!attempt.failed) {
        counts.latency[bucketOf(attempt.ms)]!++;
        counts.latency_sum_ms += attempt.ms;
      }
    }
    const cls = statusClass(status);
    if (pool !== undefined) countRequest((this.pending.pools[pool] ??= { requests: 0, responses: {} }), cls);
    countRequest((this.pending.pops[pop ?? 'unknown'] ??= { requests: 0, responses: {} }), cls);
  }

  get pendingCount(): number {
    return this.pendingRequests;
  }

  /** Hands over the pending counts and starts afresh. */
  take(): StatsDelta {
    const delta = this.pending;
    this.pending = emptyDelta();
    this.pendingRequests = 0;
    return delta;
  }
}

function countRequest(counts: RequestCounts, cls: StatusClass): void {
  counts.requests++;
  counts.responses[cls] = (counts.responses[cls] ?? 0) + 1;
}

function addResponses(into: Partial<Record<StatusClass, number>>, from: Partial<Record<StatusClass, number>>): void {
  for (const [cls, n] of Object.entries(from) as [StatusClass, number][]) into[cls] = (into[cls] ?? 0) + n;
}

/** Adds a delta into totals (or into another delta). */
export function mergeStats<T extends StatsDelta>(into: T, delta: StatsDelta): T {
  for (const [key, counts] of Object.entries(delta.origins)) {
    const target = (into.origins[key] ??= originCounts());
    target.requests += counts.requests;
    target.failures += counts.failures;
    target.retries += counts.retries;
    target.ejections += counts.ejections;
    target.latency_sum_ms += counts.latency_sum_ms;
    counts.latency.forEach((n, i) => (target.latency[i] = (target.latency[i] ?? 0) + n));
    addResponses(target.responses, counts.responses);
  }
  for (const kind of ['pools', 'pops'] as const) {
    for (const [key, counts] of Object.entries(delta[kind])) {
      const target = (into[kind][key] ??= { requests: 0, responses: {} });
      target.requests += counts.requests;
      addResponses(target.responses, counts.responses);
    }
  }
  return into;
}

/** A percentile (0..1) of a bucketed histogram, interpolated inside its bucket; null without data. */
export function percentileMs(latency: readonly number[], q: number): number | null {
  const total = latency.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < latency.length; i++) {
    const n = latency[i]!;
    if (n > 0 && seen + n >= rank) {
      const lower = i === 0 ? 0 : LATENCY_BUCKETS_MS[i - 1]!;
      const upper = i < LATENCY_BUCKETS_MS.length ? LATENCY_BUCKETS_MS[i]! : lower;
      return Math.round((lower + ((rank - seen) / n) * (upper - lower)) * 100) / 100;
    }
    seen += n;
  }
  return LATENCY_BUCKETS_MS.at(-1)!;
}

const responseCounts = z.object({ '1xx': z.number(), '2xx': z.number(), '3xx': z.number(), '4xx': z.number(), '5xx': z.number() });

/** The stats document (GET /__lb/api/stats): the admin API's response schema, the OpenAPI document's Stats. */
export const StatsSchema = z
  .object({
    since: z.string(),
    origins: z.array(
      z.object({
        pool: z.string(),
        origin: z.string(),
        requests: z.number().int().meta({ description: 'attempts sent to the origin' }),
        responses: responseCounts,
        failures: z.number().int(),
        retries: z.number().int(),
        ejections: z.number().int(),
        in_flight: z.number().int().meta({ description: 'in flight from the isolate answering' }),
        latency_ms: z.object({ p50: z.number().nullable(), p95: z.number().nullable(), mean: z.number().nullable() }),
      }),
    ),
    pools: z.array(z.object({ pool: z.string(), requests: z.number().int(), responses: responseCounts })),
    pops: z.array(z.object({ pop: z.string(), requests: z.number().int(), responses: responseCounts })),
  })
  .meta({ id: 'Stats' });

export type StatsReport = z.infer<typeof StatsSchema>;

const CLASSES: StatusClass[] = ['1xx', '2xx', '3xx', '4xx', '5xx'];
const allClasses = (r: Partial<Record<StatusClass, number>>) => Object.fromEntries(CLASSES.map((c) => [c, r[c] ?? 0])) as Record<StatusClass, number>;

/** The stats document: every configured origin (zeros included), then any others still counted. */
export function statsReport(totals: StatsTotals, configured: readonly { pool: string; origin: string }[], inFlight: (pool: string, origin: string) => number): StatsReport {
  const keys = [...new Set([...configured.map((o) => `${o.pool}/${o.origin}`), ...Object.keys(totals.origins)])];
  return {
    since: new Date(totals.since).toISOString(),
    origins: keys.map((key) => {
      const slash = key.indexOf('/');
      const pool = key.slice(0, slash);
      const origin = key.slice(slash + 1);
      const c = totals.origins[key] ?? originCounts();
      const served = c.latency.reduce((a, b) => a + b, 0);
      return {
        pool,
        origin,
        requests: c.requests,
        responses: allClasses(c.responses),
        failures: c.failures,
        retries: c.retries,
        ejections: c.ejections,
        in_flight: inFlight(pool, origin),
        latency_ms: {
          p50: percentileMs(c.latency, 0.5),
          p95: percentileMs(c.latency, 0.95),
          mean: served === 0 ? null : Math.round((c.latency_sum_ms / served) * 100) / 100,
        },
      };
    }),
    pools: Object.entries(totals.pools).map(([pool, c]) => ({ pool, requests: c.requests, responses: allClasses(c.responses) })),
    pops: Object.entries(totals.pops).map(([pop, c]) => ({ pop, requests: c.requests, responses: allClasses(c.responses) })),
  };
}
