// lbctl's rule commands without the I/O (SPEC §9): a rule built from `rule add`'s
// options, a load balancer with a rule added or removed, and `rule test`'s request as
// explain's query. The server validates the result as a whole (the condition, the
// pools, every override field, including ones this lbctl does not know); only what
// the command line itself can get wrong is checked here.
import { RefusedError, UsageError } from './errors.mjs';

/** @typedef {import('./format.mjs').Document} Document */

/** `rule add`'s options that make a fixed response, and the field each sets. */
const FIXED_OPTIONS = /** @type {const} */ ([
  ['fixed-status', 'status_code'],
  ['fixed-type', 'content_type'],
  ['fixed-body', 'message_body'],
  ['fixed-location', 'location'],
]);

/**
 * A word as a shell would take it back: as it is when it is plain, else in single quotes.
 * @param {string} word
 */
export function shellWord(word) {
  return /^[A-Za-z0-9_.,:/@%+=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The rule `rule add` describes, in the configuration's shape.
 * @param {Record<string, any>} options
 * @param {string} usage
 * @returns {Record<string, unknown>}
 */
export function ruleFromOptions(options, usage) {
  if (options.name === undefined) throw new UsageError('rule add needs --name', usage);
  if (options.name.trim() === '') throw new UsageError('--name must not be empty', usage);
  if (options.condition === undefined) throw new UsageError('rule add needs --condition (a condition in the rules language, e.g. \'http.request.uri.path wildcard "/api/*"\')', usage);
  /** @type {Record<string, unknown>} */
  const rule = { name: options.name };
  if (options.priority !== undefined) {
    if (!/^\d+$/.test(options.priority)) throw new UsageError(`--priority must be a whole number, got "${options.priority}"`, usage);
    rule.priority = Number(options.priority);
  }
  if (options.disabled) rule.disabled = true;
  if (options.terminates) rule.terminates = true;
  rule.condition = options.condition;
  const fixed = fixedResponse(options, usage);
  const overrides = overridesFrom(options, usage);
  if (fixed !== undefined && overrides !== undefined) {
    throw new UsageError('a rule either answers with a fixed response or changes how the request is steered: drop the --fixed-* options or the overrides', usage);
  }
  if (fixed !== undefined) rule.fixed_response = fixed;
  if (overrides !== undefined) rule.overrides = overrides;
  return rule;
}

/**
 * @param {Record<string, any>} options
 * @param {string} usage
 */
function fixedResponse(options, usage) {
  if (FIXED_OPTIONS.every(([option]) => options[option] === undefined)) return undefined;
  /** @type {Record<string, unknown>} */
  const fixed = {};
  for (const [option, field] of FIXED_OPTIONS) {
    const value = options[option];
    if (value === undefined) continue;
    if (option === 'fixed-status') {
      if (!/^\d{3}$/.test(value)) throw new UsageError(`--fixed-status must be an HTTP status code, got "${value}"`, usage);
      fixed[field] = Number(value);
    } else {
      fixed[field] = value;
    }
  }
  return fixed;
}

/**
 * The overrides of --override-json, --pools and --fallback-pool; undefined when none.
 * @param {Record<string, any>} options
 * @param {string} usage
 */
function overridesFrom(options, usage) {
  /** @type {Record<string, unknown>} */
  let overrides = {};
  if (options['override-json'] !== undefined) {
    let parsed;
    try {
      parsed = JSON.parse(options['override-json']);
    } catch (error) {
      throw new UsageError(`--override-json is not JSON: ${error instanceof Error ? error.message : String(error)}`, usage);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new UsageError('--override-json must be a JSON object of override fields, e.g. \'{"session_affinity":"none"}\'', usage);
    }
    overrides = parsed;
  }
  /** @param {string} option @param {string} field @param {unknown} value */
  const set = (option, field, value) => {
    if (field in overrides) throw new UsageError(`--${option} and --override-json both set ${field}`, usage);
    overrides[field] = value;
  };
  if (options.pools !== undefined) {
    const pools = String(options.pools).split(',').map((id) => id.trim());
    if (pools.some((id) => id === '')) throw new UsageError(`--pools takes pool ids separated by commas, got "${options.pools}"`, usage);
    set('pools', 'default_pools', pools);
  }
  if (options['fallback-pool'] !== undefined) {
    if (options['fallback-pool'].trim() === '') throw new UsageError('--fallback-pool must name a pool', usage);
    set('fallback-pool', 'fallback_pool', options['fallback-pool'].trim());
  }
  return Object.keys(overrides).length === 0 ? undefined : overrides;
}

/**
 * The load balancer (as GET answered it) with `rule` added after its other rules.
 * @param {Document} lb
 * @param {Record<string, unknown>} rule
 * @returns {Document}
 */
export function withRuleAdded(lb, rule) {
  /** @type {Document[]} */
  const rules = Array.isArray(lb.rules) ? lb.rules : [];
  const name = String(rule.name);
  if (rules.some((r) => r?.name === name)) {
    throw new RefusedError('already_exists', `load balancer ${lb.id} already has a rule "${name}"; remove it first (lbctl rule rm ${shellWord(lb.id)} ${shellWord(name)})`);
  }
  return { ...lb, rules: [...rules, rule] };
}

/**
 * The load balancer (as GET answered it) without its rule named `name`; without
 * `rules` at all when that was the last one, as a configuration without rules reads.
 * @param {Document} lb
 * @param {string} name
 * @returns {Document}
 */
export function withRuleRemoved(lb, name) {
  /** @type {Document[]} */
  const rules = Array.isArray(lb.rules) ? lb.rules : [];
  const named = rules.filter((r) => r?.name === name).length;
  if (named === 0) {
    const names = rules.map((r) => `"${r?.name}"`);
    throw new RefusedError('not_found', `load balancer ${lb.id} has no rule "${name}"${names.length === 0 ? ' (it has no rules)' : `; its rules: ${names.join(', ')}`}`);
  }
  if (named > 1) {
    // Names are not unique in a configuration; which one is meant cannot be guessed.
    throw new RefusedError('ambiguous', `load balancer ${lb.id} has ${named} rules named "${name}"; edit them in the configuration (lbctl config get, lbctl config put)`);
  }
  const { rules: _rules, ...rest } = lb;
  const kept = rules.filter((r) => r?.name !== name);
  return kept.length === 0 ? rest : { ...lb, rules: kept };
}

/**
 * `rule test`'s request as explain's query (src/admin/explain.ts): host, path, method,
 * `header` repeated as "name: value", and the client's facts.
 * @param {Record<string, string>} args host, path
 * @param {Record<string, any>} options
 * @param {string} usage
 * @returns {Record<string, string | string[]>}
 */
export function ruleTestQuery(args, options, usage) {
  /** @type {Record<string, string | string[]>} */
  const query = { host: args.host, path: args.path.startsWith('/') ? args.path : `/${args.path}` };
  if (options.method !== undefined) query.method = options.method.toUpperCase();
  if (options.header !== undefined) {
    /** @type {string[]} */
    const headers = options.header;
    for (const header of headers) {
      const colon = header.indexOf(':');
      if (colon <= 0 || header.slice(0, colon).trim() === '') throw new UsageError(`--header takes name:value, got "${header}"`, usage);
    }
    query.header = headers;
  }
  for (const name of ['country', 'colo']) if (options[name] !== undefined) query[name] = options[name].toUpperCase();
  for (const name of ['ip', 'cookie']) if (options[name] !== undefined) query[name] = options[name];
  return query;
}
