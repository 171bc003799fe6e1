// lbctl from argv to exit code: parse, read body files, call the admin API, show the
// answer. Everything it touches (streams, env, fetch) comes in through `io`, so tests
// and the demo can drive it in-process.
import { readFile } from 'node:fs/promises';
import { messageOf } from '../cli.mjs';
import { callApi, UnreachableError } from './client.mjs';
import { helpText, parseCommandLine } from './command-line.mjs';
import { UsageError } from './commands.mjs';
import { collectWarnings, formatApiError, formatWarnings, json, makePaint } from './format.mjs';

export const DEFAULT_URL = 'http://127.0.0.1:8787';

export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3 };

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
    if (request.bodyFile !== undefined) {
      const body = await readBody(request.bodyFile, io.stdin ?? process.stdin, stderr);
      if (typeof body !== 'string') return usageError(stderr, body.error, command.usage);
      bodies.set(request, body);
    } else if (request.body !== undefined) {
      bodies.set(request, JSON.stringify(request.body));
    }
  }

  const target = { url, token, fetch: io.fetch, timeoutMs: io.timeoutMs };
  const settled = await Promise.allSettled(
    requests.map((r) => callApi(target, { method: r.method, path: r.path, query: r.query, body: bodies.get(r), ifMatch: r.ifMatch })),
  );

  /** @type {Record<string, any>} */
  const responses = {};
  for (const [i, outcome] of settled.entries()) {
    const request = requests[i];
    if (outcome.status === 'rejected') {
      const error = outcome.reason;
      if (!(error instanceof UnreachableError)) throw error;
      stderr.write(`lbctl: ${error.message}; ${isLoopback(url) ? 'is the demo running (npm start)?' : 'check LB_URL or --url'}\n`);
      return EXIT.unreachable;
    }
    const res = outcome.value;
    if (res.status === 404 && request.optional) {
      responses[request.key] = undefined;
      continue;
    }
    if (!res.ok) {
      stderr.write(formatApiError(res.status, res.json, res.text));
      return EXIT.refused;
    }
    if (res.json === undefined) {
      stderr.write(`lbctl: ${request.method} ${request.path}: HTTP ${res.status} but the answer is not JSON; is ${url} a Switchyard?\n`);
      return EXIT.refused;
    }
    responses[request.key] = res.json;
  }

  const result = responses[requests[0].key];
  const colour = (/** @type {{ isTTY?: boolean }} */ stream) => stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
  // What is valid but will not work on Cloudflare's edge: said on stderr after the
  // answer, also with --json (stdout stays the document), never an exit code.
  const warnings = formatWarnings(collectWarnings(Object.values(responses)), makePaint(colour(stderr)));
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
