import { bindingOf, settings, type Env } from '../env';
import type { Region } from '../geo/regions';
import { isSubrequestLimit, mapBounded, probe, uncheckedOutcome, type ProbeOutcome } from '../health/probe';
import type { CheckTarget } from './health-schedule';

// The probing half of a check round, shared by the ControlPlane and the probers of
// check regions (prober.ts): each Durable Object has one runner, with its own six
// connections, and knows which of its probes are still out and which rounds run.

/** Workers allow six open connections per invocation. */
export const PROBE_CONCURRENCY = 6;

/**
 * Probe attempts one round may make. A Worker invocation (an alarm, an RPC) may make a
 * limited number of subrequests: 1,000 on the paid plan as long documented (10,000
 * now), 50 on the free plan. A round stays under the smaller paid figure with room for
 * the webhook's posts and the report beside it; the probes it leaves, and any the
 * runtime refuses past its own limit, count as not checked (never as failed), stay due
 * and go first in the next round, which the alarm starts a second later.
 */
export const ROUND_SUBREQUESTS = 900;

export class CheckRunner {
  /** Origins being probed now ("pool\0origin"): a check never overlaps the previous one. */
  private readonly probing = new Set<string>();
  /** Check rounds running now, for a caller of checkNow to wait for. */
  private readonly rounds = new Set<Promise<unknown>>();

  /** `region`: the check region whose prober this is (its probes say so in x-lb-probe-region); undefined for the ControlPlane. */
  constructor(
    private readonly env: Env,
    private readonly region?: Region,
  ) {}

  /** Probes being made now: the next round leaves them out. */
  get busy(): ReadonlySet<string> {
    return this.probing;
  }

  /** The rounds running now. */
  running(): Promise<unknown>[] {
    return [...this.rounds];
  }

  /** Keeps `round` among the running rounds until it settles. */
  track<T>(round: Promise<T>): Promise<T> {
    this.rounds.add(round);
    const done = (): void => void this.rounds.delete(round);
    round.then(done, done);
    return round;
  }

  /**
   * Probes `targets`, at most PROBE_CONCURRENCY at once and `budget` attempts in all;
   * outcomes in their order, a probe that throws a failed one, one the budget or the
   * runtime's subrequest limit left unmade an unchecked one.
   */
  async probe(targets: readonly CheckTarget[], budget = ROUND_SUBREQUESTS): Promise<ProbeOutcome[]> {
    for (const target of targets) this.probing.add(target.key);
    let left = budget;
    const spend = (): boolean => left-- > 0;
    const options = { network: (name: string) => bindingOf(this.env, name), zones: settings(this.env).zones, region: this.region, spend };
    try {
      return await mapBounded(targets, PROBE_CONCURRENCY, (t) => probe(t.monitor, t.origin, options), (error) =>
        isSubrequestLimit(error) ? uncheckedOutcome(0) : { ok: false, rtt_ms: 0, reason: `probe failed: ${(error as Error)?.message ?? String(error)}`, attempts: 1 },
      );
    } finally {
      for (const target of targets) this.probing.delete(target.key);
    }
  }
}
