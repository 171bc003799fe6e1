// Sending simulated clients through the Worker: each request carries the client's
// place and address as x-lb-sim-* headers (and its affinity cookie, by the Worker's
// own name for it), each answer is read back from x-lb-pop / x-lb-pool / x-lb-origin.
import { AFFINITY_COOKIE } from '../../../src/steering/affinity-token.ts';
import { SimulationError } from './world.mjs';

export { AFFINITY_COOKIE };

/**
 * @typedef {object} SimRequest
 * @property {'GET'} method
 * @property {string} host
 * @property {string} path
 * @property {Record<string, string>} headers
 *
 * @typedef {(request: SimRequest) => Promise<{ status: number, headers: { get(name: string): string | null } }>} Send
 *
 * @typedef {object} Reply
 * @property {number} status
 * @property {string | null} pop
 * @property {string | null} pool
 * @property {string | null} origin
 * @property {string | null} cookie the new affinity cookie's value, if the answer set one
 *
 * @typedef {{ lat: number, lon: number, ip: string }} Sender where a request comes from
 */

/**
 * The request a simulated client sends: its coordinates and IP as x-lb-sim-* headers, and its cookie.
 * @param {string} host
 * @param {Sender} client
 * @param {string | null} [cookie]
 * @returns {SimRequest}
 */
export function clientRequest(host, client, cookie) {
  /** @type {Record<string, string>} */
  const headers = { 'x-lb-sim-lat': String(client.lat), 'x-lb-sim-lon': String(client.lon), 'x-lb-sim-ip': client.ip };
  if (cookie) headers.cookie = `${AFFINITY_COOKIE}=${cookie}`;
  return { method: 'GET', host, path: '/', headers };
}

const COOKIE_IN_SET_COOKIE = new RegExp(`(?:^|[,;]\\s*)${AFFINITY_COOKIE}=([^;,\\s]+)`);

/**
 * Sends one request; what Switchyard says about it.
 * @param {Send} send
 * @param {SimRequest} request
 * @returns {Promise<Reply>}
 */
export async function sendOne(send, request) {
  const res = await send(request);
  const setCookie = res.headers.get('set-cookie') ?? '';
  return {
    status: res.status,
    pop: res.headers.get('x-lb-pop'),
    pool: res.headers.get('x-lb-pool'),
    origin: res.headers.get('x-lb-origin'),
    cookie: COOKIE_IN_SET_COOKIE.exec(setCookie)?.[1] ?? null,
  };
}

/**
 * Sends requests with at most `concurrency` in flight; replies in request order.
 * @param {Send} send
 * @param {readonly SimRequest[]} requests
 * @param {{ concurrency?: number, signal?: AbortSignal }} [options]
 * @returns {Promise<Reply[]>}
 */
export async function sendAll(send, requests, { concurrency = 16, signal } = {}) {
  /** @type {Reply[]} */
  const replies = new Array(requests.length);
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      if (signal?.aborted) throw new Error('interrupted');
      const i = next++;
      replies[i] = await sendOne(send, requests[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, requests.length)) }, worker));
  return replies;
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends `request` until its reply satisfies `done` (an admin change is seen by every
 * isolate within SNAPSHOT_TTL_MS). True when it did within `timeoutMs`.
 * @param {Send} send
 * @param {SimRequest} request
 * @param {(reply: Reply) => boolean} done
 * @param {number} [timeoutMs]
 */
export async function settle(send, request, done, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (done(await sendOne(send, request))) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}

/**
 * Checks that the Worker takes the simulation headers: a client placed on a PoP's
 * coordinates must land on that PoP.
 * @param {Send} send
 * @param {string} host
 * @param {Pick<import('./world.mjs').World, 'pops'>} world
 */
export async function checkSimulation(send, host, world) {
  const pop = world.pops.find((p) => p.colo === 'SYD' && !p.withdrawn) ?? world.pops.find((p) => !p.withdrawn);
  if (!pop) throw new SimulationError('simulation_off', 'every PoP is withdrawn');
  const reply = await sendOne(send, clientRequest(host, { lat: pop.lat, lon: pop.lon, ip: '203.0.113.7' }));
  if (reply.pop === null) {
    throw new SimulationError('no_headers', `answers for host "${host}" carry no x-lb-pop header (HTTP ${reply.status}): is expose_headers off?`);
  }
  if (reply.pop !== pop.colo) {
    throw new SimulationError(
      'simulation_off',
      `a client placed at ${pop.colo} (${pop.city}) landed on ${reply.pop}: the x-lb-sim-* headers are ignored; run the Worker with LB_SIMULATION=on (the demo does)`,
    );
  }
}
