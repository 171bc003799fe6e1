// The load runner: autocannon against each target in interleaved slices, latency
// without load one request at a time, the failover run, the health-check fan-out and
// the rules tried in a loop inside workerd.
import autocannon from 'autocannon';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { ADMIN_TOKEN } from './targets.mjs';

/**
 * @typedef {import('./targets.mjs').Bench} Bench
 * @typedef {import('./targets.mjs').Target} Target
 * @typedef {import('./targets.mjs').Origins} Origins
 *
 * @typedef {object} LoadRow
 * @property {string} name
 * @property {number} rps
 * @property {number} p50 ms, the median over the slices
 * @property {number} p99 ms, the median over the slices
 * @property {number} errors errors, timeouts and non-2xx answers
 * @property {number} [cpuUsPerRequest] the runtime's own CPU per request
 * @property {number[]} [cpuSlices] the same, µs, slice by slice in round order (for paired differences)
 *
 * @typedef {{ name: string, requests: number, p50: number, p99: number }} LatencyRow
 */

/**
 * One autocannon run against `target`.
 * @param {Bench} bench
 * @param {Target} target
 * @param {number} seconds
 * @param {(instance: import('autocannon').Instance) => void} [onStart]
 * @returns {Promise<import('autocannon').Result>}
 */
export function run(bench, target, seconds, onStart) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url: target.url, connections: bench.connections, duration: seconds, requests: target.requests, timeout: 5, ...(bench.rate === undefined ? {} : { overallRate: bench.rate }) },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    onStart?.(instance);
  });
}

/**
 * Each target's run is cut into slices taken in turn (A B C A B C …), so a noisy
 * neighbour or a slow minute on shared cores weighs on every target alike.
 * @param {Bench} bench
 * @param {readonly Target[]} targets
 * @param {number} rounds
 * @returns {Promise<LoadRow[]>}
 */
export async function load(bench, targets, rounds) {
  const slice = bench.duration / rounds;
  const totals = targets.map((target) => ({
    target,
    requests: 0,
    seconds: 0,
    cpuKnown: target.pid !== undefined,
    /** @type {number[]} */ p50: [],
    /** @type {number[]} */ p99: [],
    /** @type {number[]} */ cpuPerRequest: [],
    errors: 0,
  }));
  for (const t of totals) {
    await t.target.ready;
    // A warm-up, except in the smoke run, whose figures do not count (autocannon runs
    // whole seconds: a warm-up there would double the run).
    if (!bench.smoke) await run(bench, t.target, 2);
  }
  for (let round = 0; round < rounds; round++) {
    for (const t of totals) {
      const cpuBefore = cpuSeconds(t.target.pid);
      const r = await run(bench, t.target, slice);
      const cpuAfter = cpuSeconds(t.target.pid);
      t.requests += r.requests.total;
      t.seconds += r.duration;
      t.p50.push(r.latency.p50);
      t.p99.push(r.latency.p99);
      t.errors += r.errors + r.timeouts + r.non2xx;
      if (cpuBefore === undefined || cpuAfter === undefined) t.cpuKnown = false;
      else if (r.requests.total > 0) t.cpuPerRequest.push((cpuAfter - cpuBefore) / r.requests.total);
    }
  }
  return totals.map((t) => ({
    name: t.target.name,
    rps: Math.round(t.requests / t.seconds),
    p50: median(t.p50),
    p99: median(t.p99),
    errors: t.errors,
    // The runtime's own CPU per request: steadier than req/s on shared cores. The median
    // over the slices, so a slice a neighbour on the machine slowed does not move it.
    cpuUsPerRequest: t.cpuKnown && t.cpuPerRequest.length > 0 ? Math.round(median(t.cpuPerRequest) * 1e6) : undefined,
    cpuSlices: t.cpuKnown && t.cpuPerRequest.length === rounds ? t.cpuPerRequest.map((seconds) => seconds * 1e6) : undefined,
  }));
}

/**
 * The middle value; of an even count, the mean of the two in the middle.
 * @param {readonly number[]} values
 */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Added latency, measured where it is not hidden by queueing: one request at a time
 * on one keep-alive connection, timed in the client to the microsecond. Targets take
 * turns in batches of 50.
 * @param {readonly Target[]} targets
 * @param {number} count requests per target
 * @returns {Promise<LatencyRow[]>}
 */
export async function latency(targets, count) {
  const agents = targets.map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  /** @type {number[][]} */
  const samples = targets.map(() => []);
  /**
   * @param {Target} target
   * @param {http.Agent} agent
   * @param {import('./targets.mjs').TargetRequest} spec
   * @returns {Promise<number>} ms
   */
  const once = (target, agent, spec) =>
    new Promise((resolve, reject) => {
      const url = new URL(spec.path, target.url);
      const started = process.hrtime.bigint();
      const req = http.request(url, { agent, headers: spec.headers ?? {} }, (res) => {
        res.resume();
        res.on('end', () =>
          (res.statusCode ?? 0) < 400 ? resolve(Number(process.hrtime.bigint() - started) / 1e6) : reject(new Error(`${target.name}: ${res.statusCode}`)),
        );
      });
      req.on('error', reject);
      req.end();
    });
  for (const [i, target] of targets.entries()) for (let k = 0; k < 20; k++) await once(target, agents[i], target.requests[k % target.requests.length]);
  for (let done = 0; done < count; done += 50) {
    for (const [i, target] of targets.entries()) {
      for (let k = done; k < Math.min(count, done + 50); k++) samples[i].push(await once(target, agents[i], target.requests[k % target.requests.length]));
    }
  }
  for (const agent of agents) agent.destroy();
  return targets.map((target, i) => {
    const sorted = samples[i].sort((a, b) => a - b);
    /** @param {number} q */
    const at = (q) => Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(3));
    return { name: target.name, requests: sorted.length, p50: at(0.5), p99: at(0.99) };
  });
}

/**
 * User + system CPU seconds of a process so far (Linux /proc), or undefined.
 * @param {number | undefined} pid
 */
export function cpuSeconds(pid) {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

/**
 * A run with one of three origins killed half-way through, GET only.
 * @param {Bench} bench
 * @param {Target} target
 * @param {Origins} origins
 */
export async function failover(bench, target, origins) {
  /** @type {Promise<unknown> | undefined} */
  let killed;
  const r = await run(bench, target, bench.duration, () => {
    killed = new Promise((resolve) => setTimeout(() => origins.command('kill 1').then(resolve), (bench.duration * 1000) / 2));
  });
  await killed;
  await origins.command('revive 1');
  // Let health recover before the next run (passive ejections expire, checks see it up).
  await new Promise((resolve) => setTimeout(resolve, bench.smoke ? 200 : 2000));
  return { name: target.name, requests: r.requests.total, errors: r.errors + r.timeouts + r.non2xx };
}

/**
 * Health checks of `count` origins by POST /health/check, called again while some are
 * not checked yet (a call makes at most ROUND_SUBREQUESTS probe attempts), then the
 * configuration put back.
 * @param {string} url Switchyard's
 * @param {readonly number[]} ports the origins'
 * @param {number} count
 */
export async function fanout(url, ports, count) {
  /**
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @returns {Promise<any>}
   */
  const admin = (method, path, body) =>
    fetch(new URL(`/__lb/api${path}`, url), {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    }).then(async (res) => {
      const json = await res.json();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
      return json;
    });
  const { config } = await admin('GET', '/config');
  const origins = Array.from({ length: count }, (_, i) => ({ name: `f${i}`, address: `http://127.0.0.1:${ports[i % ports.length]}` }));
  await admin('PUT', '/config', {
    monitors: [{ id: 'fanout', interval: 3600, timeout: 5 }],
    pools: [{ id: 'fanout', monitor: 'fanout', origins }],
    load_balancers: [{ id: 'fanout', hostname: '*', default_pools: ['fanout'] }],
  });
  const started = performance.now();
  let calls = 0;
  let healthy = 0;
  while (calls < 5 && healthy < count) {
    /** @type {import('../../src/control/health-report.ts').HealthReport} */
    const report = await admin('POST', '/health/check');
    calls++;
    healthy = report.origins.filter((o) => o.state === 'healthy').length;
  }
  const ms = Math.round(performance.now() - started);
  await admin('PUT', '/config', config);
  return { origins: count, healthy, calls, ms };
}

/**
 * The rules Worker's loop: `n` evaluations of its rules on `request`, inside workerd.
 * @param {string} url the rules Worker's
 * @param {import('./targets.mjs').TargetRequest} request
 * @param {number} n
 * @returns {Promise<{ matched: string[], rules: number, evaluations: number, rulesNs: number, viewNs: number }>}
 */
export async function rulesInWorkerd(url, request, n) {
  const target = new URL(request.path, url);
  target.searchParams.set('n', String(n));
  const res = await fetch(target, { headers: request.headers });
  const body = await res.json();
  if (!res.ok) throw new Error(`rules Worker: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  return body;
}
