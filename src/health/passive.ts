// Passive health, nginx's max_fails/fail_timeout with a guard: failures seen on live
// traffic eject an origin for a while, but never more than max_ejection_percent of a
// pool at once, so one poisoned request cannot take a whole pool down. Pure: the
// caller passes `now` (ms).

export interface PassivePolicy {
  max_fails: number;
  fail_timeout: number; // seconds
  max_ejection_percent: number;
}

/**
 * The policy for a pool that several load balancers send to: the one hardest to eject
 * by, so that no load balancer's looser settings (a canary's max_fails 1) eject origins
 * for the others: the most max_fails, the shortest fail_timeout (a shorter window and
 * shorter ejections), the least max_ejection_percent. Undefined when none has passive
 * health on.
 */
export function hardestPolicy(policies: Iterable<PassivePolicy>): PassivePolicy | undefined {
  let hardest: PassivePolicy | undefined;
  for (const p of policies) {
    if (p.max_fails <= 0) continue;
    hardest =
      hardest === undefined
        ? { max_fails: p.max_fails, fail_timeout: p.fail_timeout, max_ejection_percent: p.max_ejection_percent }
        : {
            max_fails: Math.max(hardest.max_fails, p.max_fails),
            fail_timeout: Math.min(hardest.fail_timeout, p.fail_timeout),
            max_ejection_percent: Math.min(hardest.max_ejection_percent, p.max_ejection_percent),
          };
  }
  return hardest;
}

interface PoolEjections {
  generation: number;
  ejectedUntil: Map<string, number>;
  ejectedAt: Map<string, number>;
  nextExpiry: number;
}

export class PassiveHealth {
  private readonly failures = new Map<string, number[]>();
  private readonly pools = new Map<string, PoolEjections>();

  /**
   * Records a failed attempt; returns true when it ejected the origin.
   * `poolSize` is the number of the pool's origins that serve (enabled and healthy by
   * active checks), for the ejection cap: origins that are disabled or down already
   * must not make room for ejecting the ones left.
   */
  recordFailure(pool: string, origin: string, poolSize: number, policy: PassivePolicy, now: number): boolean {
    if (policy.max_fails <= 0) return false;
    const key = `${pool}\u0000${origin}`;
    const windowStart = now - policy.fail_timeout * 1000;
    const times = (this.failures.get(key) ?? []).filter((t) => t > windowStart);
    times.push(now);
    // Only the newest max_fails count: while the cap holds an origin in, its failures do not pile up.
    if (times.length > policy.max_fails) times.splice(0, times.length - policy.max_fails);
    this.failures.set(key, times);
    if (times.length < policy.max_fails) return false;

    const state = this.poolState(pool, now);
    if (state.ejectedUntil.has(origin)) return false;
    const cap = Math.floor((poolSize * policy.max_ejection_percent) / 100);
    if (state.ejectedUntil.size + 1 > cap) return false;
    const until = now + policy.fail_timeout * 1000;
    state.ejectedUntil.set(origin, until);
    state.ejectedAt.set(origin, now);
    state.nextExpiry = Math.min(state.nextExpiry, until);
    state.generation++;
    this.failures.delete(key);
    return true;
  }

  /** A success clears the origin's failure count, as in nginx. */
  recordSuccess(pool: string, origin: string): void {
    if (this.failures.size > 0) this.failures.delete(`${pool}\u0000${origin}`);
  }

  /** Ends an ejection early (an active check succeeded). */
  readmit(pool: string, origin: string): void {
    const state = this.pools.get(pool);
    if (state?.ejectedUntil.delete(origin)) {
      state.ejectedAt.delete(origin);
      state.generation++;
    }
  }

  /**
   * Ends the ejections that an active check has since contradicted: `checkedUpAt`
   * tells when a check last found an origin up. Returns how many ended.
   */
  readmitChecked(checkedUpAt: (pool: string, origin: string) => number | undefined): number {
    let readmitted = 0;
    for (const [pool, state] of this.pools) {
      for (const [origin, at] of state.ejectedAt) {
        const checked = checkedUpAt(pool, origin);
        if (checked !== undefined && checked > at) {
          this.readmit(pool, origin);
          readmitted++;
        }
      }
    }
    return readmitted;
  }

  isEjected(pool: string, origin: string, now: number): boolean {
    const state = this.pools.get(pool);
    if (state === undefined || state.ejectedUntil.size === 0) return false;
    return this.poolState(pool, now).ejectedUntil.has(origin);
  }

  /** Changes whenever the pool's set of ejected origins changes, expiries included. */
  generation(pool: string, now: number): number {
    const state = this.pools.get(pool);
    return state === undefined ? 0 : this.poolState(pool, now).generation;
  }

  ejectedCount(pool: string, now: number): number {
    return this.pools.has(pool) ? this.poolState(pool, now).ejectedUntil.size : 0;
  }

  private poolState(pool: string, now: number): PoolEjections {
    let state = this.pools.get(pool);
    if (state === undefined) {
      state = { generation: 0, ejectedUntil: new Map(), ejectedAt: new Map(), nextExpiry: Infinity };
      this.pools.set(pool, state);
    }
    if (now >= state.nextExpiry) {
      let next = Infinity;
      for (const [origin, until] of state.ejectedUntil) {
        if (until <= now) {
          state.ejectedUntil.delete(origin);
          state.ejectedAt.delete(origin);
        } else next = Math.min(next, until);
      }
      state.nextExpiry = next;
      state.generation++;
    }
    return state;
  }
}
