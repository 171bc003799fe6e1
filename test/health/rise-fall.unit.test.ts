import { describe, expect, it } from 'vitest';
import { nextHealth, stateOf, type ProbeResult } from '../../src/health/rise-fall';
import type { OriginHealth } from '../../src/health/state';

const ok = (rtt_ms = 10): ProbeResult => ({ ok: true, rtt_ms, reason: '' });
const fail = (reason = 'timeout after 2000 ms'): ProbeResult => ({ ok: false, rtt_ms: 2000, reason });
const rules = { consecutive_up: 2, consecutive_down: 3 };

/** Feeds results one by one from `start`, one second apart; returns the health after each and the transitions. */
function run(results: ProbeResult[], start?: OriginHealth) {
  let health = start;
  const states: string[] = [];
  const transitions: string[] = [];
  results.forEach((result, i) => {
    const next = nextHealth(health, result, rules, 1_000 * (i + 1));
    health = next.health;
    states.push(stateOf(health));
    if (next.transition) transitions.push(`${next.transition.from}->${next.transition.to} at ${i + 1}`);
  });
  return { health: health!, states, transitions };
}

describe('rise and fall', () => {
  it('an origin never checked counts as healthy and falls only after consecutive_down failures', () => {
    expect(stateOf(undefined)).toBe('unknown');
    const { states, transitions, health } = run([fail(), fail(), fail()]);
    expect(states).toEqual(['healthy', 'healthy', 'unhealthy']);
    expect(transitions).toEqual(['healthy->unhealthy at 3']);
    expect(health).toMatchObject({ healthy: false, consecutive_down: 3, consecutive_up: 0, reason: 'timeout after 2000 ms', since: 3000 });
  });

  it('a success in between resets the fall count: no flapping on isolated failures', () => {
    const { states, transitions } = run([fail(), fail(), ok(), fail(), fail(), ok()]);
    expect(states.every((s) => s === 'healthy')).toBe(true);
    expect(transitions).toEqual([]);
  });

  it('an unhealthy origin rises after consecutive_up successes, and a failure in between restarts the count', () => {
    const down = run([fail(), fail(), fail()]).health;
    const { states, transitions, health } = run([ok(), fail(), ok(), ok()], down);
    expect(states).toEqual(['unhealthy', 'unhealthy', 'unhealthy', 'healthy']);
    expect(transitions).toEqual(['unhealthy->healthy at 4']);
    expect(health).toMatchObject({ healthy: true, consecutive_up: 2, reason: '', since: 4000 });
  });

  it('the transition reason says why', () => {
    const first = nextHealth(undefined, fail('status 503 not in 2xx'), { consecutive_up: 1, consecutive_down: 1 }, 0);
    expect(first.transition).toEqual({ from: 'unknown', to: 'unhealthy', reason: 'status 503 not in 2xx (1 consecutive failed check)' });
    const back = nextHealth(first.health, ok(), { consecutive_up: 1, consecutive_down: 1 }, 1);
    expect(back.transition).toEqual({ from: 'unhealthy', to: 'healthy', reason: '1 consecutive successful check' });
  });

  it('keeps a moving average of successful round trips; failures leave it alone', () => {
    const { health } = run([ok(100), ok(200), fail(), ok(100)]);
    // 100 -> 100 + 0.3*(200-100) = 130 -> (failure) 130 -> 130 + 0.3*(100-130) = 121
    expect(health.rtt_ms).toBe(121);
    expect(run([fail()]).health.rtt_ms).toBeUndefined();
  });

  it('records the time of the last check', () => {
    expect(nextHealth(undefined, ok(), rules, Date.UTC(2026, 0, 2)).health.last_check_at).toBe('2026-01-02T00:00:00.000Z');
  });
});
