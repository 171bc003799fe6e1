import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prometheusText } from '../../src/admin/prometheus';
import type { HealthMap } from '../../src/health/state';
import { TrafficCounter, type StatsTotals } from '../../src/stats/traffic';
import { parsePrometheus } from '../support/prometheus';
import { labelValuesQuery, queryNames } from '../support/promql';

// examples/grafana-dashboard.json may only ask for what Switchyard exports: every
// query's metrics, their label matchers, the labels it groups by and its legend's
// labels are checked against the metrics src/admin/prometheus.ts writes.

const DASHBOARD = join(import.meta.dirname, '..', '..', 'examples', 'grafana-dashboard.json');
/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = ['job', 'instance'];

/**
 * The series Switchyard exports and each one's labels, from prometheusText itself: the
 * families from its TYPE lines (written even without samples; a histogram is its
 * _bucket, _sum and _count series), the labels from a scrape in which every family has
 * a sample.
 */
function exported(): Map<string, Set<string>> {
  const counter = new TrafficCounter();
  counter.record([{ key: 'p/o', status: 503, failed: true, ejected: true, ms: 30 }, { key: 'p/o2', status: 200, failed: false, ejected: false, ms: 20 }], 'p', 'FRA', 200);
  const totals: StatsTotals = { ...counter.take(), since: 0 };
  const healthMap = { p: { o: { healthy: true, rtt_ms: 12, consecutive_up: 1, consecutive_down: 0, last_check_at: '2026-01-01T00:00:00Z', reason: null, check_failures: 1 } } } as unknown as HealthMap;
  const text = prometheusText({
    totals,
    health: {
      pools: [{ id: 'p', healthy: true, healthy_origins: 1, minimum_origins: 1 }],
      origins: [{ pool: 'p', origin: 'o', healthy: true, state: 'healthy', consecutive_up: 1, consecutive_down: 0, last_check_at: null, rtt_ms: 12, reason: null }],
    },
    healthMap,
    version: 3,
    withdrawn: ['FRA'],
    inFlight: () => 1,
    popRefreshes: [{ pop: 'FRA', refreshes: 2, minIntervalMs: 2000, lastAt: 0 }],
  });
  const series = new Map<string, Set<string>>();
  for (const family of parsePrometheus(text)) {
    const names = family.type === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => family.name + s) : [family.name];
    for (const name of names) series.set(name, new Set(TARGET_LABELS));
    for (const sample of family.samples) for (const label of Object.keys(sample.labels)) series.get(sample.name)!.add(label);
  }
  return series;
}

interface Target {
  expr?: string;
  legendFormat?: string;
}
interface Panel {
  id: number;
  title: string;
  type: string;
  targets?: Target[];
  panels?: Panel[];
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[]; templating: { list: { name: string; type: string; query: string | { query: string } }[] } };
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queries = panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, ...target })));
const series = exported();

/** What is wrong with one query, as readable lines (empty: nothing). */
function problems(expr: string, legend = ''): string[] {
  const found: string[] = [];
  const { selectors, grouping } = queryNames(expr);
  if (selectors.length === 0) found.push('names no metric');
  const labels = new Set<string>();
  for (const { metric, labels: matched } of selectors) {
    const known = series.get(metric);
    if (known === undefined) {
      found.push(`${metric} is not exported`);
      continue;
    }
    for (const label of known) labels.add(label);
    for (const label of matched) if (!known.has(label)) found.push(`${metric} has no label ${label}`);
  }
  for (const label of grouping) if (!labels.has(label)) found.push(`groups by ${label}, which none of its metrics has`);
  for (const [, label] of legend.matchAll(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)) if (!labels.has(label!)) found.push(`legend names ${label}, which none of its metrics has`);
  return found;
}

describe('examples/grafana-dashboard.json', () => {
  it('derives the exported metrics from src/admin/prometheus.ts', () => {
    expect(series.size).toBeGreaterThanOrEqual(17);
    expect(series.get('switchyard_origin_response_seconds_bucket')).toContain('le');
    expect(series.get('switchyard_origin_requests_total')).toEqual(new Set(['job', 'instance', 'pool', 'origin', 'code']));
  });

  it('has panels with unique ids, each query with its own refId', () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(queries.length).toBeGreaterThanOrEqual(15);
    for (const panel of panels.filter((p) => p.type !== 'row')) expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
  });

  it('asks in every query only for metrics Switchyard exports, with labels they have', () => {
    const wrong = queries.flatMap(({ panel, expr, legendFormat }) => (expr === undefined ? [`${panel}: a target without expr`] : problems(expr, legendFormat).map((p) => `${panel}: ${p}`)));
    expect(wrong).toEqual([]);
  });

  it('takes its variables from exported metrics and labels', () => {
    const variables = dashboard.templating.list.filter((v) => v.type === 'query');
    expect(variables.map((v) => v.name)).toEqual(['pool', 'origin']);
    for (const variable of variables) {
      const { selector, label } = labelValuesQuery(typeof variable.query === 'string' ? variable.query : variable.query.query);
      expect(series.get(selector.metric), selector.metric).toBeDefined();
      expect([label, ...selector.labels].filter((l) => !series.get(selector.metric)!.has(l))).toEqual([]);
    }
  });

  it('is a check that catches a wrong name, label, grouping or function', () => {
    expect(problems('sum(rate(switchyard_origin_request_total[5m]))')).toEqual(['switchyard_origin_request_total is not exported']);
    expect(problems('switchyard_pool_healthy{origin="a"}')).toEqual(['switchyard_pool_healthy has no label origin']);
    expect(problems('sum by (pop) (switchyard_pool_healthy)')).toEqual(['groups by pop, which none of its metrics has']);
    expect(problems('switchyard_config_version', '{{pool}}')).toEqual(['legend names pool, which none of its metrics has']);
    expect(problems('vector(1)')).toEqual(['names no metric']);
    expect(() => queryNames('histogram_quantil(0.9, switchyard_origin_response_seconds_bucket)')).toThrow(/unknown function/);
    expect(() => queryNames('sum(rate(switchyard_retries_total[5m])')).toThrow(/unbalanced/);
    expect(() => queryNames('{__name__="switchyard_config_version"}')).toThrow(/without a metric name/);
  });
});
