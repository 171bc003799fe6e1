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
 * Probe attempts the rounds of one invocation may make. A Worker invocation (an alarm,
 * an RPC) may make a limited number of subrequests: 1,000 on the paid plan as long documented (10,000
 * now), 50 on the free plan. A round stays under the smaller paid figure with room for
 * the webhook's posts and the report beside it; the probes it leaves, and any the
 * runtime refuses past its own limit, count as not checked (never as failed), stay due
 * and go first in the next round, which the alarm starts a second later.
 */
export const ROUND_SUBREQUESTS = 900;

/** Outcomes that came in are applied at most this long after: a slow probe holds back neither the others' results nor their next checks. */
export const BATCH_MS = 1000;

/** The probe attempts an invocation has left (ROUND_SUBREQUESTS to start with), shared by the rounds it runs. */
export interface ProbeBudget {
  left: number;
}

export const probeBudget = (): ProbeBudget => ({ left: ROUND_SUBREQUESTS });

/** While a round's probes are out, how often the origins that came due meanwhile get a round of their own. */
export const FOLLOW_UP_MS = 1000;

/** Applies a batch of a round's outcomes (in the order of its targets). */
export type ApplyOutcomes = (targets: CheckTarget[], outcomes: ProbeOutcome[]) => Promise<void>;

/**
 * How long an origin counts as being probed at most. A probe ends by its own deadline
 * (`timeout` × (`retries` + 1), 6 minutes at most) or by the budget; this only frees an
 * origin whose probe never ended at all (work the runtime dropped with its invocation).
 */
const BUSY_AT_MOST_MS = 10 * 60_000;
/** How often a probe waiting for a connection looks again, besides being woken. */
const RECHECK_MS = 5000;

export class CheckRunner {
  /** Origins being probed now ("pool\0origin"), by the round probing them and until when: a check never overlaps the previous one. */
  private readonly probing = new Map<string, { round: symbol; until: number }>();
  /** Check rounds running now, for a caller of checkNow to wait for. */
  private readonly rounds = new Set<Promise<unknown>>();
  /** The probes holding one of the object's PROBE_CONCURRENCY connections, since when. */
  private readonly holding = new Map<symbol, number>();
  /** Probes waiting for a connection, each woken by the next one let go. */
  private readonly waiting: (() => void)[] = [];

  /** `region`: the check region whose prober this is (its probes say so in x-lb-probe-region); undefined for the ControlPlane. */
  constructor(
    private readonly env: Env,
    private readonly region?: Region,
  ) {}

  /** Probes being made now: the next round leaves them out. */
  readonly busy = {
    has: (key: string): boolean => {
      const entry = this.probing.get(key);
      return entry !== undefined && entry.until > Date.now();
    },
  };

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
   * Probes `targets`, at most PROBE_CONCURRENCY at once and within `budget`; outcomes
   * in their order, a probe that throws a failed one, one the budget or the runtime's
   * subrequest limit left unmade an unchecked one.
   */
  async probe(targets: readonly CheckTarget[], budget: ProbeBudget = probeBudget()): Promise<ProbeOutcome[]> {
    const outcomes = new Array<ProbeOutcome>(targets.length);
    const index = new Map(targets.map((t, i) => [t, i]));
    await this.probeInBatches(targets, async (batch, results) => batch.forEach((t, i) => (outcomes[index.get(t)!] = results[i]!)), budget, 0);
    return outcomes;
  }

  /**
   * Runs `fn` holding one of the object's PROBE_CONCURRENCY connections. Rounds that run
   * side by side (the alarm's, the cron's, POST /health/check's) share them: a seventh
   * connection would only be queued by the runtime, while its probe's timeout ran.
   */
  private async withConnection<T>(fn: () => Promise<T>): Promise<T> {
    for (;;) {
      // A probe the runtime dropped without ending never lets go: its hold lapses as its busy entry does.
      const lapsed = Date.now() - BUSY_AT_MOST_MS;
      for (const [token, since] of this.holding) if (since < lapsed) this.holding.delete(token);
      if (this.holding.size < PROBE_CONCURRENCY) break;
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        // Looked at again now and then, for holds that lapse.
        void scheduler.wait(RECHECK_MS).then(() => {
          const at = this.waiting.indexOf(resolve);
          if (at !== -1) this.waiting.splice(at, 1);
          resolve();
        });
      });
    }
    const token = Symbol('connection');
    this.holding.set(token, Date.now());
    try {
      return await fn();
    } finally {
      this.holding.delete(token);
      this.waiting.shift()?.();
    }
  }

  /**
   * A round of `targets`, its outcomes applied as they come in (probeInBatches); while
   * it runs, every FOLLOW_UP_MS, a round of the origins `due` names then (those that
   * came due meanwhile, less the busy ones), from the same budget, until none is out.
   * One origin that holds its probe's connection open cannot hold back the others'
   * checks.
   */
  async runRounds(targets: readonly CheckTarget[], due: () => readonly CheckTarget[], apply: ApplyOutcomes, budget: ProbeBudget = probeBudget(), drain = false): Promise<void> {
    const out = new Set<Promise<void>>();
    let startedAt = Date.now();
    const start = (list: readonly CheckTarget[]): void => {
      startedAt = Date.now();
      if (list.length === 0) return;
      const round = this.probeInBatches(list, apply, budget);
      out.add(round);
      const done = (): void => void out.delete(round);
      round.then(done, done);
    };
    start(targets);
    while (out.size > 0) {
      // Once the budget is spent nothing new can start here. Unless told to drain (POST
      // /health/check answers with every outcome), the caller goes on: the alarm re-arms,
      // for a fresh invocation, and the rounds still out end by their deadlines, their
      // origins busy and the rounds tracked (a later check waits for them) until then.
      if (budget.left <= 0 && !drain) break;
      await Promise.race([...out, scheduler.wait(Math.max(0, startedAt + FOLLOW_UP_MS - Date.now()))]);
      if (out.size > 0 && budget.left > 0 && Date.now() - startedAt >= FOLLOW_UP_MS) start(due());
    }
    for (const round of out) void this.track(round);
  }

  /**
   * Probes `targets` as probe() does, handing outcomes to `apply` as they come in: at
   * most `batchMs` after each (0: all at the end), and the rest once the last probe
   * is done. An origin stays in `busy` until its outcome is applied, so its next check
   * never starts before this one is recorded. A slow probe (an origin that holds the
   * connection open: `timeout` × (`retries` + 1)) thus holds back neither the other
   * origins' results nor, through the alarm's next rounds, their next checks.
   */
  async probeInBatches(targets: readonly CheckTarget[], apply: ApplyOutcomes, budget: ProbeBudget = probeBudget(), batchMs = BATCH_MS): Promise<void> {
    const round = Symbol('round');
    const until = Date.now() + BUSY_AT_MOST_MS;
    for (const target of targets) this.probing.set(target.key, { round, until });
    // Only this round's own entries: another round may probe the origin again by now.
    const free = (key: string): void => {
      if (this.probing.get(key)?.round === round) this.probing.delete(key);
    };
    const spend = (): boolean => budget.left-- > 0;
    const options = { network: (name: string) => bindingOf(this.env, name), zones: settings(this.env).zones, region: this.region, spend };
    const came: { target: CheckTarget; outcome: ProbeOutcome }[] = [];
    let applying: Promise<void> = Promise.resolve();
    let armed = false;
    const flush = (): Promise<void> => {
      const batch = came.splice(0);
      if (batch.length > 0) {
        applying = applying
          .then(() => apply(batch.map((b) => b.target), batch.map((b) => b.outcome)))
          .catch((error) => console.error(`health results of ${batch.length} probe(s) could not be recorded`, error))
          .finally(() => {
            for (const { target } of batch) free(target.key);
          });
      }
      return applying;
    };
    const arrived = (target: CheckTarget, outcome: ProbeOutcome): ProbeOutcome => {
      came.push({ target, outcome });
      // The runtime refused a subrequest: it refuses the rest of this invocation's too.
      if (outcome.unchecked === true) budget.left = Math.min(budget.left, 0);
      if (batchMs > 0 && !armed) {
        armed = true;
        void scheduler.wait(batchMs).then(() => {
          armed = false;
          return flush();
        });
      }
      return outcome;
    };
    try {
      await mapBounded(
        targets,
        PROBE_CONCURRENCY,
        async (t) =>
          arrived(
            t,
            await this.withConnection(() => {
              // Busy for BUSY_AT_MOST_MS from when the probe starts, not from when its round did.
              if (this.probing.get(t.key)?.round === round) this.probing.set(t.key, { round, until: Date.now() + BUSY_AT_MOST_MS });
              return probe(t.monitor, t.origin, options);
            }),
          ),
        (error, t) => arrived(t, isSubrequestLimit(error) ? uncheckedOutcome(0) : { ok: false, rtt_ms: 0, reason: `probe failed: ${(error as Error)?.message ?? String(error)}`, attempts: 1 }),
      );
    } finally {
      await flush();
      // Whatever was never handed on (a probe that threw past its own catch) leaves busy too.
      for (const target of targets) free(target.key);
    }
  }
}
