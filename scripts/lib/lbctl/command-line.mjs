// lbctl's command line: the options, the help text, and argv read into the command it
// names and the admin API calls that command makes. Throws UsageError.
import { parseArgs } from 'node:util';
import { COMMANDS, UsageError } from './commands.mjs';

/**
 * @typedef {import('./commands.mjs').Command} Command
 * @typedef {import('./commands.mjs').RequestPlan} RequestPlan
 */

/** @typedef {Record<string, import('node:util').ParseArgsOptionDescriptor>} OptionTable */

/** @type {OptionTable} Options every command takes. */
const GLOBAL = {
  json: { type: 'boolean' },
  url: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/** @type {OptionTable} Options particular commands take; each command lists the ones it accepts. */
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
  header: { type: 'string', multiple: true },
  name: { type: 'string' },
  condition: { type: 'string' },
  priority: { type: 'string' },
  terminates: { type: 'boolean' },
  'fixed-status': { type: 'string' },
  'fixed-body': { type: 'string' },
  'fixed-type': { type: 'string' },
  'fixed-location': { type: 'string' },
  pools: { type: 'string' },
  'fallback-pool': { type: 'string' },
  'override-json': { type: 'string' },
};

const OPTIONS = { ...GLOBAL, ...LOCAL };

const BY_NAME = new Map(COMMANDS.map((c) => [c.name, c]));

/** The full help text. */
export function helpText() {
  // Long usage lines put their summary on the next line rather than widen every row.
  const width = Math.max(...COMMANDS.map((c) => c.usage.length).filter((n) => n <= 48));
  /** @param {Command} c */
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

/**
 * `--lat -33.9`: parseArgs would take "-33.9" for an option; pass it as `--lat=-33.9`.
 * @param {string[]} argv
 */
function joinNegativeValues(argv) {
  /** @type {string[]} */
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

/**
 * The command named by the first one or two positionals, the longer name first.
 * @param {string[]} positionals
 */
function findCommand(positionals) {
  const two = BY_NAME.get(positionals.slice(0, 2).join(' '));
  if (two && positionals.length >= 2) return { command: two, rest: positionals.slice(2) };
  const one = BY_NAME.get(positionals[0] ?? '');
  if (one) return { command: one, rest: positionals.slice(1) };
  return undefined;
}

/**
 * The usage lines of a group ("origin"), for `lbctl origin` alone or a wrong subcommand.
 * @param {string} group
 */
function groupUsage(group) {
  const members = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
  return members.length === 0 ? undefined : members.map((c) => c.usage).join('\n       lbctl ');
}

/**
 * @typedef {object} Parsed
 * @property {{ json: boolean, url?: string, token?: string }} globals
 * @property {Record<string, string>} args
 * @property {Record<string, any>} options
 * @property {RequestPlan[]} requests
 *
 * A command to run, or, with --help, the help to print (of `command`, if any).
 * @typedef {Parsed & ({ help: false, command: Command } | { help: true, command: Command | undefined })} Invocation
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
  const text = (/** @type {unknown} */ value) => (typeof value === 'string' ? value : undefined);
  const globals = { json: values.json === true, url: text(values.url), token: text(values.token) };
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

/** @param {unknown} error what parseArgs threw */
function parseArgsMessage(error) {
  // "Unknown option '--x'. To specify a positional argument starting with a '-', …": keep the first sentence.
  const message = error instanceof Error ? error.message : String(error);
  return message.split(/\.\s/)[0].replace(/\.$/, '');
}
