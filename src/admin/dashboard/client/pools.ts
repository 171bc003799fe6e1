import { NO_POOL } from '../../../geo/world-map';
import { type AdminApi, handled } from './api';
import { colorOf, type PoolColors } from './colors';
import { el, setText, showError, swatch } from './dom';
import type { ConfigDocument, HealthDocument, Origin, OriginHealth, OriginTraffic, Pool, PoolHealth, RegionVerdict, StatsDocument } from './types';

// Pools and origins: per pool its health (`healthy x/y`), its origin policy (with a
// hash pool's key), its load shedding when it sheds and, probed from check regions,
// the regions whose clients it fails; per origin its weight, state, health and
// reason with each check region's verdict, requests and latency, with drain, enable
// and weight buttons that PATCH the origin. Rows are kept and updated in place across
// polls, so focus, a half-typed weight and a screen reader's place survive the refresh.

interface PoolNode {
  section: HTMLElement;
  color: HTMLSpanElement;
  name: HTMLSpanElement;
  badge: HTMLSpanElement;
  note: HTMLSpanElement;
  tbody: HTMLTableSectionElement;
  rows: Map<string, OriginRow>;
}

interface OriginRow {
  tr: HTMLTableRowElement;
  cells: Record<'name' | 'address' | 'weight' | 'state' | 'health' | 'requests' | 'p50' | 'p95' | 'actions', HTMLTableCellElement>;
  healthWord: HTMLSpanElement;
  reason: HTMLSpanElement;
  regions: HTMLSpanElement;
  drain: HTMLButtonElement;
  enable: HTMLButtonElement;
  input: HTMLInputElement;
  set: HTMLButtonElement;
  error: HTMLDivElement;
  origin: Origin | null;
}

const COLUMNS: [string, string?][] = [['Origin'], ['Address'], ['Weight', 'num'], ['State'], ['Health'], ['Requests', 'num'], ['p50', 'num'], ['p95', 'num'], ['Actions']];

const key = (pool: string, origin: string) => `${pool}\u0000${origin}`;

function originState(origin: Origin): string {
  const flags: string[] = [];
  if (origin.enabled === false) flags.push('disabled');
  if (origin.drain === true) flags.push('drain');
  if (origin.backup === true) flags.push('backup');
  return flags.length ? flags.join('+') : 'active';
}

function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  return `${value < 10 ? value.toFixed(1) : String(Math.round(value))} ms`;
}

const weightOf = (origin: Origin) => String(origin.weight === undefined ? 1 : origin.weight);

/** The origin policy, with the key a hash pool hashes, and the load shedding when the pool sheds. */
function steeringNotes(pool: Pool): string[] {
  const notes: string[] = [];
  const policy = pool.origin_steering?.policy;
  if (policy === 'hash') notes.push(`hash by ${pool.origin_steering?.hash_key || 'ip'}`);
  else if (policy) notes.push(policy.replace(/_/g, ' '));
  const shedding = pool.load_shedding;
  if (shedding && (shedding.default_percent ?? 0) > 0) notes.push(`sheds ${shedding.default_percent}% (${shedding.default_policy || 'random'})`);
  if (shedding && (shedding.session_percent ?? 0) > 0) notes.push(`sheds ${shedding.session_percent}% of sessions (${shedding.session_policy || 'hash'})`);
  return notes;
}

export class PoolsPanel {
  readonly #container: HTMLElement;
  readonly #api: AdminApi;
  readonly #refreshNow: () => void;
  readonly #nodes = new Map<string, PoolNode>();
  #colors: PoolColors = new Map();

  constructor(container: HTMLElement, api: AdminApi, refreshNow: () => void) {
    this.#container = container;
    this.#api = api;
    this.#refreshNow = refreshNow;
  }

  render(configDoc: ConfigDocument, health: HealthDocument, stats: StatsDocument, colors: PoolColors): void {
    const pools = configDoc.config?.pools ?? [];
    this.#colors = colors;
    const poolHealth = new Map((health.pools ?? []).map((p) => [p.id, p]));
    const originHealth = new Map((health.origins ?? []).map((o) => [key(o.pool, o.origin), o]));
    const traffic = new Map((stats.origins ?? []).map((o) => [key(o.pool, o.origin), o]));
    const container = this.#container;

    if (pools.length === 0) {
      this.#nodes.clear();
      container.textContent = '';
      container.appendChild(el('p', { class: 'hint' }, 'No pools configured: PUT /__lb/api/config or lbctl config put.'));
      return;
    }
    const seen = new Set<string>();
    pools.forEach((pool, index) => {
      seen.add(pool.id);
      const node = this.#nodes.get(pool.id) ?? this.#createPool(pool.id);
      if (container.children[index] !== node.section) container.insertBefore(node.section, container.children[index] ?? null);
      this.#updatePool(node, pool, poolHealth.get(pool.id), originHealth, traffic);
    });
    for (const [id, node] of this.#nodes) {
      if (!seen.has(id)) {
        node.section.remove();
        this.#nodes.delete(id);
      }
    }
    // The "Loading…" or "No pools" line goes once there are pools.
    for (const child of Array.from(container.children)) if (!child.classList.contains('pool')) child.remove();
  }

  #createPool(id: string): PoolNode {
    const section = el('section', { class: 'pool', 'data-testid': `pool-${id}`, 'aria-label': `pool ${id}` });
    const head = el('div', { class: 'pool-head' });
    const color = swatch(NO_POOL);
    const name = el('span', { class: 'name' });
    const badge = el('span', { class: 'badge', 'data-testid': 'pool-health' });
    const note = el('span', { class: 'hint', 'data-testid': 'pool-note' });
    head.append(color, el('h3', null, id), name, badge, note);
    const header = el('tr');
    for (const [title, cls] of COLUMNS) header.appendChild(el('th', cls ? { scope: 'col', class: cls } : { scope: 'col' }, title));
    const thead = el('thead');
    thead.appendChild(header);
    const tbody = el('tbody');
    const table = el('table');
    table.append(el('caption', { class: 'sr-only' }, `Origins of pool ${id}`), thead, tbody);
    const wrap = el('div', { class: 'table-wrap' });
    wrap.appendChild(table);
    section.append(head, wrap);
    const node: PoolNode = { section, color, name, badge, note, tbody, rows: new Map() };
    this.#nodes.set(id, node);
    return node;
  }

  #updatePool(node: PoolNode, pool: Pool, health: PoolHealth | undefined, originHealth: Map<string, OriginHealth>, traffic: Map<string, OriginTraffic>): void {
    node.color.style.background = colorOf(this.#colors, pool.id);
    setText(node.name, pool.name || '');
    const total = pool.origins.length;
    const healthy = health ? health.healthy_origins : 0;
    setText(node.badge, `healthy ${healthy}/${total}`);
    node.badge.className = `badge ${health?.healthy ? 'ok' : 'bad'}`;
    node.badge.title = health?.healthy ? 'pool healthy' : `pool unhealthy: fewer than ${health ? health.minimum_origins : '?'} healthy origins`;
    const notes: string[] = [];
    if (pool.enabled === false) notes.push('pool disabled');
    if (health) notes.push(`needs ${health.minimum_origins}`);
    notes.push(...steeringNotes(pool));
    const regions = health?.regions ?? [];
    if (regions.length > 0) notes.push(`checked from ${regions.map((r) => r.region).join(', ')}`);
    const failing = regions.filter((r) => !r.healthy);
    if (failing.length > 0) notes.push(`unhealthy for clients in ${failing.map((r) => r.region).join(', ')}`);
    setText(node.note, notes.join(' · '));

    const seen = new Set<string>();
    pool.origins.forEach((origin, index) => {
      seen.add(origin.name);
      const row = node.rows.get(origin.name) ?? this.#createRow(node, pool.id, origin.name);
      if (node.tbody.children[index] !== row.tr) node.tbody.insertBefore(row.tr, node.tbody.children[index] ?? null);
      updateRow(row, origin, originHealth.get(key(pool.id, origin.name)), traffic.get(key(pool.id, origin.name)));
    });
    for (const [name, row] of node.rows) {
      if (!seen.has(name)) {
        row.tr.remove();
        node.rows.delete(name);
      }
    }
  }

  #createRow(node: PoolNode, poolId: string, name: string): OriginRow {
    const tr = el('tr', { 'data-testid': `origin-${poolId}-${name}` });
    const cells: OriginRow['cells'] = {
      name: el('th', { scope: 'row', 'data-testid': 'origin-name' }, name),
      address: el('td', { class: 'address', 'data-testid': 'address' }),
      weight: el('td', { class: 'num', 'data-testid': 'weight' }),
      state: el('td', { 'data-testid': 'state' }),
      health: el('td', { 'data-testid': 'health' }),
      requests: el('td', { class: 'num', 'data-testid': 'requests' }),
      p50: el('td', { class: 'num', 'data-testid': 'p50' }),
      p95: el('td', { class: 'num', 'data-testid': 'p95' }),
      actions: el('td'),
    };
    const healthWord = el('span');
    const reason = el('span', { class: 'reason', 'data-testid': 'health-reason' });
    const regions = el('span', { class: 'regions', 'data-testid': 'health-regions' });
    cells.health.append(healthWord, reason, regions);

    const drain = el('button', { type: 'button', 'data-testid': 'drain' });
    const enable = el('button', { type: 'button', 'data-testid': 'enable' });
    const form = el('form', { novalidate: '', 'data-testid': 'weight-form' });
    const inputId = `weight-${poolId}-${name}`;
    const label = el('label', { class: 'sr-only', for: inputId }, `New weight of ${name} in pool ${poolId}`);
    const input = el('input', { id: inputId, type: 'number', min: '0', step: 'any', inputmode: 'decimal', 'data-testid': 'weight-input' });
    const set = el('button', { type: 'submit', 'data-testid': 'weight-set', 'aria-label': `Set the weight of ${name}` }, 'Set weight');
    form.append(label, input, set);
    const box = el('div', { class: 'actions' });
    box.append(drain, enable, form);
    const error = el('div', { class: 'error', role: 'alert', 'data-testid': 'origin-error' });
    cells.actions.append(box, error);
    for (const cell of Object.values(cells)) tr.appendChild(cell);

    const row: OriginRow = { tr, cells, healthWord, reason, regions, drain, enable, input, set, error, origin: null };
    const patch = (body: Record<string, unknown>) => this.#patchOrigin(row, poolId, name, body);
    drain.addEventListener('click', () => void patch({ drain: !row.origin?.drain }));
    enable.addEventListener('click', () => void patch({ enabled: !(row.origin && row.origin.enabled !== false) }));
    input.addEventListener('input', () => (input.dataset.dirty = 'true'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const raw = input.value.trim();
      if (raw === '') {
        showError(error, { message: 'enter a weight (0 takes the origin out of rotation)' });
        return;
      }
      void patch({ weight: Number(raw) }).then((ok) => {
        if (ok) delete input.dataset.dirty;
      });
    });
    node.rows.set(name, row);
    return row;
  }

  async #patchOrigin(row: OriginRow, poolId: string, name: string, body: Record<string, unknown>): Promise<boolean> {
    const buttons = [row.drain, row.enable, row.set];
    for (const b of buttons) b.disabled = true;
    try {
      await this.#api.call('PATCH', `/pools/${encodeURIComponent(poolId)}/origins/${encodeURIComponent(name)}`, body);
      showError(row.error, null);
      this.#refreshNow();
      return true;
    } catch (err) {
      if (!handled(err)) showError(row.error, err);
      return false;
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  }
}

function updateRow(row: OriginRow, origin: Origin, health: OriginHealth | undefined, traffic: OriginTraffic | undefined): void {
  row.origin = origin;
  const c = row.cells;
  setText(c.address, origin.address);
  setText(c.weight, weightOf(origin));
  const state = originState(origin);
  setText(c.state, state);
  c.state.className = state === 'active' ? '' : `state-${state.split('+')[0]}`;
  const word = health ? health.state : 'unknown';
  setText(row.healthWord, word);
  row.healthWord.className = `health-${word}`;
  let reason = health?.reason ? health.reason : '';
  if (health && health.rtt_ms !== null && health.rtt_ms !== undefined && !reason) reason = `rtt ${ms(health.rtt_ms)}`;
  setText(row.reason, reason);
  updateRegions(row.regions, health?.regions ?? []);
  setText(c.requests, traffic ? traffic.requests.toLocaleString('en-US') : '0');
  setText(c.p50, ms(traffic?.latency_ms ? traffic.latency_ms.p50 : null));
  setText(c.p95, ms(traffic?.latency_ms ? traffic.latency_ms.p95 : null));
  const draining = origin.drain === true;
  const enabled = origin.enabled !== false;
  setText(row.drain, draining ? 'Undrain' : 'Drain');
  row.drain.setAttribute('aria-label', `${draining ? 'Undrain ' : 'Drain '}${origin.name}`);
  setText(row.enable, enabled ? 'Disable' : 'Enable');
  row.enable.setAttribute('aria-label', `${enabled ? 'Disable ' : 'Enable '}${origin.name}`);
  if (document.activeElement !== row.input && !row.input.dataset.dirty) row.input.value = weightOf(origin);
}

/**
 * Each check region's verdict, in its colour ("WEU healthy · SEAS unhealthy"), the
 * reason and round trip in its title; redrawn only when one of them changes.
 */
function updateRegions(node: HTMLSpanElement, regions: readonly RegionVerdict[]): void {
  const word = (r: RegionVerdict) => (r.healthy === false && r.state !== 'unhealthy' ? `${r.state}, skipped by majority` : r.state);
  const key = regions.map((r) => `${r.region} ${word(r)} ${r.reason ?? ''} ${r.rtt_ms ?? ''}`).join('|');
  if (node.dataset.key === key) return;
  node.dataset.key = key;
  node.textContent = '';
  regions.forEach((r, i) => {
    if (i > 0) node.appendChild(document.createTextNode(' · '));
    const title = [r.reason, r.rtt_ms === null || r.rtt_ms === undefined ? '' : `rtt ${ms(r.rtt_ms)}`].filter(Boolean).join(', ');
    const attrs: Record<string, string> = { class: `health-${r.state}`, 'data-region': r.region };
    if (title) attrs.title = title;
    node.appendChild(el('span', attrs, `${r.region} ${word(r)}`));
  });
}
