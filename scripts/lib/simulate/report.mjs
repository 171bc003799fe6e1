// What a simulation shows: text tables in the style of the seeds'
// count_server_replies.sh ("    37 replies received from server 1"), an SVG bar chart
// of the distribution per scenario, an SVG world map per geographic scenario and the
// JSON summary. Pure: the summary from core.mjs in, strings out; no I/O, and the SVG
// loads nothing. The map is the dashboard's (src/geo/world-map.ts, which Node imports
// as it is): the same projection, land and pool colours.
import { MAP_COLORS, MAP_HEIGHT, MAP_WIDTH, NO_POOL, poolColor, worldMap } from '../../../src/geo/world-map.ts';
import { makePaint, tableLines } from '../lbctl/format.mjs';

/**
 * @typedef {import('../lbctl/format.mjs').Paint} Paint
 * @typedef {import('./scenarios.mjs').PopMoved} PopMoved
 * @typedef {import('./scenarios.mjs').PoolMoved} PoolMoved
 * @typedef {import('./scenarios.mjs').ScenarioResult} ScenarioResult
 * @typedef {import('./tally.mjs').Counts} Counts
 *
 * @typedef {object} Summary what the report reads of simulate()'s summary
 * @property {string} host
 * @property {string | null} [seed]
 * @property {number} clients
 * @property {{ id: string, latitude: number | null, longitude: number | null }[]} [pools]
 * @property {{ colo: string, city: string, latitude: number, longitude: number }[]} [pops]
 * @property {ScenarioResult[]} scenarios
 *
 * @typedef {Pick<ScenarioResult, 'name' | 'title' | 'host' | 'withdrawn_pops' | 'down_pools' | 'pools' | 'pops'>
 *   & { clients: readonly { lat: number, lon: number, pool: string | null, moved_from?: string }[] }} MapScenario
 *   what a map reads of a scenario's result
 */

const NO_PAINT = makePaint(false);

/**
 * pool id → colour, stable for a configuration: the dashboard's colour for the same pool.
 * @param {Pick<Summary, 'pools'>} summary
 * @returns {Map<string, string>}
 */
export function poolColors(summary) {
  return new Map((summary.pools ?? []).map((p, i) => [p.id, poolColor(i)]));
}

/** @param {number | null | undefined} v */
const ms = (v) => (v === null || v === undefined ? '-' : `${v.toFixed(1)} ms`);
/** @param {number} n */
const thousands = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/**
 * "    37 replies received from eu/backend1", counts right-aligned like `uniq -c`.
 * @param {Counts} counts
 * @param {(key: string) => string} [what]
 * @param {string} [indent]
 */
function replyLines(counts, what = (key) => key, indent = '') {
  const entries = Object.entries(counts);
  const width = Math.max(6, ...entries.map(([, n]) => String(n).length + 2));
  return entries.map(([key, n]) => `${indent}${String(n).padStart(width)} replies received from ${what(key)}`);
}

/**
 * @param {Counts} counts
 * @param {(key: string) => string} label
 * @param {string} [indent]
 */
function countLines(counts, label, indent = '  ') {
  const entries = Object.entries(counts);
  const width = Math.max(6, ...entries.map(([, n]) => String(n).length + 2));
  return entries.map(([key, n]) => `${indent}${String(n).padStart(width)} ${label(key)}`);
}

/**
 * The text report of one scenario.
 * @param {ScenarioResult} result
 * @param {Paint} [paint]
 */
export function formatScenario(result, paint = NO_PAINT) {
  const out = [`== ${result.name}: ${result.title} ==`];
  if (result.skipped) {
    out.push(`skipped: ${result.skipped}`, '');
    return out.join('\n');
  }
  const seconds = result.duration_ms === undefined ? '' : `, ${(result.duration_ms / 1000).toFixed(1)} s`;
  const requests = result.sticky ? `${result.sticky.clients} clients × ${result.sticky.rounds} requests` : `${thousands(result.requests)} requests`;
  out.push(`Host ${result.host}: ${requests}${seconds}`);

  if (result.requests > 0) {
    // Per origin; a pool's total only where it has more than one origin.
    /** @type {Map<string, [string, number][]>} */
    const byPool = new Map();
    for (const [key, n] of Object.entries(result.origins ?? {})) {
      const pool = key.slice(0, key.indexOf('/'));
      byPool.set(pool, [...(byPool.get(pool) ?? []), [key, n]]);
    }
    out.push(...replyLines(result.origins ?? {}));
    const pooled = Object.fromEntries([...byPool].filter(([, rows]) => rows.length > 1).map(([pool]) => [pool, result.pools?.[pool] ?? 0]));
    out.push(...replyLines(pooled, (pool) => `pool ${pool}`));
    const errors = Object.fromEntries(Object.entries(result.statuses ?? {}).filter(([code]) => Number(code) >= 500));
    out.push(...countLines(errors, (code) => `answered HTTP ${code} (no origin)`, ''));

    out.push('', ...continentTable(result));
    out.push('', ...rttTable(result));
  }
  if (result.moved && result.withdrawn_pops.length > 0) {
    const m = /** @type {PopMoved} */ (result.moved);
    out.push('', `${m.pop} (${m.city}) withdrawn: its ${m.clients} clients went to`);
    out.push(...countLines(Object.fromEntries(Object.entries(m.to_pops).map(([c, v]) => [c, v.clients])), (c) => `${c}${m.to_pops[c].city ? ` (${m.to_pops[c].city})` : ''}`));
    out.push(`  their pools before: ${inline(m.pools_before)}; after: ${inline(m.pools_after)}`);
  }
  if (result.moved && result.down_pools.length > 0) {
    const m = /** @type {PoolMoved} */ (result.moved);
    out.push('', `pool ${m.pool} down (health: ${m.healthy_after === false ? 'unhealthy' : m.healthy_after ? 'healthy' : 'unknown'}): its ${m.clients} clients went to`);
    out.push(...countLines(m.pools_after, (pool) => `pool ${pool}`));
  }
  if (result.weights) {
    const w = result.weights;
    out.push('', `pool ${w.pool} (${w.policy}), ${thousands(w.requests)} requests without cookies:`);
    out.push(
      ...tableLines(
        [{ title: 'ORIGIN' }, { title: 'WEIGHT', align: 'right' }, { title: 'COUNT', align: 'right' }, { title: 'EXPECTED', align: 'right' }],
        w.origins.map((o) => [`${w.pool}/${o.origin}`, o.weight, o.count, o.expected.toFixed(1)]),
        { indent: '  ' },
      ),
    );
    out.push('  seed 003 (HAProxy, weights 2:1, 2,000 requests with cookies cleared): 1,334/666');
  }
  if (result.sticky) {
    const s = result.sticky;
    out.push('', `${s.clients} clients, ${s.rounds} requests each keeping their ${'__lb_affinity'} cookie: ${s.moved} moved, ${s.without_cookie} without a cookie`);
  }
  out.push('', ...checkLines(result, paint), '');
  return out.join('\n');
}

/** @param {Counts} counts */
function inline(counts) {
  const entries = Object.entries(counts);
  return entries.length === 0 ? 'none' : entries.map(([k, n]) => `${k} ${n}`).join(', ');
}

/** @param {ScenarioResult} result */
function continentTable(result) {
  const pools = Object.keys(result.pools ?? {});
  /** @type {Set<string>} */
  const extra = new Set();
  for (const c of Object.values(result.continents ?? {})) for (const key of Object.keys(c.pools)) if (!pools.includes(key)) extra.add(key);
  const columns = [...pools, ...extra];
  return tableLines(
    [{ title: 'CONTINENT' }, { title: 'CLIENTS', align: 'right' }, ...columns.map((p) => ({ title: p, align: /** @type {const} */ ('right') }))],
    Object.entries(result.continents ?? {}).map(([name, c]) => [name, c.clients, ...columns.map((p) => c.pools[p] ?? 0)]),
    { indent: '  ' },
  );
}

/** @param {ScenarioResult} result */
function rttTable(result) {
  const r = result.rtt;
  if (!r || r.estimated === 0) return ['  round trip: not estimated (the pools reached have no coordinates)'];
  return [
    `  ROUND TRIP (estimated: client → PoP → pool over fibre at 200 km/ms; ${r.estimated} of ${result.requests} clients)`,
    ...tableLines(
      [{ title: '' }, { title: 'MEAN', align: 'right' }, { title: 'P95', align: 'right' }],
      [
        ['steering', ms(r.steering.mean_ms), ms(r.steering.p95_ms)],
        ['oracle', ms(r.oracle.mean_ms), ms(r.oracle.p95_ms)],
      ],
      { indent: '  ' },
    ),
    `  steering/oracle ×${r.ratio === null ? '-' : r.ratio.toFixed(3)} (oracle: the nearest healthy pool through the nearest PoP)`,
  ];
}

/**
 * @param {ScenarioResult} result
 * @param {Paint} paint
 */
function checkLines(result, paint) {
  const lines = result.checks.map((c) => `  ${c.ok ? paint.green('ok  ') : paint.red('FAIL')} ${c.name}${c.detail ? `: ${c.detail}` : ''}`);
  for (const note of result.notes ?? []) lines.push(`  ${paint.yellow('note')} ${note}`);
  for (const r of result.restored ?? []) lines.push(`  ${r.ok ? paint.green('ok  ') : paint.red('FAIL')} restored ${r.what}${r.detail ? `: ${r.detail}` : ''}`);
  if (result.error) lines.push(`  ${paint.red('FAIL')} ${result.error}`);
  return lines;
}

/**
 * The closing table: one line per scenario.
 * @param {Pick<Summary, 'scenarios'>} summary
 * @param {Paint} [paint]
 */
export function formatOverview(summary, paint = NO_PAINT) {
  /** @param {ScenarioResult} r */
  const verdict = (r) => (r.skipped ? 'skipped' : r.ok ? 'ok' : 'FAILED');
  /** @param {string} v */
  const style = (v) => (v === 'ok' ? paint.green(v) : v === 'FAILED' ? paint.red(v) : paint.yellow(v));
  const lines = tableLines(
    [
      { title: 'SCENARIO' },
      { title: 'RESULT', style },
      { title: 'HOST' },
      { title: 'REQUESTS', align: 'right' },
      { title: 'MEAN RTT', align: 'right' },
      { title: 'ORACLE', align: 'right' },
      { title: 'P95 RTT', align: 'right' },
      { title: 'ORACLE P95', align: 'right' },
    ],
    summary.scenarios.map((r) => [
      r.name,
      verdict(r),
      r.host,
      r.sticky ? r.sticky.requests : r.requests,
      r.rtt?.estimated ? ms(r.rtt.steering.mean_ms) : '-',
      r.rtt?.estimated ? ms(r.rtt.oracle.mean_ms) : '-',
      r.rtt?.estimated ? ms(r.rtt.steering.p95_ms) : '-',
      r.rtt?.estimated ? ms(r.rtt.oracle.p95_ms) : '-',
    ]),
  );
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------
// SVG

/** @type {Record<string, string>} */
const XML_ENTITIES = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' };

/** @param {unknown} value */
export function escapeXml(value) {
  return String(value).replace(/[<>&"']/g, (c) => XML_ENTITIES[c]);
}

/** @param {number} n */
const f1 = (n) => (Math.round(n * 10) / 10).toString();
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

/**
 * Bars per pool/origin per scenario: the share of the scenario's requests each
 * origin answered, its count on top, coloured by pool.
 * @param {Summary} summary
 */
export function distributionSvg(summary) {
  const colors = poolColors(summary);
  const scenarios = summary.scenarios.filter((r) => !r.skipped && r.requests > 0);
  const bar = 26;
  const gap = 8;
  const groupGap = 48;
  const left = 56;
  const top = 56;
  const plotH = 260;
  const groups = scenarios.map((r) => {
    /** @type {{ key: string, n: number, pool: string | null }[]} */
    const bars = Object.entries(r.origins ?? {}).map(([key, n]) => ({ key, n, pool: key.slice(0, key.indexOf('/')) }));
    const failed = r.requests - Object.values(r.origins ?? {}).reduce((s, n) => s + n, 0);
    if (failed > 0) bars.push({ key: 'no origin', n: failed, pool: null });
    return { r, bars, width: Math.max(bars.length * (bar + gap) - gap, 90) };
  });
  const width = left + groups.reduce((s, g) => s + g.width + groupGap, 0) + 72; // room for the slanted labels
  const height = top + plotH + 130;
  /** @param {number} share */
  const y = (share) => top + plotH * (1 - share);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<title>Switchyard simulation: distribution per scenario</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="24" font-size="16" font-weight="600">Replies per pool/origin, share of each scenario's requests</text>`,
    `<text x="${left}" y="42" fill="#555">${escapeXml(`${summary.clients} clients, host ${summary.host}, seed ${summary.seed ?? '-'}`)}</text>`,
  ];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${left - 4}" x2="${width - 72}" y1="${f1(y(t))}" y2="${f1(y(t))}" stroke="${t === 0 ? '#333' : '#e3e3e3'}"/>`);
    parts.push(`<text x="${left - 8}" y="${f1(y(t) + 4)}" text-anchor="end" fill="#555">${t * 100}%</text>`);
  }
  let x = left + groupGap / 2;
  for (const g of groups) {
    const total = g.r.requests;
    let bx = x + (g.width - (g.bars.length * (bar + gap) - gap)) / 2;
    for (const b of g.bars) {
      const share = total > 0 ? b.n / total : 0;
      const fill = b.pool === null ? NO_POOL : (colors.get(b.pool) ?? NO_POOL);
      parts.push(
        `<rect class="bar" data-scenario="${escapeXml(g.r.name)}" data-key="${escapeXml(b.key)}" x="${f1(bx)}" y="${f1(y(share))}" width="${bar}" height="${f1(plotH * share)}" fill="${fill}"><title>${escapeXml(`${g.r.name}: ${b.key} ${b.n} of ${total}`)}</title></rect>`,
      );
      parts.push(`<text x="${f1(bx + bar / 2)}" y="${f1(y(share) - 4)}" text-anchor="middle" font-size="11">${b.n}</text>`);
      const lx = f1(bx + bar / 2);
      const ly = f1(top + plotH + 10);
      parts.push(`<text x="${lx}" y="${ly}" transform="rotate(45 ${lx} ${ly})" font-size="11" fill="#333">${escapeXml(b.key)}</text>`);
      bx += bar + gap;
    }
    parts.push(
      `<text x="${f1(x + g.width / 2)}" y="${top + plotH + 112}" text-anchor="middle" font-weight="600"${g.r.ok ? '' : ' fill="#c62828"'}>${escapeXml(g.r.name)}${g.r.ok ? '' : ' (failed)'}</text>`,
    );
    x += g.width + groupGap;
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/**
 * A world map of one scenario, on the dashboard's map: a dot per client coloured by
 * the pool that served it, every PoP as a small square (those that served clients
 * darker), withdrawn PoPs crossed out in red, pools as ringed circles.
 * @param {Pick<Summary, 'pools' | 'pops'>} summary
 * @param {MapScenario} result
 */
export function mapSvg(summary, result) {
  const colors = poolColors(summary);
  const world = worldMap();
  const top = 44;
  const width = MAP_WIDTH;
  const height = top + MAP_HEIGHT + 40;
  /**
   * Where the shared projection puts a place, inside the map's group (shifted down by `top`).
   * @param {number} lon
   * @param {number} lat
   */
  const at = (lon, lat) => world.project(lon, lat).map((v) => Number(f1(v)));
  const withdrawn = new Set(result.withdrawn_pops ?? []);
  const down = new Set(result.down_pools ?? []);
  const used = new Set(Object.keys(result.pops ?? {}));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<title>${escapeXml(`Switchyard simulation: ${result.name}`)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="8" y="20" font-size="16" font-weight="600">${escapeXml(`${result.name}: ${result.title}`)}</text>`,
    `<text x="8" y="36" font-size="11" fill="#555">${escapeXml(
      `${result.clients.length} clients, host ${result.host}; dots: clients by the pool that served them${withdrawn.size > 0 ? ' (ringed in red: moved by the withdrawal)' : ''}; squares: PoPs (dark: in use)`,
    )}</text>`,
    `<g class="map" transform="translate(0 ${top})">`,
    `<path class="ocean" d="${world.sphere}" fill="${MAP_COLORS.ocean}" stroke="#a9b8c8" stroke-width="0.8"/>`,
    `<path class="graticule" d="${world.graticule}" fill="none" stroke="${MAP_COLORS.graticule}" stroke-width="0.6"/>`,
    `<path class="land" d="${world.land}" fill="${MAP_COLORS.land}" stroke="${MAP_COLORS.coast}" stroke-width="0.6" stroke-linejoin="round"/>`,
    '<g class="pops">',
  ];
  for (const pop of summary.pops ?? []) {
    if (withdrawn.has(pop.colo)) continue;
    const inUse = used.has(pop.colo);
    const s = inUse ? 4 : 3;
    const [x, y] = at(pop.longitude, pop.latitude);
    parts.push(
      `<rect class="pop${inUse ? ' in-use' : ''}" x="${f1(x - s / 2)}" y="${f1(y - s / 2)}" width="${s}" height="${s}" fill="${inUse ? '#333' : '#a9b4bf'}"><title>${escapeXml(`${pop.colo} ${pop.city}${inUse ? `: ${result.pops?.[pop.colo]} clients` : ''}`)}</title></rect>`,
    );
  }
  parts.push('</g>', '<g class="clients">');
  for (const c of result.clients) {
    const fill = c.pool === null ? NO_POOL : (colors.get(c.pool) ?? NO_POOL);
    const [x, y] = at(c.lon, c.lat);
    // Clients that a withdrawal moved to another PoP are ringed.
    const ring = c.moved_from ? ' stroke="#c62828" stroke-width="1"' : '';
    parts.push(`<circle class="client${c.moved_from ? ' moved' : ''}" cx="${x}" cy="${y}" r="2.2" fill="${fill}" fill-opacity="0.8"${ring}/>`);
  }
  parts.push('</g>', '<g class="pools">');
  for (const pool of summary.pools ?? []) {
    if (pool.latitude === null || pool.longitude === null) continue;
    const [x, y] = at(pool.longitude, pool.latitude);
    const isDown = down.has(pool.id);
    parts.push(
      `<circle class="pool${isDown ? ' down' : ''}" cx="${x}" cy="${y}" r="8" fill="${isDown ? '#ffffff' : (colors.get(pool.id) ?? NO_POOL)}" stroke="${isDown ? '#c62828' : '#111'}" stroke-width="2"><title>${escapeXml(`pool ${pool.id}${isDown ? ' (down)' : ''}`)}</title></circle>`,
      `<text x="${f1(x + 11)}" y="${f1(y + 4)}" font-weight="600"${isDown ? ' fill="#c62828"' : ''}>${escapeXml(`${pool.id}${isDown ? ' (down)' : ''}`)}</text>`,
    );
  }
  parts.push('</g>');
  for (const colo of withdrawn) {
    const pop = (summary.pops ?? []).find((p) => p.colo === colo);
    if (!pop) continue;
    const [x, y] = at(pop.longitude, pop.latitude);
    parts.push(
      `<g class="pop withdrawn" stroke="#c62828" stroke-width="2.5"><title>${escapeXml(`${colo} ${pop.city}: withdrawn`)}</title><line x1="${f1(x - 6)}" y1="${f1(y - 6)}" x2="${f1(x + 6)}" y2="${f1(y + 6)}"/><line x1="${f1(x - 6)}" y1="${f1(y + 6)}" x2="${f1(x + 6)}" y2="${f1(y - 6)}"/></g>`,
      `<text x="${f1(x + 9)}" y="${f1(y - 8)}" fill="#c62828" font-weight="600">${escapeXml(`${colo} withdrawn`)}</text>`,
    );
  }
  parts.push('</g>');
  // Legend: each pool's colour and its client count in this scenario.
  let lx = 8;
  const ly = top + MAP_HEIGHT + 24;
  parts.push('<g class="legend">');
  const entries = Object.entries(result.pools ?? {});
  const unserved = result.clients.filter((c) => c.pool === null).length;
  if (unserved > 0) entries.push(['no origin', unserved]);
  for (const [pool, n] of entries) {
    const fill = pool === 'no origin' ? NO_POOL : (colors.get(pool) ?? NO_POOL);
    const label = `${pool}: ${n}`;
    parts.push(`<circle cx="${lx + 6}" cy="${ly - 4}" r="6" fill="${fill}"/>`, `<text x="${lx + 16}" y="${ly}">${escapeXml(label)}</text>`);
    lx += 28 + label.length * 7;
  }
  parts.push('</g>', '</svg>');
  return parts.join('\n') + '\n';
}

/**
 * The JSON summary, every number of the run: indented, except that a value whose
 * JSON is short (a client record, a PoP, a table of counts) stays on one line.
 * @param {unknown} summary
 */
export function summaryJson(summary) {
  return `${compactJson(summary, '')}\n`;
}

/**
 * @param {unknown} value
 * @param {string} indent
 * @returns {string | undefined} undefined where JSON.stringify gives undefined (a function, say)
 */
function compactJson(value, indent) {
  const flat = JSON.stringify(value);
  if (flat === undefined || value === null || typeof value !== 'object' || flat.length <= 240) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value)) return `[\n${value.map((v) => inner + (compactJson(v, inner) ?? 'null')).join(',\n')}\n${indent}]`;
  const entries = Object.entries(value)
    .map(([key, v]) => [key, compactJson(v, inner)])
    .filter(([, text]) => text !== undefined);
  return `{\n${entries.map(([key, text]) => `${inner}${JSON.stringify(key)}: ${text}`).join(',\n')}\n${indent}}`;
}
