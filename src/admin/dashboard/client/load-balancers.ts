import { el } from './dom';
import type { LoadBalancer, Rule } from './types';

// Load balancers and their rules (SPEC §9): per load balancer its hostname, pools and
// steering, then its rules in the order they are tried (priority, then as listed):
// name, condition, terminates, and what a match does, a fixed response or the fields
// it overrides in short; a disabled rule greyed and marked. Conditions are operator
// text: written as text only, like everything here. Redrawn only when the load
// balancers change, so a screen reader's place survives the polling.

/** The longest override summary shown; the configuration (GET /config) has the rest. */
const MAX_ACTION = 160;

const COLUMNS: [string, string?][] = [['Priority', 'num'], ['Rule'], ['Condition'], ['Terminates'], ['Does']];

/** Rules in the order they are tried: by priority, then as listed (a stable sort). */
export function rulesInOrder(rules: readonly Rule[]): Rule[] {
  return [...rules].sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0));
}

/** An override's value in short: lists joined by ", ", objects as {key: value, …}. */
function shortValue(value: unknown): string {
  if (typeof value === 'string') return value === '' ? '""' : value;
  if (Array.isArray(value)) return value.map(shortValue).join(', ');
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([key, inner]) => `${key}: ${shortValue(inner)}`)
      .join(', ')}}`;
  }
  return String(value);
}

/**
 * What a matching rule does: "fixed response 503", with its Location when it has one,
 * or each overridden field (any field, also one this page does not know), or "".
 */
export function ruleAction(rule: Rule): string {
  const fixed = rule.fixed_response;
  // A fixed response answers at once: the rule's overrides, if any, never apply.
  if (fixed !== null && typeof fixed === 'object') return `fixed response ${fixed.status_code ?? 200}${fixed.location ? ` → ${fixed.location}` : ''}`;
  const overrides = rule.overrides !== null && typeof rule.overrides === 'object' ? Object.entries(rule.overrides) : [];
  const text = overrides
    .filter(([, value]) => value !== undefined)
    .map(([field, value]) => `${field}: ${shortValue(value)}`)
    .join(' · ');
  return text.length <= MAX_ACTION ? text : `${text.slice(0, MAX_ACTION - 1)}…`;
}

/** A load balancer's own steering, in short: its pools in order, fallback, policy, affinity. */
function steeringNote(lb: LoadBalancer): string {
  const notes: string[] = [];
  if (lb.enabled === false) notes.push('disabled');
  if (Array.isArray(lb.default_pools) && lb.default_pools.length) notes.push(`pools ${lb.default_pools.join(' → ')}`);
  if (lb.fallback_pool) notes.push(`fallback ${lb.fallback_pool}`);
  if (lb.steering_policy) notes.push(`steering ${lb.steering_policy.replace(/_/g, ' ')}`);
  if (lb.session_affinity && lb.session_affinity !== 'none') notes.push(`affinity ${lb.session_affinity.replace(/_/g, ' ')}`);
  return notes.join(' · ');
}

export class LoadBalancersPanel {
  readonly #container: HTMLElement;
  #key = '';

  constructor(container: HTMLElement) {
    this.#container = container;
  }

  render(loadBalancers: LoadBalancer[]): void {
    const next = JSON.stringify(loadBalancers);
    if (next === this.#key) return;
    this.#key = next;
    const container = this.#container;
    container.textContent = '';
    if (loadBalancers.length === 0) {
      container.appendChild(el('p', { class: 'hint' }, 'No load balancers configured.'));
      return;
    }
    for (const lb of loadBalancers) container.appendChild(loadBalancerSection(lb));
  }
}

function loadBalancerSection(lb: LoadBalancer): HTMLElement {
  const section = el('section', { class: 'lb', 'data-testid': `lb-${lb.id}`, 'aria-label': `load balancer ${lb.id}` });
  const head = el('div', { class: 'pool-head' });
  head.append(el('h3', null, lb.hostname), el('span', { class: 'name' }, lb.id), el('span', { class: 'hint', 'data-testid': 'lb-note' }, steeringNote(lb)));
  section.appendChild(head);

  const rules = Array.isArray(lb.rules) ? lb.rules.filter((r): r is Rule => r !== null && typeof r === 'object') : [];
  if (rules.length === 0) {
    section.appendChild(el('p', { class: 'hint', 'data-testid': 'no-rules' }, "No rules: every request is steered by the load balancer's own settings."));
    return section;
  }
  const header = el('tr');
  for (const [title, cls] of COLUMNS) header.appendChild(el('th', cls ? { scope: 'col', class: cls } : { scope: 'col' }, title));
  const thead = el('thead');
  thead.appendChild(header);
  const tbody = el('tbody');
  for (const rule of rulesInOrder(rules)) tbody.appendChild(ruleRow(rule));
  const table = el('table', { class: 'rules', 'data-testid': 'rules' });
  table.append(el('caption', { class: 'sr-only' }, `Rules of load balancer ${lb.id}, in the order they are tried`), thead, tbody);
  const wrap = el('div', { class: 'table-wrap' });
  wrap.appendChild(table);
  section.appendChild(wrap);
  return section;
}

function ruleRow(rule: Rule): HTMLTableRowElement {
  const disabled = rule.disabled === true;
  const tr = el('tr', { 'data-testid': 'rule', 'data-rule': String(rule.name) });
  if (disabled) tr.className = 'rule-disabled';
  const name = el('th', { scope: 'row', 'data-testid': 'rule-name' });
  name.appendChild(el('span', null, String(rule.name)));
  // Said in words as well as greyed, so it does not rest on colour alone.
  if (disabled) name.appendChild(el('span', { class: 'reason', 'data-testid': 'rule-disabled' }, 'disabled'));
  const condition = el('td', { 'data-testid': 'rule-condition' });
  condition.appendChild(el('code', { class: 'condition' }, String(rule.condition ?? '')));
  const action = ruleAction(rule);
  tr.append(
    el('td', { class: 'num', 'data-testid': 'rule-priority' }, String(rule.priority ?? 0)),
    name,
    condition,
    el('td', { 'data-testid': 'rule-terminates' }, rule.terminates === true ? 'terminates' : ''),
    el('td', { 'data-testid': 'rule-action' }, action || '–'),
  );
  return tr;
}
