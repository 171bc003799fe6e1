// Plain-text output of lbctl: aligned tables, the status view, API errors. Pure:
// data in, strings out; colour only through the `paint` it is given.

/**
 * @typedef {object} Paint
 * @property {(s: string) => string} green
 * @property {(s: string) => string} red
 * @property {(s: string) => string} yellow
 * @property {(s: string) => string} bold
 */

/** ANSI colours, or none (stdout is not a terminal, or NO_COLOR is set). */
export function makePaint(enabled) {
  const sgr = (open, close) => (enabled ? (s) => `\x1b[${open}m${s}\x1b[${close}m` : (s) => s);
  return { green: sgr(32, 39), red: sgr(31, 39), yellow: sgr(33, 39), bold: sgr(1, 22) };
}

export const NO_PAINT = makePaint(false);

/**
 * Column-aligned rows. Widths come from the plain text, so colouring a cell
 * (`style`) never shifts a column. The last column is not padded.
 * @param {{ title: string, align?: 'left' | 'right', style?: (value: string) => string }[]} columns
 * @param {unknown[][]} rows cell values; null and undefined print as '-'
 * @param {{ indent?: string, header?: boolean }} [options]
 * @returns {string[]} lines, the header first unless header is false
 */
export function tableLines(columns, rows, { indent = '', header = true } = {}) {
  const text = rows.map((row) => columns.map((_, i) => cell(row[i])));
  const widths = columns.map((c, i) => Math.max(header ? c.title.length : 0, ...text.map((r) => r[i].length)));
  const line = (values, styled) =>
    indent +
    values
      .map((value, i) => {
        const pad = ' '.repeat(widths[i] - value.length);
        const shown = styled && columns[i].style ? columns[i].style(value) : value;
        if (columns[i].align === 'right') return pad + shown;
        return i === values.length - 1 ? shown : shown + pad;
      })
      .join('  ');
  const lines = text.map((values) => line(values, true));
  return header ? [line(columns.map((c) => c.title), false), ...lines] : lines;
}

/** tableLines as one string with a final newline. */
export function table(columns, rows, options) {
  return tableLines(columns, rows, options).join('\n') + '\n';
}

function cell(value) {
  if (value === null || value === undefined || value === '') return '-';
  return String(value);
}

/** active, or the flags that limit an origin joined with '+': drain, disabled+drain, drain+backup… */
export function originState(origin) {
  const flags = [];
  if (origin.enabled === false) flags.push('disabled');
  if (origin.drain === true) flags.push('drain');
  if (origin.backup === true) flags.push('backup');
  return flags.length === 0 ? 'active' : flags.join('+');
}

/** Colours a health word: healthy green, unhealthy red, unknown yellow. */
export function paintHealth(paint) {
  return (value) => {
    if (value === 'healthy') return paint.green(value);
    if (value === 'unhealthy') return paint.red(value);
    if (value === 'unknown') return paint.yellow(value);
    return value;
  };
}

const key = (pool, origin) => `${pool}\u0000${origin}`;

/**
 * The `lbctl status` view: per pool a header line and one row per origin, the
 * columns aligned across pools (like `ipvsadm -L -n --stats`).
 * @param {{ url?: string, config: { version: number, config: any }, health?: any, stats?: any, pops?: any }} input
 *   health, stats, pops: the API documents, or undefined when the route does not exist (404)
 */
export function formatStatus({ url, config, health, stats, pops }, paint = NO_PAINT) {
  const pools = config.config?.pools ?? [];
  const lbs = config.config?.load_balancers ?? [];
  const originHealth = new Map((health?.origins ?? []).map((o) => [key(o.pool, o.origin), o]));
  const poolHealth = new Map((health?.pools ?? []).map((p) => [p.id, p]));
  const requests = new Map((stats?.origins ?? []).map((o) => [key(o.pool, o.origin), o.requests]));
  const style = paintHealth(paint);

  const columns = [
    { title: 'ORIGIN' },
    { title: 'ADDRESS' },
    { title: 'WEIGHT', align: 'right' },
    { title: 'STATE' },
    { title: 'HEALTH', style },
    { title: 'REQUESTS', align: 'right' },
  ];
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
  const withdrawn = (pops?.pops ?? []).filter((p) => p.withdrawn === true);
  if (withdrawn.length > 0) {
    out.push(`PoPs withdrawn: ${withdrawn.length} of ${pops.pops.length} (${withdrawn.map((p) => p.colo).join(', ')})`);
  }
  return out.join('\n') + '\n';
}

function poolLine(pool, h, haveHealth, paint) {
  const name = pool.name && pool.name !== pool.id ? ` (${pool.name})` : '';
  const total = (pool.origins ?? []).length;
  let healthText;
  if (!haveHealth || h === undefined) healthText = paint.yellow('health unknown');
  else if (h.healthy) healthText = `${paint.green('healthy')} ${h.healthy_origins}/${total}`;
  else healthText = `${paint.red('unhealthy')} ${h.healthy_origins}/${total}`;
  const parts = [`Pool ${paint.bold(pool.id)}${name}`, healthText, `policy ${pool.origin_steering?.policy ?? 'round_robin'}`];
  if ((pool.minimum_origins ?? 1) !== 1) parts.push(`minimum ${pool.minimum_origins}`);
  if (pool.enabled === false) parts.push(paint.red('disabled'));
  return parts.join('  ');
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `lbctl pool list`. */
export function formatPoolList(pools) {
  if (pools.length === 0) return 'no pools configured\n';
  return table(
    [{ title: 'POOL' }, { title: 'NAME' }, { title: 'ENABLED' }, { title: 'POLICY' }, { title: 'MONITOR' }, { title: 'MINIMUM', align: 'right' }, { title: 'ORIGINS', align: 'right' }],
    pools.map((p) => [
      p.id,
      p.name,
      p.enabled === false ? 'no' : 'yes',
      p.origin_steering?.policy ?? 'round_robin',
      p.monitor,
      p.minimum_origins ?? 1,
      (p.origins ?? []).length,
    ]),
  );
}

/** `lbctl health`: pools, then origins. */
export function formatHealth(health, paint = NO_PAINT) {
  const style = paintHealth(paint);
  const pools = table(
    [{ title: 'POOL' }, { title: 'HEALTH', style }, { title: 'HEALTHY', align: 'right' }, { title: 'MINIMUM', align: 'right' }],
    (health.pools ?? []).map((p) => [p.id, p.healthy ? 'healthy' : 'unhealthy', p.healthy_origins, p.minimum_origins]),
  );
  const origins = table(
    [
      { title: 'POOL' },
      { title: 'ORIGIN' },
      { title: 'HEALTH', style },
      { title: 'UP', align: 'right' },
      { title: 'DOWN', align: 'right' },
      { title: 'RTT', align: 'right' },
      { title: 'LAST CHECK' },
      { title: 'REASON' },
    ],
    (health.origins ?? []).map((o) => [
      o.pool,
      o.origin,
      o.state ?? (o.healthy ? 'healthy' : 'unhealthy'),
      o.consecutive_up,
      o.consecutive_down,
      typeof o.rtt_ms === 'number' ? `${Math.round(o.rtt_ms)} ms` : null,
      formatTime(o.last_check_at),
      o.reason,
    ]),
  );
  return `${pools}\n${origins}`;
}

/**
 * `lbctl pop list`: the withdrawn PoPs (all of them with `all`) and a count.
 * @param {any[]} pops
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

/** `lbctl events`: one aligned line per event (time, kind, message). */
export function formatEvents(events) {
  if (events.length === 0) return 'no events\n';
  return table(
    [{ title: 'TIME' }, { title: 'KIND' }, { title: 'MESSAGE' }],
    events.map((e) => [formatTime(e.at), e.kind, e.message]),
    { header: false },
  );
}

/** An ISO string as it is; epoch milliseconds as ISO. */
export function formatTime(at) {
  if (typeof at === 'number' && Number.isFinite(at)) return new Date(at).toISOString();
  return at ?? null;
}

/** `lbctl explain`: the trace, then the candidates in order. */
export function formatExplain(explain) {
  const lines = [];
  const trace = explain.trace ?? [];
  const lb = explain.load_balancer;
  // The trace names the load balancer itself; say it only when there is no trace.
  if (trace.length === 0 && lb) lines.push(`load balancer ${lb.id} (hostname ${lb.hostname})`);
  lines.push(...trace);
  const candidates = explain.candidates ?? [];
  if (candidates.length === 0) {
    lines.push('no candidates');
  } else {
    lines.push('candidates:');
    const rows = tableLines(
      [{ title: '#', align: 'right' }, { title: 'POOL/ORIGIN' }, { title: 'ADDRESS' }, { title: 'STATE' }],
      candidates.map((c, i) => [i + 1, `${c.pool}/${c.origin}`, c.address, originState(c)]),
      { indent: '  ', header: false },
    );
    lines.push(...rows);
  }
  const affinity = formatAffinity(explain.affinity);
  if (affinity) lines.push(`affinity: ${affinity}`);
  return lines.join('\n') + '\n';
}

/** A value in a diff line: JSON, shortened. */
function shortJson(value) {
  const text = JSON.stringify(value) ?? 'null';
  return text.length <= 60 ? text : `${text.slice(0, 57)}...`;
}

/** People, as "1.2 M" or "3.4 bn". */
function people(n) {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} bn`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  return String(n);
}

const placement = (p) => (p ? `${p.pool}/${p.origin}` : 'nobody');

/**
 * `lbctl config put --dry-run`: what would change, then where the sample clients'
 * new requests would go and how many pinned sessions would leave their origin.
 */
export function formatDryRun(dry, paint = NO_PAINT) {
  const lines = [`dry run against version ${dry.version}: nothing stored`];
  const diff = dry.diff ?? { added: [], removed: [], changed: [] };
  if (diff.added.length + diff.removed.length + diff.changed.length === 0) lines.push('no resource changes');
  for (const label of diff.added) lines.push(`  ${paint.green('+')} ${label}`);
  for (const label of diff.removed) lines.push(`  ${paint.red('-')} ${label}`);
  for (const change of diff.changed) {
    lines.push(`  ${paint.yellow('~')} ${change.resource}: ${change.fields.map((f) => `${f.field} ${shortJson(f.before)} -> ${shortJson(f.after)}`).join(', ')}`);
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
      const rows = lb.moves.map((m) => [`${m.client}${m.colo ? ` (${m.colo})` : ''}`, placement(m.before), '->', placement(m.after)]);
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

/** "cookie" as it is; { mode, outcome, pin } as "mode cookie, outcome new, pin all/backend1". */
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

/**
 * The stderr lines for a refused call: `lbctl: <code>: <message>` and one line per issue.
 * @param {number} status
 * @param {any} json the parsed body, if it was JSON
 * @param {string} text the raw body
 */
export function formatApiError(status, json, text) {
  const error = json?.error;
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
  const hint = errorHint(status, error?.code);
  if (hint) lines.push(hint);
  return lines.join('\n') + '\n';
}

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
 */
export function formatWarnings(warnings, paint = NO_PAINT) {
  return warnings.map((w) => `${paint.yellow('warning')} ${w.code} ${w.path === '' ? '(document)' : w.path}: ${w.message}\n`).join('');
}

/** Pretty JSON with a final newline. */
export function json(value) {
  return `${JSON.stringify(value, null, 2)}\n`;
}
