// lbctl's commands: each one's usage, the admin API calls its arguments map to, and
// how the answers are shown. Pure: arguments in, requests out; responses in, text
// out. The command line is read in command-line.mjs; reading files and talking to the
// server is run.mjs's job.
import { formatEvents, formatHealth, formatPoolList, formatPops, formatStatus, json } from './format.mjs';
import { formatDryRun, formatExplain } from './format-steering.mjs';
import { formatRules, formatRuleTest } from './format-rules.mjs';
import { RefusedError, UsageError } from './errors.mjs';
import { ruleFromOptions, ruleTestQuery, withRuleAdded, withRuleRemoved } from './rule-edit.mjs';

export { RefusedError, UsageError };

/**
 * One admin API call a command makes.
 * @typedef {object} RequestPlan
 * @property {string} key the name its response goes by in render()
 * @property {string} method
 * @property {string} path under /__lb/api
 * @property {Record<string, string | string[]>} [query] a list is sent as the parameter repeated
 * @property {unknown} [body] a JSON value to send
 * @property {string} [bodyFile] a file whose content is the body ('-' = stdin)
 * @property {string} [ifMatch] the If-Match header value
 * @property {boolean} [optional] a 404 means "this route does not exist yet": the response is undefined
 * @property {boolean} [retryOnStale] its If-Match is the ETag of what the command just read: a 412 means
 *   someone changed it in between, so the command reads it again and makes its change on that
 */

const seg = encodeURIComponent;

/**
 * `--if-match 3` sends `"3"`; a value that already has quotes (`"3"`, `W/"3"`) goes as it is.
 * @param {string | undefined} value
 */
export function ifMatchHeader(value) {
  if (value === undefined) return undefined;
  return value.includes('"') ? value : `"${value}"`;
}

/** A number argument or option value. @param {string | undefined} value @param {string} what @param {string} usage */
function number(value, what, usage) {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${what} must be a number, got "${value}"`, usage);
  return n;
}

/**
 * The PATCH of one origin, for the one-flag origin commands.
 * @param {Record<string, unknown>} body
 * @returns {Command['plan']}
 */
function patchOrigin(body) {
  return ({ args, options }) => [
    { key: 'origin', method: 'PATCH', path: `/pools/${seg(args.pool)}/origins/${seg(args.name)}`, body, ifMatch: ifMatchHeader(options['if-match']) },
  ];
}

/** A version number argument. @param {string} value @param {string} usage */
function versionNumber(value, usage) {
  if (!/^\d+$/.test(value)) throw new UsageError(`version must be a whole number, got "${value}"`, usage);
  return Number(value);
}

/**
 * The load balancer in GET /load_balancers/:id's answer.
 * @param {any} answer
 */
function loadBalancerOf(answer) {
  const lb = answer?.load_balancer;
  if (lb === null || typeof lb !== 'object' || Array.isArray(lb)) throw new RefusedError('unexpected_answer', 'the answer holds no load_balancer; is this a Switchyard with rules?');
  return lb;
}

/**
 * The PUT of a load balancer changed from what was read. Its If-Match is the operator's
 * --if-match, else the ETag of the read (else its configuration version), so that a
 * change made in between is never overwritten: it is read again and the change redone.
 * @param {string} id
 * @param {unknown} lb
 * @param {Record<string, any>} options
 * @param {any} read the GET's answer
 * @param {string | undefined} etag the GET's ETag
 * @returns {RequestPlan}
 */
function writeLoadBalancer(id, lb, options, read, etag) {
  const path = `/load_balancers/${seg(id)}`;
  const given = ifMatchHeader(options['if-match']);
  if (given !== undefined) return { key: 'write', method: 'PUT', path, body: lb, ifMatch: given };
  return { key: 'write', method: 'PUT', path, body: lb, ifMatch: etag ?? `"${read.version}"`, retryOnStale: true };
}

/**
 * @typedef {{ args: Record<string, string>, options: Record<string, any>, usage: string }} PlanInput
 * @typedef {{ responses: Record<string, any>, result: any, args: Record<string, string>, options: Record<string, any>, paint: any, url: string }} RenderInput
 *   result is the response of the first request
 * @typedef {{ out?: string, err?: string }} Rendered
 *
 * @typedef {PlanInput & { responses: Record<string, any>, etags: Record<string, string | undefined> }} FollowUpInput
 *   the answers of plan()'s requests, and their ETags, by key
 *
 * @typedef {object} Command
 * @property {string} name
 * @property {string} usage after "lbctl "
 * @property {string} summary
 * @property {string[]} args positional arguments, all required
 * @property {string[]} options the options of its own it accepts (command-line.mjs, LOCAL)
 * @property {(input: PlanInput) => RequestPlan[]} plan the first requests; it checks every argument, so a
 *   usage error comes before any call
 * @property {(input: FollowUpInput) => RequestPlan[]} [followUp] the requests made with the first answers
 *   (a read, then the write of what was read and changed); may throw RefusedError
 * @property {(r: RenderInput) => Rendered} render
 * @property {(responses: Record<string, any>) => unknown} [jsonOutput] what --json prints when it is not the first response
 */

/**
 * The answer to a change: what was done, and the version it made.
 * @param {(r: RenderInput) => string} what
 * @returns {Command['render']}
 */
const stored = (what) => (r) => ({ out: `${what(r)}: version ${r.result.version}\n` });

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
    render: ({ responses, paint, url }) => ({ out: formatStatus({ url, config: responses.config, health: responses.health, stats: responses.stats, pops: responses.pops }, paint) }),
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
      out: (result.versions ?? []).map((/** @type {{ version: number, at: string, summary: string, actor: string }} */ v) => `${String(v.version).padStart(6)}  ${v.at}  ${v.summary}  (${v.actor})`).join('\n') + '\n',
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
    name: 'rule list',
    usage: 'rule list <lb>',
    summary: "a load balancer's rules in the order they are tried, and what each does",
    args: ['lb'],
    options: [],
    plan: ({ args }) => [{ key: 'lb', method: 'GET', path: `/load_balancers/${seg(args.lb)}` }],
    render: ({ result, paint }) => ({ out: formatRules(loadBalancerOf(result), paint) }),
    jsonOutput: ({ lb }) => ({ version: lb.version, load_balancer: lb.load_balancer?.id, rules: lb.load_balancer?.rules ?? [] }),
  },
  {
    name: 'rule add',
    usage:
      "rule add <lb> --name N --condition '...' [--priority P] [--terminates] [--disabled] " +
      '[--fixed-status S --fixed-body B --fixed-type T --fixed-location L] [--pools a,b] [--fallback-pool p] ' +
      "[--override-json '{...}'] [--if-match N]",
    summary: 'add a rule after the others: a fixed response, or overrides of pools and steering (--override-json: any field)',
    args: ['lb'],
    options: [
      'name', 'condition', 'priority', 'terminates', 'disabled', 'fixed-status', 'fixed-body', 'fixed-type', 'fixed-location',
      'pools', 'fallback-pool', 'override-json', 'if-match',
    ],
    plan: ({ args, options, usage }) => {
      ruleFromOptions(options, usage);
      return [{ key: 'lb', method: 'GET', path: `/load_balancers/${seg(args.lb)}` }];
    },
    followUp: ({ responses, etags, args, options, usage }) => [
      writeLoadBalancer(args.lb, withRuleAdded(loadBalancerOf(responses.lb), ruleFromOptions(options, usage)), options, responses.lb, etags.lb),
    ],
    render: ({ responses, args, options }) => ({ out: `rule ${options.name} added to load balancer ${args.lb}: version ${responses.write.version}\n` }),
    jsonOutput: ({ write }) => write,
  },
  {
    name: 'rule rm',
    usage: 'rule rm <lb> <name> [--if-match N]',
    summary: 'remove a rule',
    args: ['lb', 'name'],
    options: ['if-match'],
    plan: ({ args }) => [{ key: 'lb', method: 'GET', path: `/load_balancers/${seg(args.lb)}` }],
    followUp: ({ responses, etags, args, options }) => [
      writeLoadBalancer(args.lb, withRuleRemoved(loadBalancerOf(responses.lb), args.name), options, responses.lb, etags.lb),
    ],
    render: ({ responses, args }) => ({ out: `rule ${args.name} removed from load balancer ${args.lb}: version ${responses.write.version}\n` }),
    jsonOutput: ({ write }) => write,
  },
  {
    name: 'rule test',
    usage: 'rule test <host> <path> [--method M] [--header name:value ...] [--country CC] [--ip IP] [--colo XXX] [--cookie V]',
    summary: 'which rules a request like this matches, and what is decided for it',
    args: ['host', 'path'],
    options: ['method', 'header', 'country', 'ip', 'colo', 'cookie'],
    plan: ({ args, options, usage }) => [{ key: 'explain', method: 'GET', path: '/explain', query: ruleTestQuery(args, options, usage) }],
    render: ({ result }) => ({ out: formatRuleTest(result) }),
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
      let err = (result.unmapped ?? []).map((/** @type {{ path: string, message: string }} */ n) => `unmapped: ${n.path}: ${n.message}\n`).join('');
      if (result.version !== undefined) err += `configuration stored: version ${result.version}\n`;
      return { out: json(result.config), err };
    },
  },
];
