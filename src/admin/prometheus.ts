import type { HealthReport } from '../control/health-report';
import type { PopRefreshCount } from '../control/pop-refreshes';
import type { HealthMap } from '../health/state';
import { LATENCY_BUCKETS_MS, type StatsTotals, type StatusClass } from '../stats/traffic';

// GET /__lb/metrics: the Prometheus text exposition format (0.0.4), named in the
// style of HAProxy's exporter (haproxy_server_* -> switchyard_origin_*).

export interface MetricsInput {
  totals: StatsTotals;
  health: HealthReport;
  healthMap: HealthMap;
  version: number;
  withdrawn: readonly string[];
  inFlight: (pool: string, origin: string) => number;
  /** The ControlPlane's refreshes per PoP (the PoP tier, SPEC §5). */
  popRefreshes: readonly PopRefreshCount[];
}

type Labels = Record<string, string>;

class Exposition {
  private readonly lines: string[] = [];

  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string, samples: [Labels, number, string?][]): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value, suffix] of samples) this.lines.push(`${name}${suffix ?? ''}${formatLabels(labels)} ${formatValue(value)}`);
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}

function formatValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (Number.isNaN(value)) return 'NaN';
  return String(value);
}

const split = (key: string) => {
  const slash = key.indexOf('/');
  return { pool: key.slice(0, slash), origin: key.slice(slash + 1) };
};

export function prometheusText(input: MetricsInput): string {
  const { totals, health } = input;
  const out = new Exposition();
  const origins = Object.entries(totals.origins).map(([key, counts]) => ({ ...split(key), counts }));

  out.family(
    'switchyard_origin_requests_total',
    'counter',
    'Responses received from each origin, by status class.',
    origins.flatMap(({ pool, origin, counts }) =>
      (Object.entries(counts.responses) as [StatusClass, number][]).map(([code, n]): [Labels, number] => [{ pool, origin, code }, n]),
    ),
  );
  out.family(
    'switchyard_origin_attempts_total',
    'counter',
    'Attempts sent to each origin, failed ones included.',
    origins.map(({ pool, origin, counts }) => [{ pool, origin }, counts.requests]),
  );
  out.family(
    'switchyard_origin_failures_total',
    'counter',
    'Failed attempts: network errors, timeouts and 502/503/504 responses.',
    origins.map(({ pool, origin, counts }) => [{ pool, origin }, counts.failures]),
  );
  out.family(
    'switchyard_origin_ejections_total',
    'counter',
    'Passive-health ejections of each origin.',
    origins.map(({ pool, origin, counts }) => [{ pool, origin }, counts.ejections]),
  );
  const retriesByPool = new Map<string, number>();
  for (const { pool, counts } of origins) retriesByPool.set(pool, (retriesByPool.get(pool) ?? 0) + counts.retries);
  out.family(
    'switchyard_retries_total',
    'counter',
    'Attempts that retried a request on another origin, by the pool of that origin.',
    [...retriesByPool].map(([pool, n]) => [{ pool }, n]),
  );
  out.family(
    'switchyard_origin_response_seconds',
    'histogram',
    'Time from sending an attempt to its response headers.',
    origins.flatMap(({ pool, origin, counts }) => {
      let cumulative = 0;
      const buckets = counts.latency.map((n, i): [Labels, number, string] => {
        cumulative += n;
        const le = i < LATENCY_BUCKETS_MS.length ? String(LATENCY_BUCKETS_MS[i]! / 1000) : '+Inf';
        return [{ pool, origin, le }, cumulative, '_bucket'];
      });
      return [...buckets, [{ pool, origin }, counts.latency_sum_ms / 1000, '_sum'], [{ pool, origin }, cumulative, '_count']];
    }),
  );

  out.family(
    'switchyard_origin_up',
    'gauge',
    'Whether each origin counts as healthy by active checks (1) or not (0); never checked counts as 1.',
    health.origins.map((o) => [{ pool: o.pool, origin: o.origin }, o.healthy ? 1 : 0]),
  );
  out.family(
    'switchyard_origin_check_failures_total',
    'counter',
    'Failed active checks of each origin.',
    health.origins.map((o) => [{ pool: o.pool, origin: o.origin }, input.healthMap[o.pool]?.[o.origin]?.check_failures ?? 0]),
  );
  out.family(
    'switchyard_origin_check_rtt_seconds',
    'gauge',
    'Moving average of active-check round trips.',
    health.origins.flatMap((o): [Labels, number][] => (o.rtt_ms === null ? [] : [[{ pool: o.pool, origin: o.origin }, o.rtt_ms / 1000]])),
  );
  const regional = health.origins.flatMap((o) => (o.regions ?? []).map((r) => ({ labels: { pool: o.pool, origin: o.origin, region: r.region }, check: r })));
  out.family(
    'switchyard_origin_region_up',
    'gauge',
    "An origin of a pool with check_regions as each region's prober finds it: healthy (1) or not (0); never checked counts as 1.",
    regional.map(({ labels, check }) => [labels, check.state === 'unhealthy' ? 0 : 1]),
  );
  out.family(
    'switchyard_origin_region_check_rtt_seconds',
    'gauge',
    "Moving average of each check region's round trips to an origin.",
    regional.flatMap(({ labels, check }): [Labels, number][] => (check.rtt_ms === null ? [] : [[labels, check.rtt_ms / 1000]])),
  );
  out.family(
    'switchyard_origin_in_flight',
    'gauge',
    'Requests in flight to each origin from the isolate answering this scrape.',
    health.origins.map((o) => [{ pool: o.pool, origin: o.origin }, input.inFlight(o.pool, o.origin)]),
  );
  out.family(
    'switchyard_pool_healthy',
    'gauge',
    'Whether each pool is healthy (enabled, with at least minimum_origins healthy origins).',
    health.pools.map((p) => [{ pool: p.id }, p.healthy ? 1 : 0]),
  );
  out.family(
    'switchyard_pool_requests_total',
    'counter',
    'Client requests each pool answered, by status class.',
    Object.entries(totals.pools).flatMap(([pool, c]) => (Object.entries(c.responses) as [StatusClass, number][]).map(([code, n]): [Labels, number] => [{ pool, code }, n])),
  );
  out.family(
    'switchyard_pop_requests_total',
    'counter',
    'Client requests by the PoP they entered at, by status class.',
    Object.entries(totals.pops).flatMap(([pop, c]) => (Object.entries(c.responses) as [StatusClass, number][]).map(([code, n]): [Labels, number] => [{ pop, code }, n])),
  );
  out.family('switchyard_pop_withdrawn', 'gauge', 'PoPs withdrawn from the anycast simulation.', input.withdrawn.map((pop) => [{ pop }, 1]));
  out.family(
    'switchyard_pop_refreshes_total',
    'counter',
    'Snapshot refreshes the control plane served to each PoP since it started: at most one per PoP per SNAPSHOT_TTL_MS.',
    input.popRefreshes.map((p) => [{ pop: p.pop }, p.refreshes]),
  );
  out.family(
    'switchyard_pop_refresh_min_interval_seconds',
    'gauge',
    'Shortest time between two refreshes of one PoP since the control plane started; below SNAPSHOT_TTL_MS means two isolates of the PoP both refreshed.',
    input.popRefreshes.flatMap((p): [Labels, number][] => (p.minIntervalMs === null ? [] : [[{ pop: p.pop }, p.minIntervalMs / 1000]])),
  );
  out.family('switchyard_config_version', 'gauge', 'Version of the stored configuration.', [[{}, input.version]]);
  return out.toString();
}
