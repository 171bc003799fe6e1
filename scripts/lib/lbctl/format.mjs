// Plain-text output of lbctl: aligned tables, the status view, API errors. Pure:
// data in, strings out; colour only through the `paint` it is given.

/**
 * An admin API answer as a server sent it. Read defensively, field by field: lbctl may
 * talk to a Switchyard of another version than its own.
 * @typedef {any} Document
 */

/**
 * @typedef {{ title: string, align?: 'left' | 'right', style?: (value: string) => string }} Column
 */

/**
 * @typedef {object} Paint
 * @property {(s: string) => string} green
 * @property {(s: string) => string} red
 * @property {(s: string) => string} yellow
 * @property {(s: string) => string} bold
 */

/**
 * ANSI colours, or none (stdout is not a terminal, or NO_COLOR is set).
 * @param {boolean} enabled
 * @returns {Paint}
 */
export function makePaint(enabled) {
  /** @type {(open: number, close: number) => (s: string) => string} */
  const sgr = (open, close) => (enabled ? (s) => `\x1b[${open}m${s}\x1b[${close}m` : (s) => s);
  return { green: sgr(32, 39), red: sgr(31, 39), yellow: sgr(33, 39), bold: sgr(1, 22) };
}

export const NO_PAINT = makePaint(false);

/**
 * Column-aligned rows. Widths come from the plain text, so colouring a cell
 * (`style`) never shifts a column. The last column is not padded.
 * @param {readonly Column[]} columns
 * @param {unknown[][]} rows cell values; null and undefined print as '-'
 * @param {{ indent?: string, header?: boolean }} [options]
 * @returns {string[]} lines, the header first unless header is false
 */
export function tableLines(columns, rows, { indent = '', header = true } = {}) {
  const text = rows.map((row) => columns.map((_, i) => cell(row[i])));
  const widths = columns.map((c, i) => Math.max(header ? c.title.length : 0, ...text.map((r) => r[i].length)));
  /** @param {string[]} values @param {boolean} styled */
  const line = (values, styled) =>
    indent +
    values
      .map((value, i) => {
        const pad = ' '.repeat(widths[i] - value.length);
        const style = columns[i].style;
        const shown = styled && style ? style(value) : value;
        if (columns[i].align === 'right') return pad + shown;
        return i === values.length - 1 ? shown : shown + pad;
      })
      .join('  ');
  const lines = text.map((values) => line(values, true));
  return header ? [line(columns.map((c) => c.title), false), ...lines] : lines;
}

/**
 * tableLines as one string with a final newline.
 * @param {readonly Column[]} columns
 * @param {unknown[][]} rows
 * @param {{ indent?: string, header?: boolean }} [options]
 */
export function table(columns, rows, options) {
  return tableLines(columns, rows, options).join('\n') + '\n';
}

/** @param {unknown} value */
function cell(value) {
  if (value === null || value === undefined || value === '') return '-';
  return String(value);
}

/**
 * active, or the flags that limit an origin joined with '+': drain, disabled+drain, drain+backup…
 * @param {{ enabled?: boolean, drain?: boolean, backup?: boolean }} origin
 */
export function originState(origin) {
  const flags = [];
  if (origin.enabled === false) flags.push('disabled');
  if (origin.drain === true) flags.push('drain');
  if (origin.backup === true) flags.push('backup');
  return flags.length === 0 ? 'active' : flags.join('+');
}

/**
 * Colours a health word: healthy green, unhealthy red, unknown yellow.
 * @param {Paint} paint
 * @returns {(value: string) => string}
 */
export function paintHealth(paint) {
  return (value) => {
    if (value === 'healthy') return paint.green(value);
    if (value === 'unhealthy') return paint.red(value);
    if (value === 'unknown') return paint.yellow(value);
    return value;
  };
}

/** @param {string} pool @param {string} origin */
const key = (pool, origin) => `${pool}\u0000${origin}`;

/**
 * The `lbctl status` view: per pool a header line and one row per origin, the
 * columns aligned across pools (like `ipvsadm -L -n --stats`).
 * @param {{ url?: string, config: Document, health?: Document, stats?: Document, pops?: Document }} input
 *   config: GET /config's answer; health, stats, pops: the API documents, or undefined when the route does not exist (404)
 */
export function formatStatus({ url, config, health, stats, pops }, paint = NO_PAINT) {
  /** @type {Document[]} */
  const pools = config.config?.pools ?? [];
  const lbs = config.config?.load_balancers ?? [];
  /** @type {Map<string, Document>} */
  const originHealth = new Map((health?.origins ?? []).map((/** @type {Document} */ o) => [key(o.pool, o.origin), o]));
  /** @type {Map<string, Document>} */
  const poolHealth = new Map((health?.pools ?? []).map((/** @type {Document} */ p) => [p.id, p]));
  /** @type {Map<string, number>} */
  const requests = new Map((stats?.origins ?? []).map((/** @type {Document} */ o) => [key(o.pool, o.origin), o.requests]));
  const style = paintHealth(paint);

  /** @type {Column[]} */
  const columns = [
    { title: 'ORIGIN' },
    { title: 'ADDRESS' },
    { title: 'WEIGHT', align: 'right' },
    { title: 'STATE' },
    { title: 'HEALTH', style },
    { title: 'REQUESTS', align: 'right' },
  ];
  /** @type {unknown[][]} */
  const rows = [];
  for (const pool of pools) {
    for (const origin of pool.origins ?? []) {
      const h = originHealth.get(key(pool.id, origin.name));
      rows.push([
        origin.name,
        origin.address,
        origin.weight ?? 1,
        originState(origin),
        health === undefined ? '-' : (h?.state ?? 'unknown'),
        stats === undefined ? '-' : (requests.get(key(pool.id, origin.name)) ?? 0),
      ]);
    }
  }
  const [headerLine, ...rowLines] = tableLines(columns, rows, { indent: '  ' });

  const where = url ? `Switchyard ${url}  ` : '';
  const out = [`${where}configuration version ${config.version}: ${plural(pools.length, 'pool')}, ${plural(lbs.length, 'load balancer')}`];
  if (pools.length === 0) out.push('no pools configured');
  else out.push(headerLine);
  let next = 0;
  for (const pool of pools) {
    out.push(poolLine(pool, poolHealth.get(pool.id), health !== undefined, paint));
    const count = (pool.origins ?? []).length;
    if (count === 0) out.push('  (no origins)');
    out.push(...rowLines.slice(next, next + count));
    next += count;
  }
  /** @type {Document[]} */
  const withdrawn = (pops?.pops ?? []).filter((/** @type {Document} */ p) => p.withdrawn === true);
  if (withdrawn.length > 0) {
    out.push(`PoPs withdrawn: ${withdrawn.length} of ${pops.pops.length} (${withdrawn.map((p) => p.colo).join(', ')})`);
  }
  return out.join('\n') + '\n';
}

/**
 * @param {Document} pool
 * @param {Document | undefined} h the pool's health
 * @param {boolean} haveHealth
 * @param {Paint} paint
 */
function poolLine(pool, h, haveHealth, paint) {
  const name = pool.name && pool.name !== pool.id ? ` (${pool.name})` : '';
  const total = (pool.origins ?? []).length;
  let healthText;
  if (!haveHealth || h === undefined) healthText = paint.yellow('health unknown');
  else if (h.healthy) healthText = `${paint.green('healthy')} ${h.healthy_origins}/${total}`;
  else healthText = `${paint.red('unhealthy')} ${h.healthy_origins}/${total}`;
  const parts = [`Pool ${paint.bold(pool.id)}${name}`, healthText, `policy ${originSteering(pool)}`];
  const shedding = loadShedding(pool);
  if (shedding !== undefined) parts.push(`shedding ${shedding}`);
  if ((pool.minimum_origins ?? 1) !== 1) parts.push(`minimum ${pool.minimum_origins}`);
  if (pool.enabled === false) parts.push(paint.red('disabled'));
  return parts.join('  ');
}

/**
 * A pool's origin steering: its policy, and for hash the key it hashes ("hash by header:x-user").
 * @param {Document} pool
 */
export function originSteering(pool) {
  const policy = pool.origin_steering?.policy ?? 'round_robin';
  return policy === 'hash' ? `hash by ${pool.origin_steering?.hash_key ?? 'ip'}` : policy;
}

/**
 * A pool's load shedding ("10% (random), sessions 5% (hash)"), or undefined when it sheds nothing.
 * @param {Document} pool
 */
export function loadShedding(pool) {
  const ls = pool.load_shedding;
  if (ls === null || typeof ls !== 'object') return undefined;
  const parts = [];
  if (ls.default_percent > 0) parts.push(`${ls.default_percent}% (${ls.default_policy ?? 'random'})`);
  if (ls.session_percent > 0) parts.push(`sessions ${ls.session_percent}% (${ls.session_policy ?? 'hash'})`);
  return parts.length === 0 ? undefined : parts.join(', ');
}

/** @param {number} n @param {string} word */
export function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * `lbctl pool list`.
 * @param {Document[]} pools
 */
export function formatPoolList(pools) {
  if (pools.length === 0) return 'no pools configured\n';
  // The shedding column only when a pool sheds: most configurations never do.
  const shedding = pools.some((p) => loadShedding(p) !== undefined);
  /** @type {Column[]} */
  const columns = [{ title: 'POOL' }, { title: 'NAME' }, { title: 'ENABLED' }, { title: 'POLICY' }, { title: 'MONITOR' }, { title: 'MINIMUM', align: 'right' }, { title: 'ORIGINS', align: 'right' }];
  if (shedding) columns.push({ title: 'SHEDDING' });
  return table(
    columns,
    pools.map((p) => [
      p.id,
      p.name,
      p.enabled === false ? 'no' : 'yes',
      originSteering(p),
      p.monitor,
      p.minimum_origins ?? 1,
      (p.origins ?? []).length,
      ...(shedding ? [loadShedding(p)] : []),
    ]),
  );
}

/**
 * `lbctl health`: pools, then origins. A pool with check_regions gets a REGION column:
 * its own row says `all` (the verdict of its regions), and one row per region follows
 * with that region's prober's verdict; a region whose clients skip the origin although
 * its prober reaches it (most regions cannot) says so in REASON.
 * @param {Document} health
 */
export function formatHealth(health, paint = NO_PAINT) {
  const style = paintHealth(paint);
  const poolRows = health.pools ?? [];
  const originRows = health.origins ?? [];
  const regional = [...poolRows, ...originRows].some((/** @type {Document} */ row) => Array.isArray(row.regions) && row.regions.length > 0);
  /** @param {Document} row @returns {Document[]} */
  const regionsOf = (row) => (regional && Array.isArray(row.regions) ? row.regions : []);
  /** @param {unknown[]} cells @param {string | null} region */
  const withRegion = (cells, region) => (regional ? [cells[0], cells[1], region, ...cells.slice(2)] : cells);
  /** @param {Document} row */
  const regionTag = (row) => (regionsOf(row).length > 0 ? 'all' : null);

  const poolColumns = /** @type {Column[]} */ ([{ title: 'POOL' }, { title: 'HEALTH', style }, { title: 'HEALTHY', align: 'right' }, { title: 'MINIMUM', align: 'right' }]);
  if (regional) poolColumns.splice(1, 0, { title: 'REGION' });
  const pools = table(
    poolColumns,
    poolRows.flatMap((/** @type {Document} */ p) => {
      const word = (/** @type {boolean} */ healthy) => (healthy ? 'healthy' : 'unhealthy');
      const own = [p.id, word(p.healthy), p.healthy_origins, p.minimum_origins];
      const rows = [regional ? [p.id, regionTag(p), ...own.slice(1)] : own];
      for (const r of regionsOf(p)) rows.push([p.id, r.region, word(r.healthy), r.healthy_origins, p.minimum_origins]);
      return rows;
    }),
  );

  const originColumns = /** @type {Column[]} */ ([
    { title: 'POOL' },
    { title: 'ORIGIN' },
    { title: 'HEALTH', style },
    { title: 'UP', align: 'right' },
    { title: 'DOWN', align: 'right' },
    { title: 'RTT', align: 'right' },
    { title: 'LAST CHECK' },
    { title: 'REASON' },
  ]);
  if (regional) originColumns.splice(2, 0, { title: 'REGION' });
  /** @param {Document} o @param {string} state */
  const cells = (o, state) => [
    o.pool,
    o.origin,
    state,
    o.consecutive_up,
    o.consecutive_down,
    typeof o.rtt_ms === 'number' ? `${Math.round(o.rtt_ms)} ms` : null,
    formatTime(o.last_check_at),
    o.reason,
  ];
  const origins = table(
    originColumns,
    originRows.flatMap((/** @type {Document} */ o) => {
      const rows = [withRegion(cells(o, o.state ?? (o.healthy ? 'healthy' : 'unhealthy')), regionTag(o))];
      for (const r of regionsOf(o)) {
        const skipped = r.healthy === false && r.state !== 'unhealthy' ? 'skipped here too: unhealthy by majority' : r.reason;
        rows.push(withRegion(cells({ ...r, pool: o.pool, origin: o.origin, reason: skipped }, r.state), r.region));
      }
      return rows;
    }),
  );
  return `${pools}\n${origins}`;
}

/**
 * `lbctl pop list`: the withdrawn PoPs (all of them with `all`) and a count.
 * @param {Document[]} pops
 */
export function formatPops(pops, { all = false } = {}) {
  const withdrawn = pops.filter((p) => p.withdrawn === true);
  const shown = all ? pops : withdrawn;
  const count = `${withdrawn.length} of ${pops.length} PoPs withdrawn`;
  if (shown.length === 0) return `${count}${all ? '' : ' (--all lists every PoP)'}\n`;
  const rows = table(
    [{ title: 'COLO' }, { title: 'CITY' }, { title: 'COUNTRY' }, { title: 'REGION' }, { title: 'WITHDRAWN' }],
    shown.map((p) => [p.colo, p.city, p.country, p.region, p.withdrawn ? 'yes' : 'no']),
  );
  return `${rows}${count}\n`;
}

/**
 * `lbctl events`: one aligned line per event (time, kind, message).
 * @param {Document[]} events
 */
export function formatEvents(events) {
  if (events.length === 0) return 'no events\n';
  return table(
    [{ title: 'TIME' }, { title: 'KIND' }, { title: 'MESSAGE' }],
    events.map((e) => [formatTime(e.at), e.kind, e.message]),
    { header: false },
  );
}

/**
 * An ISO string as it is; epoch milliseconds as ISO.
 * @param {unknown} at
 */
export function formatTime(at) {
  if (typeof at === 'number' && Number.isFinite(at)) return new Date(at).toISOString();
  return at ?? null;
}

/**
 * The stderr lines for a refused call: `lbctl: <code>: <message>` and one line per issue.
 * @param {number} status
 * @param {any} json the parsed body, if it was JSON
 * @param {string} text the raw body
 * @param {string} [hint] what to do about it, instead of the usual hint for the status
 */
export function formatApiError(status, json, text, hint = errorHint(status, json?.error?.code)) {
  const error = json?.error;
  /** @type {string[]} */
  const lines = [];
  if (error && typeof error === 'object') {
    lines.push(`lbctl: ${error.code ?? `http_${status}`}: ${error.message ?? `HTTP ${status}`}`);
    for (const issue of Array.isArray(error.issues) ? error.issues : []) {
      lines.push(`  ${issue.path === '' || issue.path === undefined ? '(document)' : issue.path}: ${issue.message}`);
    }
  } else {
    const snippet = text.trim().replace(/\s+/g, ' ').slice(0, 200);
    lines.push(`lbctl: http_${status}: ${snippet || 'no response body'}`);
  }
  if (hint) lines.push(hint);
  return lines.join('\n') + '\n';
}

/**
 * @param {number} status
 * @param {string | undefined} code
 */
function errorHint(status, code) {
  if (status === 401) return 'hint: the admin token was refused; check LB_TOKEN or --token';
  if (code === 'admin_disabled') return 'hint: the admin API is off until the Worker has an ADMIN_TOKEN secret';
  if (status === 412) return 'hint: the configuration changed since you read it; read it again (lbctl config get) or drop --if-match';
  return undefined;
}

/**
 * The warnings an admin API answer carries (SPEC §7: valid here, but will not work on
 * Cloudflare's edge), across several answers without repeats, in order.
 * @param {unknown[]} bodies parsed answers; anything without a `warnings` array adds nothing
 * @returns {{ path: string, code: string, message: string }[]}
 */
export function collectWarnings(bodies) {
  const seen = new Set();
  /** @type {{ path: string, code: string, message: string }[]} */
  const out = [];
  for (const body of bodies) {
    const warnings = /** @type {any} */ (body)?.warnings;
    if (!Array.isArray(warnings)) continue;
    for (const w of warnings) {
      if (w === null || typeof w !== 'object') continue;
      const warning = { path: String(w.path ?? ''), code: String(w.code ?? 'warning'), message: String(w.message ?? '') };
      const id = `${warning.code}\u0000${warning.path}\u0000${warning.message}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(warning);
    }
  }
  return out;
}

/**
 * The stderr lines for warnings: `warning <code> <path>: <message>`, one per warning.
 * They never change the exit code: the change was made.
 * @param {readonly { path: string, code: string, message: string }[]} warnings
 */
export function formatWarnings(warnings, paint = NO_PAINT) {
  return warnings.map((w) => `${paint.yellow('warning')} ${w.code} ${w.path === '' ? '(document)' : w.path}: ${w.message}\n`).join('');
}

/**
 * Pretty JSON with a final newline.
 * @param {unknown} value
 */
export function json(value) {
  return `${JSON.stringify(value, null, 2)}\n`;
}
