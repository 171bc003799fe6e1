// The scenarios: each sends the population (or a part of it) through the Worker,
// changes state through the admin API where it needs to, checks what it expects and
// puts the state back, also on failure.
import { round2 } from './measure.mjs';
import { nearestPop } from './oracle.mjs';
import { AFFINITY_COOKIE, clientRequest, sendAll, settle } from './send.mjs';
import { bump, mostCommon, sortedCounts, tally } from './tally.mjs';
import { loadWorld, usableOrigins } from './world.mjs';

/**
 * @typedef {import('./population.mjs').Client} Client
 * @typedef {import('./send.mjs').Send} Send
 * @typedef {import('./send.mjs').Reply} Reply
 * @typedef {import('./tally.mjs').ClientRecord} ClientRecord
 * @typedef {import('./tally.mjs').Counts} Counts
 * @typedef {import('./tally.mjs').RttSummary} RttSummary
 * @typedef {import('./world.mjs').Admin} Admin
 * @typedef {import('./world.mjs').World} World
 * @typedef {import('./world.mjs').CompiledLoadBalancer} CompiledLoadBalancer
 */

export const SCENARIO_NAMES = /** @type {const} */ (['baseline', 'pop-withdrawn', 'pool-down', 'weights', 'sticky']);

/** @typedef {(typeof SCENARIO_NAMES)[number]} ScenarioName */

/**
 * @typedef {object} Context
 * @property {Send} send
 * @property {Admin} admin
 * @property {string} host
 * @property {Client[]} clients
 * @property {Client[]} weightsClients
 * @property {number} concurrency
 * @property {AbortSignal} [signal]
 * @property {(line: string) => void} log
 * @property {string} [weightsHost]
 * @property {string} [stickyHost]
 * @property {number} stickyClients
 * @property {number} stickyRounds
 * @property {number} settleMs
 */

/**
 * Where the clients of a withdrawn PoP went.
 * @typedef {object} PopMoved
 * @property {string} pop
 * @property {string} city
 * @property {number} clients
 * @property {Record<string, { clients: number, city: string | null }>} to_pops
 * @property {Counts} pools_before
 * @property {Counts} pools_after
 * @property {number} at_nearest_remaining_pop
 * @property {number} others_unchanged
 * @property {number} others
 */

/**
 * Where the clients of a pool whose origins were disabled went.
 * @typedef {object} PoolMoved
 * @property {string} pool
 * @property {number} clients
 * @property {Counts} pools_after
 * @property {boolean | null} healthy_after as GET /health reports it afterwards
 */

/**
 * A pool with unequal weights: each origin's count against what its weight expects.
 * @typedef {object} WeightsResult
 * @property {string} pool
 * @property {string | undefined} policy
 * @property {number} requests
 * @property {{ origin: string, weight: number, count: number, expected: number, tolerance: number }[]} origins
 */

/**
 * @typedef {object} StickyResult
 * @property {number} clients
 * @property {number} rounds
 * @property {number} requests
 * @property {number} moved clients seen on more than one origin
 * @property {number} without_cookie
 * @property {number} failed answers with a 5xx
 */

/**
 * What a scenario found; summary.json holds one per scenario. The counts and `rtt`
 * come from tally(); `moved`, `weights` and `sticky` from the scenarios that have them.
 * @typedef {object} ScenarioResult
 * @property {string} name
 * @property {string} title
 * @property {string} host
 * @property {boolean} geo the clients are steered by where they are (a map is drawn)
 * @property {boolean} ok every check passed and the state was put back
 * @property {{ name: string, ok: boolean, detail?: string }[]} checks
 * @property {string[]} notes
 * @property {{ what: string, ok: boolean, detail?: string }[]} restored
 * @property {string[]} withdrawn_pops
 * @property {string[]} down_pools
 * @property {number} requests
 * @property {number} [answered]
 * @property {Record<string, number>} [statuses]
 * @property {Record<string, number>} [pools]
 * @property {Record<string, number>} [origins] by `pool/origin`
 * @property {Record<string, number>} [pops]
 * @property {Record<string, { clients: number, pools: Record<string, number> }>} [continents]
 * @property {RttSummary} [rtt]
 * @property {ClientRecord[]} clients per-client records
 * @property {PopMoved | PoolMoved} [moved]
 * @property {WeightsResult} [weights]
 * @property {StickyResult} [sticky]
 * @property {string} [skipped]
 * @property {string} [error]
 * @property {number} [duration_ms]
 */

/**
 * @param {ScenarioResult} result
 * @param {string} name
 * @param {unknown} ok
 * @param {string} [detail]
 */
const check = (result, name, ok, detail) => result.checks.push({ name, ok: Boolean(ok), detail });

/**
 * Runs a step that puts state back; a failure is recorded, never thrown, so the next one still runs.
 * @param {Context} ctx
 * @param {ScenarioResult} result
 * @param {string} what
 * @param {() => Promise<void>} fn
 */
async function restore(ctx, result, what, fn) {
  try {
    await fn();
    result.restored.push({ what, ok: true });
    ctx.log(`restored: ${what}`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    result.restored.push({ what, ok: false, detail: message });
    ctx.log(`could not restore ${what}: ${message}`);
  }
}

/**
 * @param {Context} ctx
 * @param {string} host
 * @param {readonly Client[]} clients
 */
function sendPopulation(ctx, host, clients) {
  return sendAll(
    ctx.send,
    clients.map((c) => clientRequest(host, c)),
    { concurrency: ctx.concurrency, signal: ctx.signal },
  );
}

/**
 * The counts of `replies` into `result`; the counts.
 * @param {ScenarioResult} result
 * @param {World} world
 * @param {readonly Client[]} clients
 * @param {readonly Reply[]} replies
 */
function count(result, world, clients, replies) {
  const counted = tally(world, clients, replies);
  Object.assign(result, counted);
  return counted;
}

/** @param {ScenarioResult} result */
function answeredCheck(result) {
  check(result, 'every request answered', result.answered === result.requests, `${result.answered}/${result.requests} answered without a 5xx`);
}

/**
 * @param {ScenarioResult} result
 * @param {RttSummary} rtt
 * @param {World} world
 */
function proximityCheck(result, rtt, world) {
  if (world.policy !== 'proximity' || rtt.ratio === null) return;
  check(result, 'mean RTT within 10% of the oracle', rtt.ratio <= 1.1, `${rtt.steering.mean_ms} ms against ${rtt.oracle.mean_ms} ms (×${rtt.ratio})`);
}

/**
 * A host whose load balancer fits `fits`: `preferred` if it does, else the first exact hostname that does.
 * @param {World} world
 * @param {string} preferred
 * @param {(lb: CompiledLoadBalancer) => boolean} fits
 */
function findHost(world, preferred, fits) {
  const lbs = world.config.load_balancers
    .filter((lb) => lb.enabled !== false && !lb.hostname.includes('*'))
    .flatMap((lb) => world.plan.loadBalancerFor(lb.hostname) ?? []);
  const chosen = lbs.find((lb) => lb.config.hostname === preferred && fits(lb)) ?? lbs.find(fits);
  return chosen?.config.hostname;
}

/** @type {Record<ScenarioName, { title: string, geo: boolean, run(ctx: Context, result: ScenarioResult): Promise<void> }>} */
export const SCENARIOS = {
  baseline: {
    title: 'clients steered as configured',
    geo: true,
    async run(ctx, result) {
      const world = await loadWorld(ctx.admin, ctx.host);
      const counted = count(result, world, ctx.clients, await sendPopulation(ctx, ctx.host, ctx.clients));
      answeredCheck(result);
      proximityCheck(result, counted.rtt, world);
    },
  },

  'pop-withdrawn': {
    title: 'the busiest PoP withdrawn: anycast moves its clients to the next nearest',
    geo: true,
    async run(ctx, result) {
      const before = await sendPopulation(ctx, ctx.host, ctx.clients);
      const colo = mostCommon(before.map((r) => r.pop));
      if (!colo) throw new Error('no answer named its PoP');
      const world0 = await loadWorld(ctx.admin, ctx.host);
      const pop = world0.pops.find((p) => p.colo === colo);
      if (!pop) throw new Error(`x-lb-pop ${colo} is not in GET /pops`);
      const probe = clientRequest(ctx.host, { lat: pop.lat, lon: pop.lon, ip: '203.0.113.8' });
      result.withdrawn_pops = [colo];
      ctx.log(`withdrawing ${colo} (${pop.city}), the PoP of ${before.filter((r) => r.pop === colo).length} clients`);
      try {
        await ctx.admin('PUT', `/pops/${encodeURIComponent(colo)}`, { withdrawn: true });
        if (!(await settle(ctx.send, probe, (r) => r.pop !== null && r.pop !== colo, ctx.settleMs))) {
          result.notes.push(`${colo} was still answering ${ctx.settleMs} ms after the withdrawal`);
        }
        const world = await loadWorld(ctx.admin, ctx.host);
        const after = await sendPopulation(ctx, ctx.host, ctx.clients);
        const counted = count(result, world, ctx.clients, after);

        /** @type {Counts} */
        const toPops = {};
        /** @type {Counts} */
        const poolsBefore = {};
        /** @type {Counts} */
        const poolsAfter = {};
        let moved = 0;
        let atNearest = 0;
        let others = 0;
        let othersKept = 0;
        /** @type {string[]} */
        const wrong = [];
        ctx.clients.forEach((client, i) => {
          if (before[i].pop !== colo) {
            others++;
            if (after[i].pop === before[i].pop) othersKept++;
            return;
          }
          moved++;
          bump(toPops, after[i].pop ?? `HTTP ${after[i].status}`);
          bump(poolsBefore, before[i].pool ?? `HTTP ${before[i].status}`);
          bump(poolsAfter, after[i].pool ?? `HTTP ${after[i].status}`);
          const expected = nearestPop(world.pops, client.lat, client.lon)?.colo;
          if (after[i].pop === expected) atNearest++;
          else if (wrong.length < 5) wrong.push(`${client.city}: ${after[i].pop}, nearest ${expected}`);
        });
        counted.clients.forEach((record, i) => {
          if (before[i].pop === colo) record.moved_from = colo;
        });
        const popCity = new Map(world.pops.map((p) => [p.colo, p.city]));
        result.moved = {
          pop: colo,
          city: pop.city,
          clients: moved,
          to_pops: Object.fromEntries(Object.entries(sortedCounts(toPops)).map(([c, n]) => [c, { clients: n, city: popCity.get(c) ?? null }])),
          pools_before: sortedCounts(poolsBefore),
          pools_after: sortedCounts(poolsAfter),
          at_nearest_remaining_pop: atNearest,
          others_unchanged: othersKept,
          others,
        };
        answeredCheck(result);
        check(result, `no client on ${colo}`, !(colo in counted.pops), `${counted.pops[colo] ?? 0} clients still on ${colo}`);
        check(result, 'moved clients on the nearest remaining PoP', atNearest === moved, `${atNearest}/${moved}${wrong.length ? `; ${wrong.join('; ')}` : ''}`);
        check(result, 'other clients kept their PoP', othersKept === others, `${othersKept}/${others}`);
      } finally {
        await restore(ctx, result, `PoP ${colo}`, async () => {
          await ctx.admin('PUT', `/pops/${encodeURIComponent(colo)}`, { withdrawn: false });
          if (!(await settle(ctx.send, probe, (r) => r.pop === colo, ctx.settleMs))) result.notes.push(`${colo} not seen answering again yet`);
        });
      }
    },
  },

  'pool-down': {
    title: 'every origin of the busiest pool disabled: its clients fail over',
    geo: true,
    async run(ctx, result) {
      const before = await sendPopulation(ctx, ctx.host, ctx.clients);
      const poolId = mostCommon(before.map((r) => r.pool));
      if (!poolId) throw new Error('no answer named its pool');
      const world0 = await loadWorld(ctx.admin, ctx.host);
      const pool = world0.plan.pools.get(poolId);
      if (!pool) throw new Error(`x-lb-pool ${poolId} is not in GET /config`);
      const toDisable = pool.origins.filter((o) => o.config.enabled).map((o) => o.name);
      const first = ctx.clients[before.findIndex((r) => r.pool === poolId)];
      const probe = clientRequest(ctx.host, first);
      result.down_pools = [poolId];
      ctx.log(`disabling ${toDisable.length} origin(s) of pool ${poolId}, the pool of ${before.filter((r) => r.pool === poolId).length} clients`);
      /** @param {string} name */
      const originPath = (name) => `/pools/${encodeURIComponent(poolId)}/origins/${encodeURIComponent(name)}`;
      try {
        for (const name of toDisable) await ctx.admin('PATCH', originPath(name), { enabled: false });
        if (!(await settle(ctx.send, probe, (r) => r.pool !== poolId, ctx.settleMs))) {
          result.notes.push(`pool ${poolId} was still answering ${ctx.settleMs} ms after its origins were disabled`);
        }
        const world = await loadWorld(ctx.admin, ctx.host);
        const after = await sendPopulation(ctx, ctx.host, ctx.clients);
        const counted = count(result, world, ctx.clients, after);
        /** @type {Counts} */
        const poolsAfter = {};
        let moved = 0;
        ctx.clients.forEach((_, i) => {
          if (before[i].pool !== poolId) return;
          moved++;
          bump(poolsAfter, after[i].pool ?? `HTTP ${after[i].status}`);
        });
        result.moved = { pool: poolId, clients: moved, pools_after: sortedCounts(poolsAfter), healthy_after: world.pools.get(poolId)?.healthy ?? null };
        answeredCheck(result);
        check(result, `no client on pool ${poolId}`, !(poolId in counted.pools), `${counted.pools[poolId] ?? 0} clients still on ${poolId}`);
        check(result, `pool ${poolId} reported unhealthy`, world.pools.get(poolId)?.healthy === false, 'GET /health');
      } finally {
        await restore(ctx, result, `origins of pool ${poolId}`, async () => {
          for (const name of toDisable) await ctx.admin('PATCH', originPath(name), { enabled: true });
          if (!(await settle(ctx.send, probe, (r) => r.pool === poolId, ctx.settleMs))) result.notes.push(`pool ${poolId} not seen answering again yet`);
        });
      }
    },
  },

  weights: {
    title: 'a pool with unequal weights, requests without cookies (seed 003: 2:1 gave 1,334/666 of 2,000)',
    geo: false,
    async run(ctx, result) {
      const world0 = await loadWorld(ctx.admin, ctx.host);
      /** @param {CompiledLoadBalancer} lb */
      const fits = (lb) => {
        const origins = usableOrigins(world0.plan, lb.config.default_pools[0]);
        return lb.policy === 'off' && origins.length >= 2 && new Set(origins.map((o) => o.weight)).size > 1;
      };
      const host = ctx.weightsHost ?? findHost(world0, 'weighted.localhost', fits);
      if (!host) {
        result.skipped = 'no load balancer with an exact hostname leads to a pool with unequal weights (--weights-host names one)';
        return;
      }
      result.host = host;
      const world = await loadWorld(ctx.admin, host);
      const poolId = world.lb.default_pools[0];
      const policy = world.plan.pools.get(poolId)?.config.origin_steering.policy;
      const origins = usableOrigins(world.plan, poolId);
      const replies = await sendPopulation(ctx, host, ctx.weightsClients);
      const counted = count(result, world, ctx.weightsClients, replies);
      const n = ctx.weightsClients.length;
      const total = origins.reduce((sum, o) => sum + o.weight, 0);
      const rows = origins.map((o) => {
        const share = o.weight / total;
        const expected = n * share;
        // Smooth weighted round robin is exact to within a step; random policies get 4 standard deviations.
        const tolerance = policy === 'round_robin' ? 2 : Math.max(2, 4 * Math.sqrt(n * share * (1 - share)));
        return { origin: o.name, weight: o.weight, count: counted.origins[`${poolId}/${o.name}`] ?? 0, expected: round2(expected) ?? 0, tolerance: round2(tolerance) ?? 0 };
      });
      result.weights = { pool: poolId, policy, requests: n, origins: rows };
      answeredCheck(result);
      for (const row of rows) {
        check(result, `${poolId}/${row.origin} near ${row.expected}`, Math.abs(row.count - row.expected) <= row.tolerance, `${row.count} (weight ${row.weight}, ±${row.tolerance})`);
      }
    },
  },

  sticky: {
    title: `clients that keep their ${AFFINITY_COOKIE} cookie stay on one origin`,
    geo: false,
    async run(ctx, result) {
      const world0 = await loadWorld(ctx.admin, ctx.host);
      /** @param {CompiledLoadBalancer} lb */
      const fits = (lb) => lb.config.session_affinity === 'cookie' || lb.config.session_affinity === 'ip_cookie';
      const host = ctx.stickyHost ?? findHost(world0, 'sticky.localhost', fits);
      if (!host) {
        result.skipped = 'no load balancer with an exact hostname has cookie affinity (--sticky-host names one)';
        return;
      }
      result.host = host;
      const world = await loadWorld(ctx.admin, host);
      const clients = ctx.clients.slice(0, ctx.stickyClients);
      /** @type {(string | null)[]} */
      const jar = new Array(clients.length).fill(null);
      /** @type {(string | null)[][]} */
      const seen = clients.map(() => []);
      /** @type {Reply[]} */
      let first = [];
      let failed = 0;
      for (let round = 0; round < ctx.stickyRounds; round++) {
        const replies = await sendAll(
          ctx.send,
          clients.map((c, i) => clientRequest(host, c, jar[i])),
          { concurrency: ctx.concurrency, signal: ctx.signal },
        );
        replies.forEach((r, i) => {
          if (r.cookie) jar[i] = r.cookie;
          if (r.status >= 500) failed++;
          seen[i].push(r.origin === null ? null : `${r.pool}/${r.origin}`);
        });
        if (round === 0) first = replies;
      }
      count(result, world, clients, first);
      const moved = seen.filter((origins) => new Set(origins).size > 1).length;
      const withoutCookie = jar.filter((c) => c === null).length;
      const requests = clients.length * ctx.stickyRounds;
      result.sticky = { clients: clients.length, rounds: ctx.stickyRounds, requests, moved, without_cookie: withoutCookie, failed };
      check(result, 'every request answered', failed === 0, `${failed} answers with a 5xx over ${requests} requests`);
      check(result, 'every client got a cookie', withoutCookie === 0, `${clients.length - withoutCookie}/${clients.length}`);
      check(result, 'no client moved', moved === 0, `${moved} of ${clients.length} clients moved over ${ctx.stickyRounds} requests each`);
    },
  },
};
