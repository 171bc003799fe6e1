// lbctl from argv to exit code: parse, read body files, call the admin API (for a
// command that changes what it reads, the read, then the write, again from the read
// when someone else's change came in between), show the answer. Everything it touches
// (streams, env, fetch) comes in through `io`, so tests and the demo can drive it
// in-process.
import { readFile } from 'node:fs/promises';
import { messageOf } from '../cli.mjs';
import { callApi, UnreachableError } from './client.mjs';
import { helpText, parseCommandLine } from './command-line.mjs';
import { RefusedError, UsageError } from './errors.mjs';
import { collectWarnings, formatApiError, formatWarnings, json, makePaint } from './format.mjs';

export const DEFAULT_URL = 'http://127.0.0.1:8787';

export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3 };

/** How often a command that reads, then writes what it read, tries when someone else's change comes in between. */
const MAX_ATTEMPTS = 3;

/**
 * @typedef {object} Io
 * @property {{ write(chunk: string): unknown, isTTY?: boolean }} [stdout]
 * @property {{ write(chunk: string): unknown, isTTY?: boolean }} [stderr]
 * @property {AsyncIterable<string | Uint8Array> & { isTTY?: boolean }} [stdin] read for a `-` file argument
 * @property {Record<string, string | undefined>} [env] LB_URL, LB_TOKEN, NO_COLOR
 * @property {typeof fetch} [fetch]
 * @property {number} [timeoutMs] per request; 10 s by default
 */

/**
 * Runs one lbctl command line (without "node lbctl.mjs").
 * @param {string[]} argv
 * @param {Io} [io]
 * @returns {Promise<number>} the exit code: 0 done, 1 refused, 2 usage, 3 unreachable
 */
export async function run(argv, io = {}) {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;

  let invocation;
  try {
    invocation = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return usageError(stderr, error.message, error.usage);
  }
  if (invocation.help) {
    const { command } = invocation;
    stdout.write(command ? `usage: lbctl ${command.usage}\n  ${command.summary}\n` : helpText());
    return EXIT.ok;
  }
  const { globals, command, requests } = invocation;

  const url = (globals.url ?? (env.LB_URL || DEFAULT_URL)).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url)) {
    return usageError(stderr, `not an http(s) URL: "${url}" (from ${globals.url !== undefined ? '--url' : 'LB_URL'})`);
  }
  const token = globals.token || env.LB_TOKEN;
  if (!token) {
    stderr.write(
      'lbctl: no admin token: set LB_TOKEN or pass --token.\n' +
        '  for the demo (npm start): export LB_TOKEN=demo-token\n' +
        '  otherwise the ADMIN_TOKEN secret of the Worker (wrangler secret put ADMIN_TOKEN)\n',
    );
    return EXIT.usage;
  }

  // Bodies are read and checked before any call, so a typo in a file changes nothing.
  /** @type {Map<import('./commands.mjs').RequestPlan, string>} */
  const bodies = new Map();
  for (const request of requests) {
    if (request.bodyFile === undefined) continue;
    const body = await readBody(request.bodyFile, io.stdin ?? process.stdin, stderr);
    if (typeof body !== 'string') return usageError(stderr, body.error, command.usage);
    bodies.set(request, body);
  }

  const target = { url, token, fetch: io.fetch, timeoutMs: io.timeoutMs };
  /** @type {Record<string, any>} */
  let responses;
  /** @type {unknown[]} the answers whose warnings are said: those of the change, when the command reads first */
  let warned;
  for (let attempt = 1; ; attempt++) {
    const first = await exchange(target, requests, bodies);
    if (first.kind !== 'ok') return failed(first, stderr, url);
    responses = first.responses;
    warned = Object.values(responses);
    if (command.followUp === undefined) break;
    let next;
    try {
      next = command.followUp({ args: invocation.args, options: invocation.options, usage: command.usage, responses, etags: first.etags });
    } catch (error) {
      if (!(error instanceof RefusedError)) throw error;
      stderr.write(`lbctl: ${error.code}: ${error.message}\n`);
      return EXIT.refused;
    }
    const second = await exchange(target, next, bodies);
    // A change made between the read and the write: read it again, redo the change on it.
    const stale = second.kind === 'refused' && second.res.status === 412 && second.request.retryOnStale === true;
    if (stale && attempt < MAX_ATTEMPTS) continue;
    if (stale) return failed(second, stderr, url, `hint: it changed ${MAX_ATTEMPTS} times while lbctl was changing it; run the command again`);
    if (second.kind !== 'ok') return failed(second, stderr, url);
    responses = { ...responses, ...second.responses };
    warned = Object.values(second.responses);
    break;
  }

  const result = responses[requests[0].key];
  const colour = (/** @type {{ isTTY?: boolean }} */ stream) => stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
  // What is valid but will not work on Cloudflare's edge: said on stderr after the
  // answer, also with --json (stdout stays the document), never an exit code.
  const warnings = formatWarnings(collectWarnings(warned), makePaint(colour(stderr)));
  if (globals.json) {
    stdout.write(json(command.jsonOutput ? command.jsonOutput(responses) : result));
    if (warnings) stderr.write(warnings);
    return EXIT.ok;
  }
  const paint = makePaint(colour(stdout));
  const { out, err } = command.render({ responses, result, args: invocation.args, options: invocation.options, paint, url });
  if (err) stderr.write(err);
  if (out) stdout.write(out);
  if (warnings) stderr.write(warnings);
  return EXIT.ok;
}

/**
 * @typedef {import('./commands.mjs').RequestPlan} RequestPlan
 * @typedef {import('./client.mjs').ApiResponse} ApiResponse
 * @typedef {{ kind: 'ok', responses: Record<string, any>, etags: Record<string, string | undefined> }
 *   | { kind: 'unreachable', error: UnreachableError }
 *   | { kind: 'refused' | 'not_json', request: RequestPlan, res: ApiResponse }} Exchange
 */

/**
 * Makes a round of calls at once. Their answers by key, or the first that failed.
 * @param {{ url: string, token: string, fetch?: typeof fetch, timeoutMs?: number }} target
 * @param {RequestPlan[]} requests
 * @param {Map<RequestPlan, string>} files the bodies read from files
 * @returns {Promise<Exchange>}
 */
async function exchange(target, requests, files) {
  const settled = await Promise.allSettled(
    requests.map((r) => {
      const body = files.get(r) ?? (r.body === undefined ? undefined : JSON.stringify(r.body));
      return callApi(target, { method: r.method, path: r.path, query: r.query, body, ifMatch: r.ifMatch });
    }),
  );
  /** @type {Record<string, any>} */
  const responses = {};
  /** @type {Record<string, string | undefined>} */
  const etags = {};
  for (const [i, outcome] of settled.entries()) {
    const request = requests[i];
    if (outcome.status === 'rejected') {
      const error = outcome.reason;
      if (!(error instanceof UnreachableError)) throw error;
      return { kind: 'unreachable', error };
    }
    const res = outcome.value;
    if (res.status === 404 && request.optional) {
      responses[request.key] = undefined;
      continue;
    }
    if (!res.ok) return { kind: 'refused', request, res };
    if (res.json === undefined) return { kind: 'not_json', request, res };
    responses[request.key] = res.json;
    etags[request.key] = res.etag;
  }
  return { kind: 'ok', responses, etags };
}

/**
 * Says why a round of calls failed; the exit code.
 * @param {Exclude<Exchange, { kind: 'ok' }>} outcome
 * @param {{ write(chunk: string): unknown }} stderr
 * @param {string} url
 * @param {string} [hint] instead of the usual hint for the status
 */
function failed(outcome, stderr, url, hint) {
  if (outcome.kind === 'unreachable') {
    stderr.write(`lbctl: ${outcome.error.message}; ${isLoopback(url) ? 'is the demo running (npm start)?' : 'check LB_URL or --url'}\n`);
    return EXIT.unreachable;
  }
  const { request, res } = outcome;
  if (outcome.kind === 'refused') stderr.write(formatApiError(res.status, res.json, res.text, hint));
  else stderr.write(`lbctl: ${request.method} ${request.path}: HTTP ${res.status} but the answer is not JSON; is ${url} a Switchyard?\n`);
  return EXIT.refused;
}

/**
 * @param {{ write(chunk: string): unknown }} stderr
 * @param {string} message
 * @param {string} [usage]
 */
function usageError(stderr, message, usage) {
  stderr.write(`lbctl: ${message}\n`);
  stderr.write(usage ? `usage: lbctl ${usage}\n` : 'usage: lbctl <command> [arguments]; lbctl --help lists the commands\n');
  return EXIT.usage;
}

/**
 * A body file's text, checked to be JSON, or what is wrong with it.
 * @param {string} file a path, or '-' for stdin
 * @param {AsyncIterable<string | Uint8Array> & { isTTY?: boolean }} stdin
 * @param {{ write(chunk: string): unknown }} stderr
 * @returns {Promise<string | { error: string }>}
 */
async function readBody(file, stdin, stderr) {
  let text;
  try {
    if (file === '-') {
      if (stdin.isTTY) stderr.write('lbctl: reading JSON from stdin (end with Ctrl-D)\n');
      /** @type {Uint8Array[]} */
      const chunks = [];
      for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      text = Buffer.concat(chunks).toString('utf8');
    } else {
      text = await readFile(file, 'utf8');
    }
  } catch (error) {
    const code = /** @type {NodeJS.ErrnoException} */ (error).code;
    return { error: `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : messageOf(error)}` };
  }
  const name = file === '-' ? 'stdin' : file;
  if (text.trim() === '') return { error: `${name} is empty` };
  try {
    JSON.parse(text);
  } catch (error) {
    return { error: `${name} is not JSON: ${messageOf(error)}` };
  }
  return text;
}

/** @param {string} url */
function isLoopback(url) {
  const host = new URL(url).hostname;
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127\./.test(host);
}
