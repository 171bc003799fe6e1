// The timer of one attempt to an origin (SPEC §2.10): attempt_timeout_ms for the
// response headers, then read_timeout_ms for a small body read whole.

/**
 * One timer per attempt (scheduler.wait, the runtime's own), raced against the fetch
 * and then, while a small body is read whole, against that read. A request's first
 * attempt gives the fetch no AbortSignal: one cost 25 to 70 µs of CPU per request in
 * workerd (npm run bench). When it times out or stalls, the balancer lets it go, and
 * what is still open of it ends with the client's request (the runtime cancels a
 * request's leftover I/O). A retry can be abandoned after it in turn, and each open
 * one holds one of the six connections a request may have, so from the second attempt
 * on each has a signal and is aborted when it is given up: one request leaves at most
 * one attempt running, whatever `retries` says.
 *
 * The body's deadline is read_timeout_ms from its headers: the timer is replaced when
 * that comes first; when the timer fires before it, the wait goes on for what is left.
 */
export class AttemptClock {
  /** Resolves (with undefined) when the timer fires, at `firesAt`. */
  timer: Promise<void>;
  private firesAt: number;
  /** Aborts the attempt; undefined for a request's first attempt. */
  readonly controller: AbortController | undefined;

  constructor(ms: number, now: number, abortable: boolean) {
    this.firesAt = now + ms;
    this.timer = scheduler.wait(ms);
    this.controller = abortable ? new AbortController() : undefined;
  }

  /** The timer, made to fire by `deadline` when it would fire later. */
  by(deadline: number, now: number): Promise<void> {
    if (deadline < this.firesAt) this.wait(deadline, now);
    return this.timer;
  }

  /** A new timer for what is left until `deadline` (at least 1 ms), once the last one fired. */
  again(deadline: number, now: number): Promise<void> {
    this.wait(deadline, now);
    return this.timer;
  }

  /** The attempt is given up: aborted when it can be, otherwise left to end with the request. */
  giveUp(): void {
    this.controller?.abort();
  }

  private wait(deadline: number, now: number): void {
    this.firesAt = deadline;
    this.timer = scheduler.wait(Math.max(1, deadline - now));
  }
}
