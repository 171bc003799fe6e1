import { bindingOf, settings, type Env } from '../env';
import type { Region } from '../geo/regions';
import { mapBounded, probe, type ProbeOutcome } from '../health/probe';
import type { CheckTarget } from './health-schedule';

// The probing half of a check round, shared by the ControlPlane and the probers of
// check regions (prober.ts): each Durable Object has one runner, with its own six
// connections, and knows which of its probes are still out and which rounds run.

/** Workers allow six open connections per invocation. */
export const PROBE_CONCURRENCY = 6;

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

  /** Probes `targets`, at most PROBE_CONCURRENCY at once; outcomes in their order, a probe that throws a failed one. */
  async probe(targets: readonly CheckTarget[]): Promise<ProbeOutcome[]> {
    for (const target of targets) this.probing.add(target.key);
    const options = { network: (name: string) => bindingOf(this.env, name), zones: settings(this.env).zones, region: this.region };
    try {
      return await mapBounded(targets, PROBE_CONCURRENCY, (t) => probe(t.monitor, t.origin, options), (error) => ({
        ok: false,
        rtt_ms: 0,
        reason: `probe failed: ${(error as Error)?.message ?? String(error)}`,
        attempts: 1,
      }));
    } finally {
      for (const target of targets) this.probing.delete(target.key);
    }
  }
}
