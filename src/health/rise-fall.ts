import type { OriginHealth } from './state';

// HAProxy's `check rise N fall M`, pure: the stored health of an origin and one probe
// outcome in, the new health and the transition (if any) out. An origin never
// checked counts as healthy, so only `consecutive_down` failures take it down; an
// unhealthy origin needs `consecutive_up` successes to come back.

export interface ProbeResult {
  ok: boolean;
  rtt_ms: number;
  reason: string;
  /** The probe could not be made (the invocation's subrequests ran out): no outcome at all, never a failure. */
  unchecked?: boolean;
}

export interface Thresholds {
  consecutive_up: number;
  consecutive_down: number;
}

export type HealthState = 'unknown' | 'healthy' | 'unhealthy';

export interface Transition {
  from: HealthState;
  to: Exclude<HealthState, 'unknown'>;
  reason: string;
}

/** Weight of the newest probe in the RTT moving average (dynamic_latency). */
export const RTT_SMOOTHING = 0.3;

export function stateOf(health: OriginHealth | undefined): HealthState {
  return health === undefined ? 'unknown' : health.healthy ? 'healthy' : 'unhealthy';
}

export function nextHealth(
  previous: OriginHealth | undefined,
  result: ProbeResult,
  thresholds: Thresholds,
  now: number,
): { health: OriginHealth; transition: Transition | undefined } {
  const up = result.ok ? (previous?.consecutive_up ?? 0) + 1 : 0;
  const down = result.ok ? 0 : (previous?.consecutive_down ?? 0) + 1;
  const wasHealthy = previous?.healthy ?? true;

  let healthy = wasHealthy;
  let transition: Transition | undefined;
  if (wasHealthy && !result.ok && down >= thresholds.consecutive_down) {
    healthy = false;
    transition = { from: stateOf(previous), to: 'unhealthy', reason: `${result.reason} (${down} consecutive failed check${down > 1 ? 's' : ''})` };
  } else if (!wasHealthy && result.ok && up >= thresholds.consecutive_up) {
    healthy = true;
    transition = { from: 'unhealthy', to: 'healthy', reason: `${up} consecutive successful check${up > 1 ? 's' : ''}` };
  }

  const rtt = result.ok
    ? previous?.rtt_ms === undefined
      ? result.rtt_ms
      : previous.rtt_ms + RTT_SMOOTHING * (result.rtt_ms - previous.rtt_ms)
    : previous?.rtt_ms;
  const health: OriginHealth = {
    healthy,
    consecutive_up: up,
    consecutive_down: down,
    last_check_at: new Date(now).toISOString(),
    reason: result.ok ? '' : result.reason,
    check_failures: (previous?.check_failures ?? 0) + (result.ok ? 0 : 1),
  };
  if (rtt !== undefined) health.rtt_ms = Math.round(rtt * 100) / 100;
  const since = transition !== undefined ? now : previous?.since;
  if (since !== undefined) health.since = since;
  return { health, transition };
}
