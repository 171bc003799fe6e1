// lbctl's commands: each one's usage, the admin API calls its arguments map to, and
// how the answers are shown. Pure: argv in, requests out; responses in, text out.
// Reading files and talking to the server is run.mjs's job.
import { parseArgs } from 'node:util';
import {
  formatDryRun,
  formatEvents,
  formatExplain,
  formatHealth,
  formatPoolList,
  formatPops,
  formatStatus,
  json,
} from './format.mjs';

/** A mistake on the command line. Exit code 2, with the usage line of the command. */
export class UsageError extends Error {
  /** @param {string} message @param {string} [usage] */
  constructor(message, usage) {
    super(message);
    this.name = 'UsageError';
    this.usage = usage;
  }
}

/**
 * One admin API call a command makes.
 * @typedef {object} RequestPlan
 * @property {string} key the name its response goes by in render()
 * @property {string} method
 * @property {string} path under /__lb/api
 * @property {Record<string, string>} [query]
 * @property {unknown} [body] a JSON value to send
 * @property {string} [bodyFile] a file whose content is the body ('-' = stdin)
 * @property {string} [ifMatch] the If-Match header value
 * @property {boolean} [optional] a 404 means "this route does not exist yet": the response is undefined
 */

/** Options every command takes. */
const GLOBAL = {
  json: { type: 'boolean' },
  url: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/** Options particular commands take; each command lists the ones it accepts. */
const LOCAL = {
  'if-match': { type: 'string' },
  weight: { type: 'string' },
  backup: { type: 'boolean' },
  disabled: { type: 'boolean' },
  all: { type: 'boolean' },
  apply: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  host: { type: 'string' },
  ip: { type: 'string' },
  country: { type: 'string' },
  lat: { type: 'string' },
  lon: { type: 'string' },
  colo: { type: 'string' },
  cookie: { type: 'string' },
  method: { type: 'string' },
  path: { type: 'string' },
  limit: { type: 'string' },
  kind: { type: 'string' },
};

const OPTIONS = { ...GLOBAL, ...LOCAL };

const seg = encodeURIComponent;

/** `--if-match 3` sends `"3"`; a value that already has quotes (`"3"`, `W/"3"`) goes as it is. */
export function ifMatchHeader(value) {
  if (value === undefined) return undefined;
  return value.includes('"') ? value : `"${value}"`;
}

function number(value, what, usage) {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${what} must be a number, got "${value}"`, usage);
  return n;
}

/** The PATCH of one origin, for the one-flag origin commands. */
function patchOrigin(body) {
  return ({ args, options }) => [
    { key: 'origin', method: 'PATCH', path: `/pools/${seg(args.pool)}/origins/${seg(args.name)}`, body, ifMatch: ifMatchHeader(options['if-match']) },
  ];
}

/** A version number argument. */
function versionNumber(value, usage) {
  if (!/^\d+$/.test(value)) throw new UsageError(`version must be a whole number, got "${value}"`, usage);
  return Number(value);
}

const stored = (what) => (r) => ({ out: `${what(r)}: version ${r.result.version}\n` });

/**
 * @typedef {object} Command
 * @property {string} name
 * @property {string} usage after "lbctl "
 * @property {string} summary
 * @property {string[]} args positional arguments, all required
 * @property {string[]} options the LOCAL options it accepts
 * @property {(input: { args: Record<string, string>, options: Record<string, any>, usage: string }) => RequestPlan[]} plan
 * @property {(r: { responses: Record<string, any>, result: any, args: Record<string, string>, options: Record<string, any>, paint: any, url: string }) => { out?: string, err?: string }} render
 *   result is the response of the first request
 * @property {(responses: Record<string, any>) => unknown} [jsonOutput] what --json prints when it is not the first response
 */

/** @type {Command[]} */
export const COMMANDS = [
  {
    name: 'status',
    usage: 'status',
    summary: 'pools and origins: weight, state, health, requests; withdrawn PoPs',
    args: [],
    options: [],
    plan: () => [
      { key: 'config', method: 'GET', path: '/config' },
      { key: 'health', method: 'GET', path: '/health', optional: true },
      { key: 'stats', method: 'GET', path: '/stats', optional: true },
      { key: 'pops', method: 'GET', path: '/pops', optional: true },
    ],
    render: ({ responses, paint, url }) => ({ out: formatStatus({ url, ...responses }, paint) }),
    jsonOutput: (responses) => ({
      config: responses.config,
      health: responses.health ?? null,
      stats: responses.stats ?? null,
      pops: responses.pops ?? null,
    }),
  },
  {
    name: 'config get',
    usage: 'config get',
    summary: 'print the configuration (JSON) to stdout',
    args: [],
    options: [],
    plan: () => [{ key: 'config', method: 'GET', path: '/config' }],
    render: ({ result }) => ({ out: json(result.config) }),
  },
  {
    name: 'config put',
    usage: 'config put <file|-> [--if-match N] [--dry-run]',
    summary: 'replace the configuration with a JSON file (- = stdin); --dry-run shows what it would change',
    args: ['file'],
    options: ['if-match', 'dry-run'],
    plan: ({ args, options }) => [
      {
        key: 'config',
        method: 'PUT',
        path: '/config',
        query: options['dry-run'] ? { dry_run: 'true' } : undefined,
        bodyFile: args.file,
        ifMatch: ifMatchHeader(options['if-match']),
      },
    ],
    render: (r) => (r.options['dry-run'] ? { out: formatDryRun(r.result, r.paint) } : stored(() => 'configuration stored')(r)),
  },
  {
    name: 'config history',
    usage: 'config history',
    summary: 'the kept configuration versions (the last 50), newest first',
    args: [],
    options: [],
    plan: () => [{ key: 'versions', method: 'GET', path: '/config/versions' }],
    render: ({ result }) => ({
      out: (result.versions ?? []).map((v) => `${String(v.version).padStart(6)}  ${v.at}  ${v.summary}  (${v.actor})`).join('\n') + '\n',
    }),
  },
  {
    name: 'config show',
    usage: 'config show <version>',
    summary: 'print a kept version of the configuration (JSON)',
    args: ['version'],
    options: [],
    plan: ({ args, usage }) => [{ key: 'version', method: 'GET', path: `/config/versions/${versionNumber(args.version, usage)}` }],
    render: ({ result }) => ({ out: json(result.config) }),
  },
  {
    name: 'config rollback',
    usage: 'config rollback <version>',
    summary: 'make a kept version current again (as a new version)',
    args: ['version'],
    options: [],
    plan: ({ args, usage }) => [{ key: 'rollback', method: 'POST', path: '/config/rollback', body: { version: versionNumber(args.version, usage) } }],
    render: ({ result }) => ({ out: `version ${result.restored} restored: version ${result.version}\n` }),
  },
  {
    name: 'pool list',
    usage: 'pool list',
    summary: 'list the pools',
    args: [],
    options: [],
    plan: () => [{ key: 'pools', method: 'GET', path: '/pools' }],
    render: ({ result }) => ({ out: formatPoolList(result.pools ?? []) }),
  },
  {
    name: 'pool get',
    usage: 'pool get <pool>',
    summary: 'print one pool (JSON)',
    args: ['pool'],
    options: [],
    plan: ({ args }) => [{ key: 'pool', method: 'GET', path: `/pools/${seg(args.pool)}` }],
    render: ({ result }) => ({ out: json(result.pool) }),
  },
  {
    name: 'pool add',
    usage: 'pool add <file|-> [--if-match N]',
    summary: 'add a pool from a JSON file (a pool object)',
    args: ['file'],
    options: ['if-match'],
    plan: ({ args, options }) => [
      { key: 'pool', method: 'POST', path: '/pools', bodyFile: args.file, ifMatch: ifMatchHeader(options['if-match']) },
    ],
    render: stored(({ result }) => (result.pool?.id ? `pool ${result.pool.id} added` : 'pool added')),
  },
  {
    name: 'pool rm',
    usage: 'pool rm <pool> [--if-match N]',
    summary: 'delete a pool',
    args: ['pool'],
    options: ['if-match'],
    plan: ({ args, options }) => [
      { key: 'pool', method: 'DELETE', path: `/pools/${seg(args.pool)}`, ifMatch: ifMatchHeader(options['if-match']) },
    ],
    render: stored(({ args }) => `pool ${args.pool} removed`),
  },
  {
    name: 'origin add',
    usage: 'origin add <pool> <name> <address> [--weight N] [--backup] [--disabled] [--if-match N]',
    summary: 'add an origin to a pool',
    args: ['pool', 'name', 'address'],
    options: ['weight', 'backup', 'disabled', 'if-match'],
    plan: ({ args, options, usage }) => {
      /** @type {Record<string, unknown>} */
      const body = { name: args.name, address: args.address };
      if (options.weight !== undefined) body.weight = number(options.weight, '--weight', usage);
      if (options.backup) body.backup = true;
      if (options.disabled) body.enabled = false;
      return [{ key: 'origin', method: 'POST', path: `/pools/${seg(args.pool)}/origins`, body, ifMatch: ifMatchHeader(options['if-match']) }];
    },
    render: stored(({ args }) => `origin ${args.pool}/${args.name} added`),
  },
  {
    name: 'origin rm',
    usage: 'origin rm <pool> <name> [--if-match N]',
    summary: 'remove an origin',
    args: ['pool', 'name'],
    options: ['if-match'],
    plan: ({ args, options }) => [
      { key: 'origin', method: 'DELETE', path: `/pools/${seg(args.pool)}/origins/${seg(args.name)}`, ifMatch: ifMatchHeader(options['if-match']) },
    ],
    render: stored(({ args }) => `origin ${args.pool}/${args.name} removed`),
  },
  {
    name: 'origin weight',
    usage: 'origin weight <pool> <name> <N> [--if-match N]',
    summary: "set an origin's weight (0 = no new traffic)",
    args: ['pool', 'name', 'weight'],
    options: ['if-match'],
    plan: (input) => patchOrigin({ weight: number(input.args.weight, 'the weight', input.usage) })(input),
    render: stored(({ args }) => `origin ${args.pool}/${args.name} weight ${Number(args.weight)}`),
  },
  {
    name: 'origin drain',
    usage: 'origin drain <pool> <name> [--if-match N]',
    summary: 'no new sessions; pinned sessions stay',
    args: ['pool', 'name'],
    options: ['if-match'],
    plan: patchOrigin({ drain: true }),
    render: stored(({ args }) => `origin ${args.pool}/${args.name} draining`),
  },
  {
    name: 'origin undrain',
    usage: 'origin undrain <pool> <name> [--if-match N]',
    summary: 'take new sessions again',
    args: ['pool', 'name'],
    options: ['if-match'],
    plan: patchOrigin({ drain: false }),
    render: stored(({ args }) => `origin ${args.pool}/${args.name} no longer draining`),
  },
  {
    name: 'origin enable',
    usage: 'origin enable <pool> <name> [--if-match N]',
    summary: 'back from maintenance',
    args: ['pool', 'name'],
    options: ['if-match'],
    plan: patchOrigin({ enabled: true }),
    render: stored(({ args }) => `origin ${args.pool}/${args.name} enabled`),
  },
  {
    name: 'origin disable',
    usage: 'origin disable <pool> <name> [--if-match N]',
    summary: 'maintenance: no traffic at all, sessions move away',
    args: ['pool', 'name'],
    options: ['if-match'],
    plan: patchOrigin({ enabled: false }),
    render: stored(({ args }) => `origin ${args.pool}/${args.name} disabled`),
  },
  {
    name: 'pop list',
    usage: 'pop list [--all]',
    summary: 'withdrawn PoPs (--all: every PoP)',
    args: [],
    options: ['all'],
    plan: () => [{ key: 'pops', method: 'GET', path: '/pops' }],
    render: ({ result, options }) => ({ out: formatPops(result.pops ?? [], { all: options.all === true }) }),
  },
  {
    name: 'pop withdraw',
    usage: 'pop withdraw <COLO> [--if-match N]',
    summary: 'withdraw a PoP: its simulated clients move to the next nearest',
    args: ['colo'],
    options: ['if-match'],
    plan: ({ args, options }) => [
      { key: 'pop', method: 'PUT', path: `/pops/${seg(args.colo.toUpperCase())}`, body: { withdrawn: true }, ifMatch: ifMatchHeader(options['if-match']) },
    ],
    render: stored(({ args }) => `PoP ${args.colo.toUpperCase()} withdrawn`),
  },
  {
    name: 'pop restore',
    usage: 'pop restore <COLO> [--if-match N]',
    summary: 'restore a withdrawn PoP',
    args: ['colo'],
    options: ['if-match'],
    plan: ({ args, options }) => [
      { key: 'pop', method: 'PUT', path: `/pops/${seg(args.colo.toUpperCase())}`, body: { withdrawn: false }, ifMatch: ifMatchHeader(options['if-match']) },
    ],
    render: stored(({ args }) => `PoP ${args.colo.toUpperCase()} restored`),
  },
  {
    name: 'explain',
    usage: 'explain [--host H] [--ip IP] [--country CC] [--lat N --lon N] [--colo XXX] [--cookie V] [--method M] [--path P]',
    summary: 'how a request with these facts would be steered',
    args: [],
    options: ['host', 'ip', 'country', 'lat', 'lon', 'colo', 'cookie', 'method', 'path'],
    plan: ({ options, usage }) => {
      if ((options.lat === undefined) !== (options.lon === undefined)) throw new UsageError('--lat and --lon go together', usage);
      if (options.lat !== undefined) {
        number(options.lat, '--lat', usage);
        number(options.lon, '--lon', usage);
      }
      /** @type {Record<string, string>} */
      const query = {};
      const upper = new Set(['country', 'colo', 'method']);
      for (const name of ['host', 'ip', 'country', 'lat', 'lon', 'colo', 'cookie', 'method', 'path']) {
        if (options[name] !== undefined) query[name] = upper.has(name) ? options[name].toUpperCase() : options[name];
      }
      return [{ key: 'explain', method: 'GET', path: '/explain', query }];
    },
    render: ({ result }) => ({ out: formatExplain(result) }),
  },
  {
    name: 'events',
    usage: 'events [--limit N] [--kind K]',
    summary: 'health transitions and admin changes, newest first',
    args: [],
    options: ['limit', 'kind'],
    plan: ({ options, usage }) => {
      /** @type {Record<string, string>} */
      const query = {};
      if (options.limit !== undefined) {
        if (!/^[1-9]\d*$/.test(options.limit)) throw new UsageError(`--limit must be a positive integer, got "${options.limit}"`, usage);
        query.limit = options.limit;
      }
      if (options.kind !== undefined) query.kind = options.kind;
      return [{ key: 'events', method: 'GET', path: '/events', query }];
    },
    render: ({ result }) => ({ out: formatEvents(result.events ?? []) }),
  },
  {
    name: 'health',
    usage: 'health',
    summary: 'health of every pool and origin',
    args: [],
    options: [],
    plan: () => [{ key: 'health', method: 'GET', path: '/health' }],
    render: ({ result, paint }) => ({ out: formatHealth(result, paint) }),
  },
  {
    name: 'health check',
    usage: 'health check',
    summary: 'run every probe now, then show health',
    args: [],
    options: [],
    plan: () => [{ key: 'health', method: 'POST', path: '/health/check' }],
    render: ({ result, paint }) => ({ out: formatHealth(result, paint) }),
  },
  {
    name: 'import-cloudflare',
    usage: 'import-cloudflare <file|-> [--apply [--if-match N]]',
    summary: 'translate a Cloudflare Load Balancing export; --apply stores it',
    args: ['file'],
    options: ['apply', 'if-match'],
    plan: ({ args, options, usage }) => {
      if (options['if-match'] !== undefined && !options.apply) throw new UsageError('--if-match only makes sense with --apply', usage);
      return [
        {
          key: 'import',
          method: 'POST',
          path: '/import/cloudflare',
          query: options.apply ? { apply: 'true' } : undefined,
          bodyFile: args.file,
          ifMatch: ifMatchHeader(options['if-match']),
        },
      ];
    },
    // stdout carries only the configuration, so `> config.json` works; notes go to stderr.
    render: ({ result }) => {
      let err = (result.unmapped ?? []).map((n) => `unmapped: ${n.path}: ${n.message}\n`).join('');
      if (result.version !== undefined) err += `configuration stored: version ${result.version}\n`;
      return { out: json(result.config), err };
    },
  },
];

const BY_NAME = new Map(COMMANDS.map((c) => [c.name, c]));

/** The full help text. */
export function helpText() {
  // Long usage lines put their summary on the next line rather than widen every row.
  const width = Math.max(...COMMANDS.map((c) => c.usage.length).filter((n) => n <= 48));
  const entry = (c) =>
    c.usage.length <= width ? [`  ${c.usage.padEnd(width)}  ${c.summary}`] : [`  ${c.usage}`, `  ${''.padEnd(width)}  ${c.summary}`];
  const lines = [
    'usage: lbctl <command> [arguments] [--url URL] [--token TOKEN] [--json]',
    '',
    'Operates a Switchyard load balancer through its admin API (/__lb/api).',
    '',
    'Commands:',
    ...COMMANDS.flatMap(entry),
    '',
    'Options:',
    '  --url URL      the load balancer (env LB_URL, default http://127.0.0.1:8787)',
    '  --token TOKEN  the admin bearer token (env LB_TOKEN; the demo uses demo-token)',
    '  --json         print the JSON response instead of text',
    '  -h, --help     this help, or a command\'s usage',
    '',
    'Exit codes: 0 done, 1 the server refused, 2 usage error, 3 cannot reach the server.',
    'Warnings (valid, but will not work on Cloudflare\'s edge) go to stderr and change no exit code.',
  ];
  return lines.join('\n') + '\n';
}

/** `--lat -33.9`: parseArgs would take "-33.9" for an option; pass it as `--lat=-33.9`. */
function joinNegativeValues(argv) {
  const out = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    const name = token.startsWith('--') && !token.includes('=') ? token.slice(2) : undefined;
    if (name !== undefined && OPTIONS[name]?.type === 'string' && /^-\d|^-\.\d/.test(argv[i + 1] ?? '')) {
      out.push(`${token}=${argv[i + 1]}`);
      i++;
    } else {
      out.push(token);
    }
  }
  return out;
}

/** The command named by the first one or two positionals, the longer name first. */
function findCommand(positionals) {
  const two = BY_NAME.get(positionals.slice(0, 2).join(' '));
  if (two && positionals.length >= 2) return { command: two, rest: positionals.slice(2) };
  const one = BY_NAME.get(positionals[0] ?? '');
  if (one) return { command: one, rest: positionals.slice(1) };
  return undefined;
}

/** The usage lines of a group ("origin"), for `lbctl origin` alone or a wrong subcommand. */
function groupUsage(group) {
  const members = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
  return members.length === 0 ? undefined : members.map((c) => c.usage).join('\n       lbctl ');
}

/**
 * @typedef {object} Invocation
 * @property {{ json: boolean, url?: string, token?: string }} globals
 * @property {boolean} help --help was given: print help (of `command`, if any) and stop
 * @property {Command} [command]
 * @property {Record<string, string>} args
 * @property {Record<string, any>} options
 * @property {RequestPlan[]} requests
 */

/**
 * Parses a command line (without "node lbctl.mjs") into the command and the
 * admin API calls it makes. Throws UsageError.
 * @param {string[]} argv
 * @returns {Invocation}
 */
export function parseCommandLine(argv) {
  argv = joinNegativeValues(argv);
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // Name the command's usage if the positionals say which one it is.
    const loose = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: false });
    throw new UsageError(parseArgsMessage(error), findCommand(loose.positionals)?.command.usage);
  }
  const { values, positionals } = parsed;
  const globals = { json: values.json === true, url: values.url, token: values.token };
  const found = findCommand(positionals);

  if (values.help) {
    return { globals, help: true, command: found?.command, args: {}, options: {}, requests: [] };
  }
  if (found === undefined) {
    if (positionals.length === 0) throw new UsageError('no command given');
    const group = groupUsage(positionals[0]);
    const what = positionals.length > 1 ? `${positionals[0]} ${positionals[1]}` : positionals[0];
    throw new UsageError(group && positionals.length === 1 ? `${what} needs a subcommand` : `unknown command: ${what}`, group);
  }

  const { command, rest } = found;
  const usage = command.usage;
  for (const name of Object.keys(values)) {
    if (name in GLOBAL) continue;
    if (!command.options.includes(name)) throw new UsageError(`${command.name} does not take --${name}`, usage);
  }
  if (rest.length < command.args.length) {
    throw new UsageError(`${command.name}: missing ${command.args.slice(rest.length).map((a) => `<${a}>`).join(' ')}`, usage);
  }
  if (rest.length > command.args.length) throw new UsageError(`${command.name}: unexpected argument "${rest[command.args.length]}"`, usage);
  const args = Object.fromEntries(command.args.map((name, i) => [name, rest[i]]));
  const options = Object.fromEntries(Object.entries(values).filter(([name]) => !(name in GLOBAL)));
  const requests = command.plan({ args, options, usage });
  return { globals, help: false, command, args, options, requests };
}

function parseArgsMessage(error) {
  // "Unknown option '--x'. To specify a positional argument starting with a '-', …": keep the first sentence.
  const message = String(error?.message ?? error);
  return message.split(/\.\s/)[0].replace(/\.$/, '');
}
