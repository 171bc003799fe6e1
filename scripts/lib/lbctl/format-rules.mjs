// A load balancer's rules in plain text (SPEC §9): `lbctl rule list`, and `lbctl rule
// test`'s account of which rules matched and what was decided. Pure, like format.mjs.
import { NO_PAINT, table } from './format.mjs';

/** @typedef {import('./format.mjs').Document} Document */

/** The longest action shown in a row; `lbctl rule list --json` or `config get` has the rest. */
const MAX_ACTION = 72;

/**
 * Operator text on one line of a terminal: line breaks and tabs as spaces, other
 * control characters (an escape sequence in a condition) as "?".
 * @param {unknown} value
 */
export function oneLine(value) {
  return String(value)
    .replace(/ *[\r\n\t]\s*/g, ' ')
    .replace(/[\x00-\x1f\x7f-\x9f]/g, '?');
}

/**
 * Rules in the order they are tried: by priority, then as listed (a stable sort).
 * @param {Document[]} rules
 */
export function rulesInOrder(rules) {
  return [...rules].sort((a, b) => (a?.priority ?? 0) - (b?.priority ?? 0));
}

/**
 * An override's value, short: lists joined by ",", objects as {key:value ...}.
 * @param {unknown} value
 * @returns {string}
 */
function shortValue(value) {
  if (typeof value === 'string') return value === '' ? '""' : value;
  if (Array.isArray(value)) return value.map(shortValue).join(',');
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([key, inner]) => `${key}:${shortValue(inner)}`).join(' ')}}`;
  }
  return String(value);
}

/**
 * What a matching rule does, short: "fixed 503", "fixed 302 -> https://…", the
 * overridden fields ("default_pools=api fallback_pool=api"), or undefined for nothing.
 * Any override field is shown, also one this lbctl does not know.
 * @param {Document} rule
 * @returns {string | undefined}
 */
export function ruleAction(rule) {
  const fixed = rule?.fixed_response;
  // A fixed response answers at once: the rule's overrides, if any, never apply.
  if (fixed !== null && typeof fixed === 'object') return `fixed ${fixed.status_code ?? 200}${fixed.location ? ` -> ${fixed.location}` : ''}`;
  const overrides = rule?.overrides !== null && typeof rule?.overrides === 'object' ? Object.entries(rule.overrides) : [];
  const fields = overrides.filter(([, value]) => value !== undefined).map(([field, value]) => `${field}=${shortValue(value)}`);
  return fields.length === 0 ? undefined : fields.join(' ');
}

/** @param {string} text @param {number} max */
function shorten(text, max) {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

/**
 * `lbctl rule list`: one row per rule in the order they are tried.
 * @param {Document} lb the load balancer, as GET /load_balancers/:id answers it
 */
export function formatRules(lb, paint = NO_PAINT) {
  /** @type {Document[]} */
  const rules = Array.isArray(lb?.rules) ? lb.rules : [];
  if (rules.length === 0) return `load balancer ${oneLine(lb?.id)} has no rules\n`;
  return table(
    [
      { title: 'PRIORITY', align: 'right' },
      { title: 'NAME' },
      { title: 'STATE', style: (value) => (value === 'disabled' ? paint.yellow(value) : value) },
      { title: 'TERMINATES' },
      { title: 'ACTION' },
      { title: 'CONDITION' },
    ],
    rulesInOrder(rules).map((rule) => {
      const action = ruleAction(rule);
      return [
        rule.priority ?? 0,
        oneLine(rule.name),
        rule.disabled === true ? 'disabled' : 'enabled',
        rule.terminates === true ? 'yes' : 'no',
        action === undefined ? undefined : shorten(oneLine(action), MAX_ACTION),
        oneLine(rule.condition ?? ''),
      ];
    }),
  );
}

/**
 * `lbctl rule test`: the load balancer, each rule tried and whether it matched (the
 * trace's own lines), the rules that matched, and what happens to the request.
 * @param {Document} explain GET /explain's answer
 */
export function formatRuleTest(explain) {
  const lines = [];
  const lb = explain.load_balancer;
  const request = explain.request;
  const head = lb ? `load balancer ${lb.id} (hostname ${lb.hostname})` : 'no load balancer';
  lines.push(request ? `${request.method} ${request.url}: ${head}` : head);

  /** @type {string[]} */
  const tried = (explain.trace ?? []).filter((/** @type {unknown} */ line) => typeof line === 'string' && line.startsWith('rule '));
  if (tried.length === 0) lines.push('no rules tried');
  else lines.push(...tried.map((line) => `  ${oneLine(line)}`));
  /** @type {string[] | undefined} */
  const matched = explain.rules;
  if (matched !== undefined) lines.push(`matched: ${matched.length === 0 ? 'none' : matched.map(oneLine).join(', ')}`);

  if (explain.fixed_response) {
    lines.push(`decision: fixed response ${explain.fixed_response.status_code}; no origin asked`);
    return lines.join('\n') + '\n';
  }
  // Rate limits (SPEC §9, an extension) count the request before it goes on; explain itself counts nothing.
  /** @type {Document[]} */
  const limits = explain.rate_limits ?? [];
  for (const limit of limits) lines.push(`rate limit: counted with ${limit.binding} by ${limit.key}${limit.period ? ` per ${limit.period} s` : ''}; over the limit 429`);
  /** @type {Document[]} */
  const pools = explain.pools ?? [];
  if (pools.length > 0) lines.push(`pools: ${pools.map((p) => `${p.id} ${p.verdict}`).join(', ')}${explain.fallback_used ? ' (fallback pool used)' : ''}`);
  /** @type {Document[]} */
  const candidates = explain.candidates ?? [];
  const [first, ...rest] = candidates;
  const redirect = explain.redirect;
  if (redirect) {
    // Redirect steering: the client is sent to the chosen origin itself, nothing is proxied.
    const to = redirect.location ? `to ${redirect.location}` : 'but no origin has a public_url';
    lines.push(`decision: redirect ${redirect.status_code} ${to}${first ? ` (origin ${first.pool}/${first.origin})` : ''}`);
  } else if (first === undefined) {
    lines.push('decision: no usable origin (503 no_healthy_origin)');
  } else {
    lines.push(`decision: pool ${first.pool}, origin ${first.origin} (${first.address})`);
    if (rest.length > 0) lines.push(`  then ${rest.map((c) => `${c.pool}/${c.origin}`).join(', ')}`);
  }
  return lines.join('\n') + '\n';
}
