import { expect } from 'vitest';
import type { HealthReport } from '../../src/control/health-report';
import { admin } from './worker';

/** POST /health/check: every probe now; the health document once they have all reported. */
export async function check(): Promise<HealthReport> {
  const res = await admin('POST', '/health/check');
  expect(res.status).toBe(200);
  return (await res.json()) as HealthReport;
}

/** GET /health. */
export async function report(): Promise<HealthReport> {
  return (await (await admin('GET', '/health')).json()) as HealthReport;
}

export const originOf = (r: HealthReport, pool: string, origin: string) => r.origins.find((o) => o.pool === pool && o.origin === origin)!;
