// preflight from argv to exit code: read wrangler.toml and the configuration (a file,
// or the stored one through the admin API), check them, print the findings.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { messageOf } from '../cli.mjs';
import { callApi, UnreachableError } from '../lbctl/client.mjs';
import { makePaint, tableLines } from '../lbctl/format.mjs';
import { loadCheck, readDeploySettings } from './load.mjs';

/** 0 nothing will certainly fail; 1 something will; 2 usage or unreadable input; 3 admin API unreachable (as lbctl). */
export const EXIT = { ok: 0, fails: 1, usage: 2, unreachable: 3 };

export const USAGE = `usage: npm run preflight -- [config.json | -] [--config wrangler.toml] [--env NAME] [--url URL --token TOKEN]

Says what will not work on Cloudflare's edge before \`npm run deploy\`: wrangler.toml's
deployment settings (KV namespace id, LB_SIMULATION, ADMIN_HOSTNAME, LB_ZONES, bindings)
and a configuration (SPEC §10: IP-literal origins, Host overrides, unknown networks).

  config.json       a configuration document to check ("-" reads stdin)
  (none)            with LB_URL and LB_TOKEN set (or --url/--token), the configuration
                    stored in that Switchyard (GET /__lb/api/config); else wrangler.toml
                    alone (and its LB_CONFIG, if set)
  --config PATH     wrangler's configuration (default ./wrangler.toml)
  --env NAME        check that wrangler environment ([env.NAME])

Exit codes: 0 nothing will certainly fail (warnings may remain), 1 something will,
2 usage error or unreadable input, 3 the admin API could not be reached.
`;

/**
 * @param {string[]} argv
 * @param {{ stdout?: { write(s: string): unknown, isTTY?: boolean }, stderr?: { write(s: string): unknown }, stdin?: AsyncIterable<string | Uint8Array>, env?: Record<string, string | undefined>, fetch?: typeof fetch, cwd?: string }} [io]
 * @returns {Promise<number>}
 */
export async function run(argv, io = {}) {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;
  const cwd = io.cwd ?? process.cwd();
  /** @param {string} message @param {number} [code] */
  const fail = (message, code = EXIT.usage) => {
    stderr.write(`preflight: ${message}\n`);
    return code;
  };

  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        env: { type: 'string' },
        url: { type: 'string' },
        token: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    stderr.write(`preflight: ${messageOf(error)}\n${USAGE}`);
    return EXIT.usage;
  }
  if (args.values.help) {
    stdout.write(USAGE);
    return EXIT.ok;
  }
  if (args.positionals.length > 1) {
    stderr.write(`preflight: one configuration file at most, got ${args.positionals.length}\n${USAGE}`);
    return EXIT.usage;
  }

  const wranglerPath = resolve(cwd, args.values.config ?? 'wrangler.toml');
  if (!existsSync(wranglerPath)) return fail(`no ${wranglerPath}: pass --config with the path of wrangler.toml`);
  let deploy;
  try {
    deploy = await readDeploySettings(wranglerPath, args.values.env);
  } catch (error) {
    return fail(`cannot read ${wranglerPath}: ${messageOf(error)}`);
  }

  /** @type {{ label: string, document: unknown }[]} */
  const sources = [];
  const [file] = args.positionals;
  const url = args.values.url ?? env.LB_URL;
  const token = args.values.token ?? env.LB_TOKEN;
  if (file !== undefined) {
    let text;
    try {
      text = file === '-' ? await readStream(io.stdin ?? process.stdin) : await readFile(resolve(cwd, file), 'utf8');
    } catch (error) {
      return fail(`cannot read ${file}: ${messageOf(error)}`);
    }
    try {
      sources.push({ label: file === '-' ? 'stdin' : basename(file), document: JSON.parse(text) });
    } catch (error) {
      return fail(`${file} is not JSON: ${messageOf(error)}`);
    }
  } else if (url && token) {
    if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url)) return fail(`not an http(s) URL: "${url}"`);
    let res;
    try {
      res = await callApi({ url, token, fetch: io.fetch }, { method: 'GET', path: '/config' });
    } catch (error) {
      if (error instanceof UnreachableError) return fail(error.message, EXIT.unreachable);
      throw error;
    }
    if (!res.ok) {
      const reason = res.json?.error?.message ?? res.text.slice(0, 200);
      return fail(`GET ${url}/__lb/api/config answered ${res.status}: ${reason}${res.status === 401 ? ' (check LB_TOKEN or --token)' : ''}`);
    }
    if (res.json?.config == null) stderr.write(`preflight: nothing is stored at ${url} yet; checking ${basename(wranglerPath)} alone\n`);
    else sources.push({ label: `${url} (version ${res.json.version})`, document: res.json.config });
  }

  const { preflight } = await loadCheck();
  const report = preflight(deploy, sources);
  stdout.write(formatReport(report, makePaint(Boolean(stdout.isTTY) && !env.NO_COLOR)));
  return report.exitCode;
}

/**
 * The findings, grouped by where they are, one `path  code  severity  message` row each,
 * then a one-line verdict.
 * @param {import('./check').Report} report
 */
export function formatReport(report, paint = makePaint(false)) {
  /** @type {string[]} */
  const lines = [];
  for (const source of report.checked) {
    const mine = report.findings.filter((f) => f.source === source);
    lines.push(`${paint.bold(source)}: ${mine.length === 0 ? paint.green('nothing to report') : ''}`.trimEnd());
    if (mine.length === 0) continue;
    const columns = [
      { title: 'path' },
      { title: 'code' },
      { title: 'severity', style: (/** @type {string} */ s) => (s === 'error' ? paint.red(s) : paint.yellow(s)) },
      { title: 'message' },
    ];
    lines.push(...tableLines(columns, mine.map((f) => [f.path, f.code, f.severity, f.message]), { indent: '  ', header: false }));
  }
  const errors = report.findings.filter((f) => f.severity === 'error').length;
  const warnings = report.findings.length - errors;
  /** @param {number} n @param {string} word */
  const count = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
  lines.push(
    '',
    errors > 0
      ? paint.red(`${count(errors, 'error')}, ${count(warnings, 'warning')}: this will not work on Cloudflare's edge as it is.`)
      : warnings > 0
        ? paint.yellow(`${count(warnings, 'warning')}, no errors: check the warnings, then npm run deploy.`)
        : paint.green('Nothing found that would fail on the edge. Secrets are not checked: npx wrangler secret put ADMIN_TOKEN (and AFFINITY_SECRET).'),
  );
  return `${lines.join('\n')}\n`;
}

/** @param {AsyncIterable<string | Uint8Array>} stream */
async function readStream(stream) {
  let text = '';
  for await (const chunk of stream) text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  return text;
}
