import { MAP_COLORS, MAP_HEIGHT, MAP_WIDTH, NO_POOL, worldMap } from '../../../geo/world-map';
import { type AdminApi, handled } from './api';
import { colorOf, type PoolColors } from './colors';
import { el, setText, showError, svg } from './dom';
import type { PageElements } from './page';
import { PopPanel, popLabel } from './pop-panel';
import type { Pool, Pop, PopsDocument, Stale } from './types';

// The world map (src/geo/world-map.ts: the land, its projection and palette, shared
// with the simulator's report) with every PoP coloured by the pool its clients are
// steered to for the load balancer host picked above it (GET /pops?host=), withdrawn
// PoPs hollow and crossed, pool locations as diamonds; its legend; and the PoP panel
// beside it (pop-panel.ts).

/** A host no load balancer but "*" can match, to ask where "*" steers. */
const PLACEHOLDER_HOST = 'dashboard.invalid';

// Sizes in map units (the frame is MAP_WIDTH wide, about 3 units a degree).
const DOT_RADIUS = 4.5;
const CROSS = 3;
const SITE = 6;
/** A click picks the PoP whose centre is nearest, within this distance (about 3°). */
const PICK_RADIUS = 9;

interface PopNode {
  g: SVGGElement;
  dot: SVGCircleElement;
  cross: SVGPathElement;
  title: SVGTitleElement;
}

type LegendIcon = 'pop' | 'withdrawn' | 'site';

/** The host to ask GET /pops about for a load balancer's hostname pattern. */
function hostOf(hostname: string): string {
  if (hostname === '*') return PLACEHOLDER_HOST;
  if (hostname.startsWith('*.')) return `dashboard.${hostname.slice(2)}`;
  return hostname;
}

function legendIcon(kind: LegendIcon, color = NO_POOL): SVGSVGElement {
  const icon = svg('svg', { width: '14', height: '14', viewBox: '-4 -4 8 8', 'aria-hidden': 'true' });
  if (kind === 'site') {
    icon.appendChild(svg('rect', { x: '-2.4', y: '-2.4', width: '4.8', height: '4.8', fill: color, stroke: '#1d232b', 'stroke-width': '.6', transform: 'rotate(45)' }));
  } else if (kind === 'withdrawn') {
    icon.appendChild(svg('circle', { r: '2.6', fill: '#ffffff', stroke: '#55606e', 'stroke-width': '.8' }));
    icon.appendChild(svg('path', { d: 'M-1.6 -1.6L1.6 1.6M-1.6 1.6L1.6 -1.6', stroke: '#1d232b', 'stroke-width': '.7' }));
  } else {
    icon.appendChild(svg('circle', { r: '2.6', fill: color }));
  }
  return icon;
}

export class MapPanel {
  readonly #els: PageElements;
  readonly #api: AdminApi;
  readonly #world = worldMap();
  readonly #nodes = new Map<string, PopNode>();
  readonly #panel: PopPanel;
  #pops: Pop[] = [];
  #pools: Pool[] = [];
  #colors: PoolColors = new Map();
  #selected: string | null = null;
  #hostsKey = '';

  constructor(els: PageElements, api: AdminApi, refreshNow: () => void) {
    this.#els = els;
    this.#api = api;
    this.#panel = new PopPanel(els, api, (colo, withdrawn) => {
      const pop = this.#pops.find((p) => p.colo === colo);
      if (pop && withdrawn !== undefined) pop.withdrawn = withdrawn;
      this.#render();
      refreshNow();
    });
    this.#drawWorld();
    els.hostSelect.addEventListener('change', () => {
      this.#panel.forgetDetail();
      refreshNow();
    });
    els.map.addEventListener('click', (event) => this.#pick(event));
    els.popForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const colo = els.popInput.value.trim().toUpperCase();
      if (!this.#nodes.has(colo)) {
        showError(els.mapError, { message: `no PoP "${colo}": the map lists them` });
        return;
      }
      showError(els.mapError, null);
      this.#select(colo);
    });
  }

  /** Ocean, meridians and parallels, land: drawn once, under everything else. */
  #drawWorld(): void {
    const { map, mapLand } = this.#els;
    map.setAttribute('viewBox', `0 0 ${MAP_WIDTH} ${MAP_HEIGHT}`);
    mapLand.append(
      svg('path', { class: 'ocean', d: this.#world.sphere, fill: MAP_COLORS.ocean }),
      svg('path', { class: 'graticule', d: this.#world.graticule, fill: 'none', stroke: MAP_COLORS.graticule }),
      svg('path', { class: 'land', d: this.#world.land, fill: MAP_COLORS.land, stroke: MAP_COLORS.coast }),
    );
  }

  /** The host picker: one entry per load balancer, the choice kept while it exists. */
  renderHosts(pools: Pool[], loadBalancers: { id: string; hostname: string }[], colors: PoolColors): void {
    this.#pools = pools;
    this.#colors = colors;
    const hosts = loadBalancers.map((lb) => ({ value: hostOf(lb.hostname), label: `${lb.hostname} (${lb.id})` }));
    const next = JSON.stringify(hosts);
    if (next === this.#hostsKey) return;
    this.#hostsKey = next;
    const select = this.#els.hostSelect;
    const previous = select.value;
    select.textContent = '';
    for (const h of hosts) select.appendChild(el('option', { value: h.value }, h.label));
    if (hosts.length === 0) select.appendChild(el('option', { value: '' }, 'no load balancer'));
    if (hosts.some((h) => h.value === previous)) select.value = previous;
    select.disabled = hosts.length === 0;
  }

  /** Where the PoPs steer for the picked host; without a host, or if that fails, the PoPs alone. */
  async refresh(stale: Stale): Promise<void> {
    const els = this.#els;
    const host = els.hostSelect.value;
    let doc: PopsDocument | undefined;
    showError(els.mapError, null);
    if (host) {
      try {
        doc = await this.#api.call<PopsDocument>('GET', `/pops?host=${encodeURIComponent(host)}`);
        setText(els.mapNote, `PoP colour: the pool new clients there are steered to for ${host}.`);
      } catch (err) {
        if (handled(err)) throw err;
        showError(els.mapError, err);
      }
    }
    if (!doc) {
      doc = await this.#api.call<PopsDocument>('GET', '/pops');
      setText(els.mapNote, host ? '' : 'No load balancer: PoPs are shown without steering.');
    }
    if (stale()) return;
    this.#pops = doc.pops ?? [];
    this.#render();
  }

  #createPop(pop: Pop): PopNode {
    const g = svg('g', { class: 'pop', 'data-testid': `pop-${pop.colo}`, 'data-colo': pop.colo });
    const [cx, cy] = this.#world.project(pop.longitude, pop.latitude);
    const at = (dx: number, dy: number) => `${(cx + dx).toFixed(2)} ${(cy + dy).toFixed(2)}`;
    const dot = svg('circle', { class: 'dot', cx: String(cx), cy: String(cy), r: String(DOT_RADIUS) });
    const cross = svg('path', { class: 'cross', d: `M${at(-CROSS, -CROSS)}L${at(CROSS, CROSS)}M${at(-CROSS, CROSS)}L${at(CROSS, -CROSS)}` });
    const title = svg('title');
    g.append(dot, cross, title);
    const node = { g, dot, cross, title };
    this.#nodes.set(pop.colo, node);
    this.#els.mapPops.appendChild(g);
    this.#els.popCodes.appendChild(el('option', { value: pop.colo }, `${pop.city}, ${pop.country}`));
    return node;
  }

  #render(): void {
    const counts = new Map<string | null, number>();
    const withdrawn: Pop[] = [];
    for (const pop of this.#pops) {
      const node = this.#nodes.get(pop.colo) ?? this.#createPop(pop);
      const color = colorOf(this.#colors, pop.pool);
      node.dot.setAttribute('fill', pop.withdrawn ? '#ffffff' : color);
      node.dot.setAttribute('stroke', pop.withdrawn ? color : '#ffffff');
      node.cross.setAttribute('visibility', pop.withdrawn ? 'visible' : 'hidden');
      node.g.classList.toggle('withdrawn', pop.withdrawn);
      node.g.classList.toggle('selected', pop.colo === this.#selected);
      node.g.setAttribute('data-withdrawn', String(pop.withdrawn));
      node.g.setAttribute('data-pool', pop.pool ?? '');
      const steer = pop.pool === undefined ? '' : pop.pool === null ? ': no pool' : `: pool ${pop.pool}`;
      setText(node.title, popLabel(pop) + steer + (pop.withdrawn ? ' (withdrawn)' : ''));
      if (pop.withdrawn) withdrawn.push(pop);
      else counts.set(pop.pool ?? null, (counts.get(pop.pool ?? null) ?? 0) + 1);
    }
    // The selected PoP is drawn last, on top of its neighbours.
    const selected = this.#selected === null ? undefined : this.#nodes.get(this.#selected);
    if (selected && this.#els.mapPops.lastChild !== selected.g) this.#els.mapPops.appendChild(selected.g);
    this.#renderPoolSites();
    this.#renderLegend(counts, withdrawn.length);
    this.#panel.renderWithdrawn(withdrawn);
    this.#panel.renderDetail(this.#pops.find((p) => p.colo === this.#selected));
  }

  #renderPoolSites(): void {
    const sites = this.#els.mapPools;
    sites.textContent = '';
    for (const pool of this.#pools) {
      if (typeof pool.latitude !== 'number' || typeof pool.longitude !== 'number') continue;
      const [cx, cy] = this.#world.project(pool.longitude, pool.latitude);
      const site = svg('rect', {
        class: 'pool-site',
        x: String(cx - SITE),
        y: String(cy - SITE),
        width: String(2 * SITE),
        height: String(2 * SITE),
        fill: colorOf(this.#colors, pool.id),
        transform: `rotate(45 ${cx} ${cy})`,
        'aria-hidden': 'true',
      });
      const label = svg('text', { class: 'pool-label', x: String(cx + 1.5 * SITE), y: String(cy - 1.2 * SITE), 'aria-hidden': 'true' });
      label.textContent = pool.id;
      sites.append(site, label);
    }
  }

  #renderLegend(counts: Map<string | null, number>, withdrawnCount: number): void {
    const legend = this.#els.legend;
    legend.textContent = '';
    const item = (icon: SVGSVGElement, text: string, count?: number, testid?: string) => {
      const li = el('li', testid ? { 'data-testid': testid } : null);
      li.append(icon, document.createTextNode(` ${text} `));
      if (count !== undefined) li.appendChild(el('span', { class: 'count' }, `(${count} PoP${count === 1 ? '' : 's'})`));
      legend.appendChild(li);
    };
    for (const pool of this.#pools) {
      item(legendIcon('pop', colorOf(this.#colors, pool.id)), pool.id + (pool.name ? ` — ${pool.name}` : ''), counts.get(pool.id) ?? 0, `legend-${pool.id}`);
    }
    if (counts.has(null)) item(legendIcon('pop', NO_POOL), this.#els.hostSelect.value ? 'no pool' : 'not steered', counts.get(null), 'legend-none');
    item(legendIcon('withdrawn'), 'withdrawn', withdrawnCount, 'legend-withdrawn');
    if (this.#pools.some((p) => typeof p.latitude === 'number')) item(legendIcon('site', '#ffffff'), 'pool location');
  }

  #select(colo: string): void {
    const previous = this.#selected === null ? undefined : this.#nodes.get(this.#selected);
    if (previous) previous.g.classList.remove('selected');
    this.#selected = colo;
    this.#panel.forgetDetail();
    this.#render();
  }

  /** Where dots overlap (Europe), a click picks the PoP whose centre is nearest, not the one drawn on top. */
  #pick(event: MouseEvent): void {
    const matrix = this.#els.map.getScreenCTM();
    if (!matrix) return;
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    let best: Pop | null = null;
    let bestDistance = PICK_RADIUS * PICK_RADIUS;
    for (const pop of this.#pops) {
      const [x, y] = this.#world.project(pop.longitude, pop.latitude);
      const distance = (x - point.x) ** 2 + (y - point.y) ** 2;
      if (distance < bestDistance) {
        best = pop;
        bestDistance = distance;
      }
    }
    if (best) this.#select(best.colo);
  }
}
