// `simulate --scenario propagation`: a discrete-event model, not a measurement, of how
// long a change takes to reach every PoP and what it costs the Durable Object. It
// takes the Worker's own PoP table (src/geo/pops.ts) and the PoP tier's own constants
// (src/control/pop-cache.ts), puts the Durable Object at one PoP, and gives each PoP
// `isolates` isolates that each serve requests all the time. Three paths:
//
// - kv: today's path before the PoP tier. Every isolate reads KV's `snapshot:revision`
//   every SNAPSHOT_TTL_MS, and `snapshot` when the revision changed. KV keeps a copy of
//   each key per PoP for its cacheTtl (60 s, the default and the minimum) and shows a
//   change only when that copy times out: "Changes may take up to 60 seconds or more to
//   be visible in other global network locations as their cached versions of the data
//   time out" (developers.cloudflare.com/kv/concepts/how-kv-works). Each copy's age at
//   the change is uniform over the 60 s; regional tiers and the "or more" are left out,
//   so this path is modelled at its best.
// - pop-tier: the PoP tier. Every isolate looks at its PoP's copy every quarter TTL;
//   the first look that finds it older than the TTL claims it (a cache write, the claim's
//   settling wait, a read back), asks the Durable Object (a round trip) and writes the
//   answer back (two cache writes). The claim is modelled as holding: one request per PoP
//   (the workerd tests measure it).
// - direct: no PoP tier, every isolate asks the Durable Object every TTL: the load the
//   tier saves.
//
// A round trip between a PoP and the Durable Object is the great circle there and back
// at 200 km/ms (light in fibre) plus a fixed overhead (10 ms: entering and leaving
// Cloudflare's network and the object's dispatch). Real routes are longer than great
// circles, so round trips here are short of real ones.
import { POPS } from '../../../src/geo/pops.ts';
import { CLAIM_SETTLE_MS, POP_LOOKS_PER_TTL } from '../../../src/control/pop-cache.ts';
import { EventQueue } from './event-queue.mjs';
import { FIBRE_KM_PER_MS, haversineKm, mean, percentile } from './measure.mjs';
import { mulberry32, seedOf } from './population.mjs';

/** The model's fixed figures; each is stated in the output. */
export const MODEL_DEFAULTS = {
  doColo: 'IAD',
  ttlMs: 2000,
  isolates: [1, 10, 100],
  trials: 5,
  seed: /** @type {number | string} */ (1),
  /** Added to every round trip to the Durable Object. */
  overheadMs: 10,
  /** One Cache API read or write, or one hot KV read, inside the PoP. */
  localOpMs: 2,
  /** KV's cacheTtl: how long a PoP keeps its copy of a key. */
  kvCacheTtlMs: 60_000,
  settleMs: CLAIM_SETTLE_MS,
  looksPerTtl: POP_LOOKS_PER_TTL,
};

export const PATHS = /** @type {const} */ (['kv', 'pop-tier', 'direct']);

/**
 * @typedef {(typeof PATHS)[number]} PathName
 * @typedef {typeof MODEL_DEFAULTS} ModelOptions
 * @typedef {{ colo: string, lat: number, lon: number }} ModelPop
 * @typedef {{ colo: string, rtt: number }} PopLink
 *
 * @typedef {object} Trial
 * @property {number[]} popMs per PoP: when its last isolate serves the change, ms after the change
 * @property {number} doPerSecond requests per second at the Durable Object in steady state
 * @property {number} kvReadsPerSecond KV reads per second, all PoPs together
 *
 * @typedef {object} PathRow
 * @property {PathName} path
 * @property {number} isolates per PoP
 * @property {number} p50Ms time until 50% of PoPs serve the change (mean over the trials)
 * @property {number} p99Ms
 * @property {number} p100Ms
 * @property {number} doPerSecond
 * @property {number} kvReadsPerSecond
 */

/**
 * The round trip from `pop` to the Durable Object at `site`.
 * @param {ModelPop} pop
 * @param {ModelPop} site
 * @param {number} overheadMs
 */
export function roundTripMs(pop, site, overheadMs) {
  return (2 * haversineKm(pop.lat, pop.lon, site.lat, site.lon)) / FIBRE_KM_PER_MS + overheadMs;
}

/**
 * Today's path: per PoP, KV shows the change once both keys' copies have timed out;
 * each isolate sees it at its first read after that.
 * @param {PopLink[]} links
 * @param {number} isolates
 * @param {() => number} rand
 * @param {ModelOptions} o
 * @returns {Trial}
 */
export function modelKv(links, isolates, rand, o) {
  const visibleAt = links.map(() => Math.max(rand(), rand()) * o.kvCacheTtlMs);
  const popMs = links.map(() => 0);
  /** @type {EventQueue<number>} */
  const queue = new EventQueue();
  for (let p = 0; p < links.length; p++) for (let i = 0; i < isolates; i++) queue.push(rand() * o.ttlMs, p);
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    const { t, event: p } = next;
    // The revision read; then, once it shows the change, the snapshot read.
    if (t >= visibleAt[p]) popMs[p] = Math.max(popMs[p], t + 2 * o.localOpMs);
    else queue.push(t + o.localOpMs + o.ttlMs, p);
  }
  return { popMs, doPerSecond: 0, kvReadsPerSecond: (links.length * isolates * 1000) / (o.ttlMs + o.localOpMs) };
}

/**
 * No PoP tier: every isolate asks the Durable Object every TTL (after its last answer).
 * @param {PopLink[]} links
 * @param {number} isolates
 * @param {() => number} rand
 * @param {ModelOptions} o
 * @returns {Trial}
 */
export function modelDirect(links, isolates, rand, o) {
  const measureMs = 4 * o.ttlMs;
  const popMs = links.map(() => 0);
  let asked = 0;
  /** @type {EventQueue<number>} */
  const queue = new EventQueue();
  for (let p = 0; p < links.length; p++) for (let i = 0; i < isolates; i++) queue.push(-measureMs - o.ttlMs + rand() * o.ttlMs, p);
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    const { t, event: p } = next;
    const arrives = t + links[p].rtt / 2;
    if (arrives >= -measureMs && arrives < 0) asked++;
    if (arrives >= 0) popMs[p] = Math.max(popMs[p], t + links[p].rtt);
    else queue.push(t + links[p].rtt + o.ttlMs, p);
  }
  return { popMs, doPerSecond: (asked * 1000) / measureMs, kvReadsPerSecond: 0 };
}

/**
 * The PoP tier, from a warm-up of several TTLs (so that every PoP's copy is at a steady
 * phase when the change is made at time 0) until every isolate of every PoP has it.
 * @param {PopLink[]} links
 * @param {number} isolates
 * @param {() => number} rand
 * @param {ModelOptions} o
 * @returns {Trial}
 */
export function modelPopTier(links, isolates, rand, o) {
  const look = o.ttlMs / o.looksPerTtl;
  const measureMs = 4 * o.ttlMs;
  const warmupMs = measureMs + o.ttlMs;
  const pops = links.map((link) => ({
    rtt: link.rtt,
    /** When the PoP's copy was last answered or claimed: a phase of its own. */
    checkedAt: -warmupMs - rand() * o.ttlMs,
    /** Whether the PoP's copy holds the change. */
    changed: false,
    isolateHas: new Uint8Array(isolates),
    isolatesWith: 0,
    servedMs: 0,
  }));
  let asked = 0;
  /** @type {EventQueue<{ kind: 'look' | 'answer', pop: number, isolate: number, changed?: boolean }>} */
  const queue = new EventQueue();
  for (let p = 0; p < pops.length; p++) for (let i = 0; i < isolates; i++) queue.push(-warmupMs + rand() * look, { kind: 'look', pop: p, isolate: i });

  /** @param {(typeof pops)[number]} pop @param {number} isolate @param {number} at */
  const serves = (pop, isolate, at) => {
    if (pop.isolateHas[isolate] === 1) return;
    pop.isolateHas[isolate] = 1;
    pop.isolatesWith += 1;
    pop.servedMs = Math.max(pop.servedMs, at);
  };

  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    const { t, event } = next;
    const pop = pops[event.pop];
    if (event.kind === 'answer') {
      // The answer goes in as the snapshot, then the revision entry.
      pop.checkedAt = t + o.localOpMs;
      if (event.changed) {
        pop.changed = true;
        serves(pop, event.isolate, t + 2 * o.localOpMs);
      }
      queue.push(t + 2 * o.localOpMs + look, { kind: 'look', pop: event.pop, isolate: event.isolate });
      continue;
    }
    if (pop.isolatesWith === isolates) continue;
    if (t - pop.checkedAt < o.ttlMs) {
      // A fresh copy: one cache read, and one more for the snapshot when it is newer.
      if (pop.changed) serves(pop, event.isolate, t + 2 * o.localOpMs);
      queue.push(t + o.localOpMs + look, event);
      continue;
    }
    // A stale copy: this isolate claims the PoP's refresh and asks the Durable Object.
    pop.checkedAt = t + o.localOpMs;
    const sent = t + o.localOpMs + o.settleMs + o.localOpMs;
    const arrives = sent + pop.rtt / 2;
    if (arrives >= -measureMs && arrives < 0) asked++;
    queue.push(sent + pop.rtt, { kind: 'answer', pop: event.pop, isolate: event.isolate, changed: arrives >= 0 });
  }
  return { popMs: pops.map((pop) => pop.servedMs), doPerSecond: (asked * 1000) / measureMs, kvReadsPerSecond: 0 };
}

const MODELS = { kv: modelKv, 'pop-tier': modelPopTier, direct: modelDirect };

/** @param {readonly number[]} values */
const average = (values) => mean(values) ?? NaN;

/**
 * Runs every path for every number of isolates, `trials` times each with its own draw.
 * @param {Partial<ModelOptions> & { pops?: readonly ModelPop[] }} [options]
 */
export function propagation(options = {}) {
  const o = { ...MODEL_DEFAULTS, ...options };
  const pops = options.pops ?? POPS;
  const site = pops.find((pop) => pop.colo === o.doColo.toUpperCase()) ?? POPS.find((pop) => pop.colo === o.doColo.toUpperCase());
  if (site === undefined) throw new RangeError(`no PoP "${o.doColo}" in the PoP table`);
  const links = pops.map((pop) => ({ colo: pop.colo, rtt: roundTripMs(pop, site, o.overheadMs) }));
  const rand = mulberry32(seedOf(o.seed));
  /** @type {PathRow[]} */
  const rows = [];
  for (const path of PATHS) {
    for (const isolates of o.isolates) {
      /** @type {Trial[]} */
      const trials = [];
      for (let trial = 0; trial < o.trials; trial++) trials.push(MODELS[path](links, isolates, rand, o));
      /** @param {number} p */
      const at = (p) => average(trials.map((tr) => percentile(tr.popMs, p) ?? NaN));
      rows.push({
        path,
        isolates,
        p50Ms: at(50),
        p99Ms: at(99),
        p100Ms: at(100),
        doPerSecond: average(trials.map((tr) => tr.doPerSecond)),
        kvReadsPerSecond: average(trials.map((tr) => tr.kvReadsPerSecond)),
      });
    }
  }
  const rtts = links.map((link) => link.rtt);
  return {
    model: { ...o, isolates: [...o.isolates], pops: pops.length, doColo: site.colo, rttMs: { min: Math.min(...rtts), mean: average(rtts), max: Math.max(...rtts) } },
    rows,
  };
}
