// What one attempt to an origin came to (SPEC §2.10): forward() makes them, the
// stats count them and the failure answer describes them.
import type { AttemptRecord } from '../stats/traffic';
import type { CompiledOrigin } from '../steering/plan';

/**
 * What one attempt came to. `connect-failure`: no connection was made (the edge's
 * 521/522/523/530, its 1003 for an IP-literal URL); `network`: a connection error the
 * runtime threw, which may have come after the request left; `timeout`: no response
 * headers within attempt_timeout_ms, or a small body silent for read_timeout_ms;
 * `status`: a response whose status is in retry_on; `internal`: the balancer or the
 * runtime refused to send the request (never the origin's doing).
 */
export type AttemptOutcome = 'ok' | 'status' | 'timeout' | 'connect-failure' | 'network' | 'internal';

/** One attempt, as the stats count it too (AttemptRecord: no copy is made for them). */
export interface Attempt extends AttemptRecord {
  origin: CompiledOrigin;
  outcome: AttemptOutcome;
  /** For the Worker's log only: may hold addresses and runtime text, never sent to a client. */
  detail?: string;
  /** Time to response headers, or to the failure. */
  ms: number;
  /** This failure ejected the origin (passive health). */
  ejected: boolean;
}
