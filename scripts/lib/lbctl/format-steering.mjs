// What steering would do, in plain text: `lbctl explain` (the trace and the
// candidates) and the impact of `lbctl config put --dry-run` on the sample clients.
import { NO_PAINT, originState, plural, tableLines } from './format.mjs';

/** @typedef {import('./format.mjs').Document} Document */

/**
 * `lbctl explain`: the trace, then the candidates in order.
 * @param {Document} explain
 */
export function formatExplain(explain) {
  /** @type {string[]} */
  const lines = [];
  const trace = explain.trace ?? [];
  const lb = explain.load_balancer;
  // The trace names the load balancer itself; say it only when there is no trace.
  if (trace.length === 0 && lb) lines.push(`load balancer ${lb.id} (hostname ${lb.hostname})`);
  lines.push(...trace);
  const candidates = explain.candidates ?? [];
  if (explain.fixed_response) {
    // A rule answers the request itself (the trace names it): there are no candidates to list.
    lines.push(`answered by a rule: fixed response ${explain.fixed_response.status_code}`);
  } else if (candidates.length === 0) {
    lines.push('no candidates');
  } else {
    lines.push('candidates:');
    const rows = tableLines(
      [{ title: '#', align: 'right' }, { title: 'POOL/ORIGIN' }, { title: 'ADDRESS' }, { title: 'STATE' }],
      candidates.map((/** @type {Document} */ c, /** @type {number} */ i) => [i + 1, `${c.pool}/${c.origin}`, c.address, originState(c)]),
      { indent: '  ', header: false },
    );
    lines.push(...rows);
  }
  const affinity = formatAffinity(explain.affinity);
  if (affinity) lines.push(`affinity: ${affinity}`);
  return lines.join('\n') + '\n';
}

/**
 * A value in a diff line: JSON, shortened.
 * @param {unknown} value
 */
function shortJson(value) {
  const text = JSON.stringify(value) ?? 'null';
  return text.length <= 60 ? text : `${text.slice(0, 57)}...`;
}

/**
 * People, as "1.2 M" or "3.4 bn".
 * @param {number} n
 */
function people(n) {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} bn`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  return String(n);
}

/** @param {{ pool: string, origin: string } | null} p */
const placement = (p) => (p ? `${p.pool}/${p.origin}` : 'nobody');

/**
 * `lbctl config put --dry-run`: what would change, then where the sample clients'
 * new requests would go and how many pinned sessions would leave their origin.
 * @param {Document} dry
 */
export function formatDryRun(dry, paint = NO_PAINT) {
  const lines = [`dry run against version ${dry.version}: nothing stored`];
  const diff = dry.diff ?? { added: [], removed: [], changed: [] };
  if (diff.added.length + diff.removed.length + diff.changed.length === 0) lines.push('no resource changes');
  for (const label of diff.added) lines.push(`  ${paint.green('+')} ${label}`);
  for (const label of diff.removed) lines.push(`  ${paint.red('-')} ${label}`);
  for (const change of diff.changed) {
    lines.push(`  ${paint.yellow('~')} ${change.resource}: ${change.fields.map((/** @type {Document} */ f) => `${f.field} ${shortJson(f.before)} -> ${shortJson(f.after)}`).join(', ')}`);
  }
  const impact = dry.impact;
  if (impact) {
    lines.push(`impact on ${impact.sample.clients} sample clients (${people(impact.sample.population)} people):`);
    for (const lb of impact.load_balancers) {
      const name = `load balancer ${lb.id} (${lb.hostname})`;
      if (lb.change === 'unchanged' || (lb.moved.clients === 0 && (lb.sessions?.leaving ?? 0) === 0)) {
        lines.push(`  ${name}: ${lb.change === 'unchanged' ? 'unchanged' : 'nobody moves'}`);
        continue;
      }
      lines.push(`  ${name}${lb.change === 'changed' ? '' : ` ${lb.change}`}: ${plural(lb.moved.clients, 'client')} move (${people(lb.moved.population)} people)`);
      const rows = lb.moves.map((/** @type {Document} */ m) => [`${m.client}${m.colo ? ` (${m.colo})` : ''}`, placement(m.before), '->', placement(m.after)]);
      lines.push(...tableLines([{ title: 'CLIENT' }, { title: 'BEFORE' }, { title: '' }, { title: 'AFTER' }], rows, { indent: '    ', header: false }));
      if (lb.moved.clients > lb.moves.length) lines.push(`    and ${lb.moved.clients - lb.moves.length} more`);
      if (lb.sessions) {
        const by = Object.entries(lb.sessions.by_origin).map(([origin, n]) => `${origin} ${n}`);
        lines.push(`    pinned sessions: ${lb.sessions.leaving} of ${lb.sessions.pinned} would leave their origin${by.length > 0 ? ` (${by.join(', ')})` : ''}`);
      }
    }
    const omitted = impact.omitted ?? { changed: 0, unchanged: 0 };
    if (omitted.changed + omitted.unchanged > 0) {
      lines.push(`  and ${plural(omitted.changed + omitted.unchanged, 'more load balancer')} not steered (${omitted.changed} of them changed)`);
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * "cookie" as it is; { mode, outcome, pin } as "mode cookie, outcome new, pin all/backend1".
 * @param {unknown} affinity
 */
function formatAffinity(affinity) {
  if (affinity === null || affinity === undefined || affinity === '') return undefined;
  if (typeof affinity !== 'object') return String(affinity);
  return Object.entries(affinity)
    .filter(([, value]) => value !== null && value !== undefined && value !== '')
    .map(([name, value]) => {
      if (typeof value !== 'object') return `${name} ${value}`;
      if ('pool' in value && 'origin' in value) return `${name} ${value.pool}/${value.origin}`;
      return `${name} ${JSON.stringify(value)}`;
    })
    .join(', ');
}
