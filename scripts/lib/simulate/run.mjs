// `npm run simulate` from argv to exit code: parse, check that Switchyard answers,
// run the scenarios of core.mjs through it over HTTP, print the tables and write the
// SVG charts and summary.json. Streams, env and the abort signal come in through
// `io`, so tests can drive it in-process. core.mjs imports the Worker's own code from
// src/, so Node takes it bundled (scripts/lib/load-src.mjs).
import { mkdir, writeFile } from 'node:fs/promises';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { callApi, networkReason, UnreachableError } from '../lbctl/client.mjs';
import { makePaint } from '../lbctl/format.mjs';
import { importBundled } from '../load-src.mjs';
import { formatPropagation } from './propagation-report.mjs';
import { distributionSvg, formatOverview, formatScenario, mapSvg, summaryJson } from './report.mjs';

/** @type {typeof import('./core.mjs')} */
const { SCENARIO_NAMES, SimulationError, simulate } = await importBundled('scripts/lib/simulate/core.mjs');
/** @type {typeof import('./propagation.mjs')} */
const { MODEL_DEFAULTS, propagation } = await importBundled('scripts/lib/simulate/propagation.mjs');

/** Scenarios that model rather than measure: they need no running Switchyard. */
export const MODEL_SCENARIOS = /** @type {const} */ (['propagation']);

export const DEFAULT_URL = 'http://127.0.0.1:8787';
export const DEFAULT_HOST = 'proximity.localhost';
export const DEFAULT_CLIENTS = 500;
export const DEFAULT_OUT = 'simulate-out';

export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 };

const REQUEST_TIMEOUT_MS = 10_000;

export const USAGE = `usage: npm run simulate -- [options]

Sends a world population of simulated clients through a running Switchyard (with
LB_SIMULATION=on, as in the demo) and shows where its steering sent them.

  --scenario NAME[,NAME]  ${SCENARIO_NAMES.join(', ')} (default: all, in that order);
                          or propagation, a model that needs no running Switchyard (below)
  --clients N             population size (default ${DEFAULT_CLIENTS})
  --host H                the host whose load balancer steers by geography (default ${DEFAULT_HOST})
  --seed S                seed of the population (default 1); the same seed draws the same clients
  --out DIR               where the SVG charts and summary.json go (default ${DEFAULT_OUT}/)
  --concurrency N         requests in flight (default 16)
  --weights-host H        the host for "weights" (default: weighted.localhost, or the first that fits)
  --sticky-host H         the host for "sticky" (default: sticky.localhost, or the first with cookie affinity)
  --url URL, --token T    instead of LB_URL (default ${DEFAULT_URL}) and LB_TOKEN

propagation models how long a change takes to reach every PoP and the load on the
Durable Object, before the PoP tier (KV only) and with it (README, How state flows):
  --do-colo C             the PoP the Durable Object runs at (default ${MODEL_DEFAULTS.doColo})
  --ttl-ms N              SNAPSHOT_TTL_MS (default ${MODEL_DEFAULTS.ttlMs})
  --isolates N[,N]        isolates per PoP (default ${MODEL_DEFAULTS.isolates.join(',')})
  --trials N              draws averaged (default ${MODEL_DEFAULTS.trials}); --seed and --out as above

Scenarios change state through the admin API (withdraw a PoP, disable a pool's
origins) and put it back afterwards, also on failure or Ctrl-C.
Exit codes: 0 every scenario passed, 1 a scenario failed, 2 usage, 3 Switchyard unreachable.
`;

class UsageError extends Error {}

/** An admin API call that was answered with an error status. */
export class AdminError extends Error {
  /**
   * @param {string} method
   * @param {string} path
   * @param {number} status
   * @param {any} json
   * @param {string} text
   */
  constructor(method, path, status, json, text) {
    const error = json?.error;
    const what = error?.code ? `${error.code}: ${error.message ?? ''}` : text.trim().slice(0, 200) || 'no body';
    super(`${method} /__lb/api${path}: HTTP ${status} ${what}`);
    this.name = 'AdminError';
    this.status = status;
  }
}

/**
 * @param {string} value
 * @param {string} name
 * @param {number} max
 */
function positiveInt(value, name, max) {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) throw new UsageError(`${name} must be a whole number from 1 to ${max}, got "${value}"`);
  return Number(value);
}

/** @typedef {(typeof SCENARIO_NAMES)[number]} ScenarioName */

/**
 * @param {string} name
 * @returns {name is ScenarioName}
 */
const isScenario = (name) => /** @type {readonly string[]} */ (SCENARIO_NAMES).includes(name);

/**
 * The options of a command line; throws UsageError.
 * @param {string[]} argv
 */
export function parseCommandLine(argv) {
  const parse = () =>
    parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        scenario: { type: 'string' },
        clients: { type: 'string' },
        host: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        concurrency: { type: 'string' },
        'weights-host': { type: 'string' },
        'sticky-host': { type: 'string' },
        url: { type: 'string' },
        token: { type: 'string' },
        'do-colo': { type: 'string' },
        'ttl-ms': { type: 'string' },
        isolates: { type: 'string' },
        trials: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  /** @type {ReturnType<typeof parse>} */
  let parsed;
  try {
    parsed = parse();
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const v = parsed.values;
  /** @type {ScenarioName[]} */
  let scenarios = [...SCENARIO_NAMES];
  let model = false;
  if (v.scenario !== undefined) {
    const names = v.scenario.split(',').map((s) => s.trim()).filter(Boolean);
    if (names.length === 0) throw new UsageError('--scenario names no scenario');
    for (const name of names) {
      if (name !== 'all' && !isScenario(name) && !isModel(name)) {
        throw new UsageError(`no scenario "${name}"; the scenarios: ${[...SCENARIO_NAMES, ...MODEL_SCENARIOS].join(', ')}`);
      }
    }
    model = names.some(isModel);
    if (!names.includes('all')) scenarios = [...new Set(names.filter(isScenario))];
  }
  // Scenarios named one by one must run: one skipped for want of a fitting load balancer fails the run.
  return { ...otherOptions(v), scenarios, model, modelOptions: modelOptions(v), explicit: v.scenario !== undefined && !v.scenario.split(',').includes('all') };
}

/** @param {string} name */
const isModel = (name) => /** @type {readonly string[]} */ (MODEL_SCENARIOS).includes(name);

/**
 * The propagation model's options.
 * @param {{ 'do-colo'?: string, 'ttl-ms'?: string, isolates?: string, trials?: string }} v the parsed options
 */
function modelOptions(v) {
  const isolates = v.isolates === undefined ? [...MODEL_DEFAULTS.isolates] : v.isolates.split(',').map((n) => positiveInt(n.trim(), '--isolates', 1000));
  const doColo = (v['do-colo'] ?? MODEL_DEFAULTS.doColo).toUpperCase();
  if (!/^[A-Z]{3}$/.test(doColo)) throw new UsageError(`--do-colo must be a PoP's colo code (IAD, FRA, …), got "${v['do-colo']}"`);
  return {
    doColo,
    ttlMs: v['ttl-ms'] === undefined ? MODEL_DEFAULTS.ttlMs : positiveInt(v['ttl-ms'], '--ttl-ms', 600_000),
    isolates,
    trials: v.trials === undefined ? MODEL_DEFAULTS.trials : positiveInt(v.trials, '--trials', 100),
  };
}

/**
 * @param {{ host?: string, help?: boolean, clients?: string, concurrency?: string, seed?: string, out?: string,
 *   'weights-host'?: string, 'sticky-host'?: string, url?: string, token?: string }} v the parsed options
 */
function otherOptions(v) {
  const host = v.host ?? DEFAULT_HOST;
  if (!/^[a-z0-9.-]+(:\d+)?$/i.test(host)) throw new UsageError(`--host must be a host name, got "${host}"`);
  return {
    help: v.help === true,
    clients: v.clients === undefined ? DEFAULT_CLIENTS : positiveInt(v.clients, '--clients', 100_000),
    concurrency: v.concurrency === undefined ? 16 : positiveInt(v.concurrency, '--concurrency', 256),
    host,
    seed: v.seed ?? '1',
    out: v.out ?? DEFAULT_OUT,
    weightsHost: v['weights-host'],
    stickyHost: v['sticky-host'],
    url: v.url,
    token: v.token,
  };
}

/**
 * `send` for core.mjs over node:http(s): one GET with an explicit Host header (fetch
 * cannot set Host), through a keep-alive agent; the body is read and dropped.
 * @param {string} baseUrl
 * @param {number} concurrency
 * @returns {{ send: import('./send.mjs').Send, close(): void }}
 */
export function httpSender(baseUrl, concurrency) {
  const base = new URL(baseUrl);
  const https = base.protocol === 'https:';
  const agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: concurrency }) : new HttpAgent({ keepAlive: true, maxSockets: concurrency });
  /** @type {import('./send.mjs').Send} */
  const send = (request) =>
    new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(
        new URL(request.path, base),
        { method: request.method, agent, headers: { ...request.headers, host: request.host }, timeout: REQUEST_TIMEOUT_MS },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: {
                get(name) {
                  const value = res.headers[name.toLowerCase()];
                  if (value === undefined) return null;
                  return Array.isArray(value) ? value.join(', ') : String(value);
                },
              },
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
      req.on('error', (error) => reject(new UnreachableError(baseUrl, networkReason(error))));
      req.end();
    });
  return { send, close: () => agent.destroy() };
}

/**
 * `admin` for core.mjs: the admin API call, its JSON on 2xx, AdminError otherwise.
 * @param {string} url
 * @param {string} token
 * @param {typeof fetch | undefined} fetchImpl
 * @returns {import('./world.mjs').Admin}
 */
export function adminCaller(url, token, fetchImpl) {
  return async (method, path, body) => {
    const res = await callApi({ url, token, fetch: fetchImpl }, { method, path, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw new AdminError(method, path, res.status, res.json, res.text);
    return res.json;
  };
}

/** @param {string} url */
function isLoopback(url) {
  const host = new URL(url).hostname;
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127\./.test(host);
}

/**
 * Runs one command line (without "node simulate.mjs").
 * @param {string[]} argv
 * @param {{ stdout?: any, stderr?: any, env?: Record<string, string | undefined>, signal?: AbortSignal, fetch?: typeof fetch, cwd?: string }} [io]
 * @returns {Promise<number>} the exit code
 */
export async function run(argv, io = {}) {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;
  const cwd = io.cwd ?? process.cwd();

  let options;
  try {
    options = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    stderr.write(`simulate: ${error.message}\n  npm run simulate -- --help lists the options\n`);
    return EXIT.usage;
  }
  if (options.help) {
    stdout.write(USAGE);
    return EXIT.ok;
  }
  if (options.model) {
    const code = await runModel(options, stdout, stderr, env, cwd);
    if (code !== EXIT.ok || options.scenarios.length === 0) return code;
  }
  const url = (options.url ?? (env.LB_URL || DEFAULT_URL)).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url)) {
    stderr.write(`simulate: not an http(s) URL: "${url}" (from ${options.url !== undefined ? '--url' : 'LB_URL'})\n`);
    return EXIT.usage;
  }
  const token = options.token || env.LB_TOKEN;
  if (!token) {
    stderr.write(
      'simulate: no admin token: set LB_TOKEN or pass --token (the scenarios use the admin API).\n' +
        '  for the demo (npm start): LB_TOKEN=demo-token npm run simulate\n',
    );
    return EXIT.usage;
  }
  /** @param {string} reason */
  const unreachable = (reason) => {
    stderr.write(`simulate: cannot reach ${url}: ${reason}; ${isLoopback(url) ? 'is the demo running (npm start)?' : 'check LB_URL or --url'}\n`);
    return EXIT.unreachable;
  };
  try {
    await (io.fetch ?? fetch)(`${url}/__lb/healthz`, { signal: AbortSignal.timeout(5000) }).then((res) => res.arrayBuffer());
  } catch (error) {
    return unreachable(networkReason(error, 5000));
  }

  const paint = makePaint(stdout.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb');
  const { send, close } = httpSender(url, options.concurrency);
  let summary;
  try {
    stderr.write(`simulate: ${options.clients} clients (seed ${options.seed}) through ${url}, host ${options.host}: ${options.scenarios.join(', ')}\n`);
    summary = await simulate({
      send,
      admin: adminCaller(url, token, io.fetch),
      host: options.host,
      clients: options.clients,
      seed: options.seed,
      scenarios: options.scenarios,
      concurrency: options.concurrency,
      signal: io.signal,
      weightsHost: options.weightsHost,
      stickyHost: options.stickyHost,
      log: (line) => stderr.write(`-- ${line}\n`),
      onScenario: (result) => stdout.write(`\n${formatScenario(result, paint)}`),
    });
  } catch (error) {
    if (error instanceof UnreachableError) return unreachable(error.reason);
    if (error instanceof SimulationError) {
      stderr.write(`simulate: ${error.message}\n`);
      if (error.code === 'no_load_balancer') stderr.write('  --host names the host whose load balancer steers by geography (the demo: proximity.localhost)\n');
      return error.code === 'no_load_balancer' || error.code === 'usage' ? EXIT.usage : EXIT.failed;
    }
    if (error instanceof AdminError) {
      stderr.write(`simulate: ${error.message}\n`);
      if (error.status === 401) stderr.write('  the admin token was refused: check LB_TOKEN or --token\n');
      return EXIT.failed;
    }
    throw error;
  } finally {
    close();
  }

  const out = resolve(cwd, options.out);
  await mkdir(out, { recursive: true });
  /** @type {string[]} */
  const files = [];
  /** @param {string} name @param {string} text */
  const write = async (name, text) => {
    await writeFile(join(out, name), text);
    files.push(join(options.out, name));
  };
  await write('summary.json', summaryJson({ generated_at: new Date().toISOString(), lb_url: url, ...summary }));
  await write('distribution.svg', distributionSvg(summary));
  for (const result of summary.scenarios) {
    if (result.geo && result.clients.length > 0) await write(`map-${result.name}.svg`, mapSvg(summary, result));
  }

  stdout.write(`\n${formatOverview(summary, paint)}`);
  stdout.write(`files: ${files.join(', ')}\n`);
  const skippedOnRequest = options.explicit && summary.scenarios.some((r) => r.skipped);
  if (io.signal?.aborted) stderr.write('simulate: interrupted; the state was put back\n');
  return summary.ok && !skippedOnRequest && !io.signal?.aborted ? EXIT.ok : EXIT.failed;
}

/**
 * The propagation model: its table on stdout, its figures in propagation.json.
 * @param {ReturnType<typeof parseCommandLine>} options
 * @param {any} stdout
 * @param {any} stderr
 * @param {Record<string, string | undefined>} env
 * @param {string} cwd
 * @returns {Promise<number>} the exit code
 */
async function runModel(options, stdout, stderr, env, cwd) {
  let result;
  try {
    stderr.write(`simulate: propagation model, ${options.modelOptions.trials} trials per path and number of isolates\n`);
    result = propagation({ ...options.modelOptions, seed: options.seed });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    stderr.write(`simulate: ${error.message}\n`);
    return EXIT.usage;
  }
  const paint = makePaint(stdout.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb');
  stdout.write(`\n${formatPropagation(result, paint)}`);
  const out = resolve(cwd, options.out);
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'propagation.json'), `${JSON.stringify({ generated_at: new Date().toISOString(), ...result }, null, 2)}\n`);
  stdout.write(`files: ${join(options.out, 'propagation.json')}\n`);
  return EXIT.ok;
}
