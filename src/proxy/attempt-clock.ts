// The timer of one attempt to an origin (SPEC §2.10): attempt_timeout_ms for the
// response headers, then read_timeout_ms for a small body read whole.

/**
 * One timer per attempt (scheduler.wait, the runtime's own), raced against the fetch
 * and then, while a small body is read whole, against that read. An attempt gives the
 * fetch no AbortSignal: one cost 25 to 70 µs of CPU per request in workerd (npm run
 * bench), and a request the balancer stopped waiting for is cancelled with the rest of
 * its I/O once the client's request ends. The body's deadline is read_timeout_ms from
 * its headers: the timer is replaced when that comes before it would fire, and when it
 * fires before the deadline, the wait goes on for what is left.
 */
export class AttemptClock {
  /** Resolves (with undefined) when the timer fires, at `firesAt`. */
  timer: Promise<void>;
  private firesAt: number;

  constructor(ms: number, now: number) {
    this.firesAt = now + ms;
    this.timer = scheduler.wait(ms);
  }

  /** The timer, made to fire by `deadline` when it would fire later or has fired already. */
  by(deadline: number, now: number): Promise<void> {
    if (deadline < this.firesAt || this.firesAt <= now) {
      this.firesAt = deadline;
      this.timer = scheduler.wait(Math.max(0, deadline - now));
    }
    return this.timer;
  }
}
