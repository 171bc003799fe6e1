// The dashboard's client script, served as /__lb/dashboard.js. Plain browser
// JavaScript kept as a string: the Worker's bundler must not touch it (its helpers
// would not exist in the browser). It is syntax-checked by
// test/dashboard/script.unit.test.ts and driven in Chromium by the browser test.
//
// Everything it shows comes from the authenticated admin API; the token lives in this
// tab's sessionStorage only and travels as `Authorization: Bearer`.
//
// Written without backticks or "${" so it can live inside this template literal.

export const dashboardScript = String.raw`(function () {
  'use strict';

  var API = '/__lb/api';
  var TOKEN_KEY = 'switchyard.adminToken';
  var POLL_MS = 2000;
  // A host no load balancer but "*" can match, to ask where "*" steers.
  var PLACEHOLDER_HOST = 'dashboard.invalid';
  // Okabe-Ito and Tol colours: tell apart with the common colour-vision deficiencies.
  var PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#332288', '#882255', '#117733', '#999933'];
  var NO_POOL = '#8d98a5';
  var SVG_NS = 'http://www.w3.org/2000/svg';
  // How many of the kept configuration versions the history panel lists.
  var HISTORY_ROWS = 10;

  function byId(id) { return document.getElementById(id); }
  var els = {
    login: byId('login'), form: byId('token-form'), input: byId('token-input'), loginMessage: byId('login-message'),
    disabled: byId('admin-disabled'), disabledMessage: byId('admin-disabled-message'), retry: byId('retry'),
    app: byId('app'), warnings: byId('warnings'), warningsCount: byId('warnings-count'), warningsList: byId('warnings-list'), pools: byId('pools'), version: byId('version'), status: byId('status'), logout: byId('logout'),
    hostSelect: byId('host-select'), mapNote: byId('map-note'), mapError: byId('map-error'), map: byId('pop-map'),
    mapPools: byId('map-pools'), mapPops: byId('map-pops'), legend: byId('legend'), popDetail: byId('pop-detail'),
    popForm: byId('pop-form'), popInput: byId('pop-input'), popCodes: byId('pop-codes'), withdrawnList: byId('withdrawn-list'),
    historyList: byId('history-list'), historyNote: byId('history-note'), historyError: byId('history-error'),
    confirm: byId('rollback-confirm'), confirmQuestion: byId('rollback-question'), confirmYes: byId('rollback-yes'), confirmNo: byId('rollback-no')
  };

  var state = {
    generation: 0, timer: null, inFlight: false, again: false,
    config: null, warningsKey: '', poolNodes: new Map(), poolColors: new Map(),
    hostsKey: '', pops: [], popNodes: new Map(), selected: null, detailKey: '', withdrawnKey: '',
    historyFor: null, historyKey: '', listError: false, versions: [], pending: null, rollbackButtons: new Map()
  };

  // ---- token and API ----

  function token() {
    try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }
  function setToken(value) {
    try {
      if (value === null) sessionStorage.removeItem(TOKEN_KEY); else sessionStorage.setItem(TOKEN_KEY, value);
    } catch (e) { /* storage off: the token lives for this page only */ }
  }

  function ApiError(status, body) {
    var error = (body && body.error) || {};
    this.status = status;
    this.code = error.code || ('http_' + status);
    this.message = error.message || ('HTTP ' + status);
    this.issues = Array.isArray(error.issues) ? error.issues : [];
    this.handled = false;
  }

  async function api(method, path, body) {
    var headers = { authorization: 'Bearer ' + (token() || '') };
    if (body !== undefined) headers['content-type'] = 'application/json';
    var res;
    try {
      res = await fetch(API + path, { method: method, headers: headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(0, { error: { code: 'network_error', message: 'Switchyard did not answer (' + e.message + ')' } });
    }
    var text = await res.text();
    var data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (res.ok) return data;
    var err = new ApiError(res.status, data && data.error ? data : { error: { code: 'http_' + res.status, message: text.slice(0, 200) || res.statusText } });
    if (res.status === 401) { err.handled = true; onUnauthorized(err); }
    else if (res.status === 503 && err.code === 'admin_disabled') { err.handled = true; onDisabled(err); }
    throw err;
  }

  function describe(err) {
    if (err instanceof ApiError) return (err.status ? err.status + ' ' : '') + err.code + ': ' + err.message;
    return String(err && err.message ? err.message : err);
  }

  /** Shows an API error in the one error shape: code, message and its issues. */
  function showError(el, err) {
    el.textContent = '';
    if (!err) return;
    el.appendChild(document.createTextNode(describe(err)));
    if (err.issues && err.issues.length) {
      var list = document.createElement('ul');
      err.issues.forEach(function (issue) {
        var li = document.createElement('li');
        li.textContent = (issue.path ? issue.path + ': ' : '') + issue.message;
        list.appendChild(li);
      });
      el.appendChild(list);
    }
  }

  // ---- screens ----

  function show(screen, message) {
    els.login.hidden = screen !== 'login';
    els.disabled.hidden = screen !== 'disabled';
    els.app.hidden = screen !== 'app';
    els.logout.hidden = screen === 'login';
    if (screen === 'login') {
      els.loginMessage.textContent = message || '';
      els.version.textContent = '';
      els.status.textContent = '';
      els.input.focus();
    }
  }

  function stop() {
    state.generation += 1;
    clearTimeout(state.timer);
    state.timer = null;
  }

  function onUnauthorized(err) {
    stop();
    setToken(null);
    show('login', 'The admin API refused the token (' + err.status + ' ' + err.code + ': ' + err.message + '). Enter it again.');
  }

  function onDisabled(err) {
    stop();
    els.disabledMessage.textContent = err.message;
    show('disabled');
  }

  function start() {
    stop();
    state.historyFor = null;
    cancelRollback(false);
    show('loading');
    els.status.textContent = 'Connecting…';
    refreshNow();
  }

  // ---- polling ----

  function refreshNow() {
    clearTimeout(state.timer);
    state.timer = null;
    if (state.inFlight) { state.again = true; return; }
    refresh();
  }

  async function refresh() {
    var generation = state.generation;
    if (!token()) return show('login');
    // A hidden tab does not poll; it refreshes when shown again.
    if (document.hidden && !els.app.hidden) { state.timer = setTimeout(refresh, POLL_MS); return; }
    state.inFlight = true;
    try {
      var results = await Promise.all([api('GET', '/config'), api('GET', '/health'), api('GET', '/stats')]);
      if (generation !== state.generation) return;
      state.config = results[0];
      renderWarnings(results[0].warnings);
      await refreshHistory(generation, results[0].version);
      if (generation !== state.generation) return;
      renderPools(results[0], results[1], results[2]);
      renderHosts(results[0]);
      await refreshMap(generation);
      if (generation !== state.generation) return;
      els.version.textContent = 'configuration version ' + results[0].version + ' · updated ' + new Date().toLocaleTimeString();
      els.status.textContent = '';
      if (els.app.hidden) show('app');
    } catch (err) {
      if (err.handled || generation !== state.generation) return;
      els.status.textContent = 'Refresh failed: ' + describe(err);
      if (!(err instanceof ApiError)) console.error(err);
    } finally {
      state.inFlight = false;
      if (generation === state.generation && token()) {
        if (state.again) { state.again = false; refresh(); }
        else state.timer = setTimeout(refresh, POLL_MS);
      }
    }
  }

  // ---- configuration warnings ----

  // What the configuration asks for that is valid but will not work on Cloudflare's
  // edge: code, path, message, one per line; the panel is hidden when there is none.
  // Redrawn only when they change, so a screen reader's place survives the polling.
  function renderWarnings(warnings) {
    var list = (Array.isArray(warnings) ? warnings : []).filter(function (w) { return w !== null && typeof w === 'object'; });
    var next = JSON.stringify(list.map(function (w) { return [w.code, w.path, w.message]; }));
    if (next === state.warningsKey) return;
    state.warningsKey = next;
    els.warnings.hidden = list.length === 0;
    setText(els.warningsCount, '(' + list.length + ')');
    els.warningsList.textContent = '';
    list.forEach(function (w) {
      var code = String(w.code || 'warning');
      var li = el('li', { 'data-testid': 'warning', 'data-code': code, 'data-path': String(w.path || '') });
      li.append(
        el('span', { class: 'warning-code', 'data-testid': 'warning-code' }, code), document.createTextNode(' '),
        el('code', { class: 'warning-path', 'data-testid': 'warning-path' }, w.path ? String(w.path) : '(document)'), document.createTextNode(': '),
        el('span', { 'data-testid': 'warning-message' }, String(w.message || ''))
      );
      els.warningsList.appendChild(li);
    });
  }

  // ---- configuration history and rollback ----

  // The version list changes only with the configuration, so it is asked for again
  // only when GET /config names another version (or after a failure). An API without
  // the history (an older Worker) leaves a message in the panel and the rest works.
  async function refreshHistory(generation, current) {
    if (state.historyFor === current) return;
    var doc;
    try {
      doc = await api('GET', '/config/versions');
    } catch (err) {
      if (err.handled) throw err;
      if (generation === state.generation) { showError(els.historyError, err); state.listError = true; }
      return;
    }
    if (generation !== state.generation) return;
    // A refused rollback's error stays until the next question.
    if (state.listError) { showError(els.historyError, null); state.listError = false; }
    state.historyFor = current;
    renderHistory(Array.isArray(doc && doc.versions) ? doc.versions : [], current);
  }

  function when(at) {
    var date = new Date(at);
    return isNaN(date.getTime()) ? String(at) : date.toLocaleString();
  }

  // Redrawn only when the list or the current version changes, so a screen reader's
  // place survives the polling.
  function renderHistory(versions, current) {
    var list = versions.filter(function (v) { return v !== null && typeof v === 'object' && typeof v.version === 'number'; }).slice(0, HISTORY_ROWS);
    var next = JSON.stringify([current, list.map(function (v) { return [v.version, v.at, v.actor, v.summary]; })]);
    if (next === state.historyKey) return;
    state.historyKey = next;
    state.versions = list;
    state.rollbackButtons = new Map();
    els.historyList.textContent = '';
    if (list.length === 0) {
      var empty = el('tr');
      empty.appendChild(el('td', { colspan: '5', class: 'hint' }, 'No versions kept yet: the first change stores one.'));
      els.historyList.appendChild(empty);
    }
    list.forEach(function (v) {
      var isCurrent = v.version === current;
      var tr = el('tr', { 'data-testid': 'version-' + v.version, 'data-version': String(v.version), 'data-current': String(isCurrent) });
      if (isCurrent) { tr.className = 'current'; tr.setAttribute('aria-current', 'true'); }
      var number = el('th', { scope: 'row', class: 'num', 'data-testid': 'version-number' }, String(v.version));
      var at = el('td', { 'data-testid': 'version-at' });
      at.appendChild(el('time', { datetime: String(v.at) }, when(v.at)));
      var actions = el('td', { 'data-testid': 'version-actions' });
      if (isCurrent) {
        actions.appendChild(el('span', { class: 'badge ok', 'data-testid': 'version-current' }, 'current'));
      } else {
        var button = el('button', { type: 'button', 'data-testid': 'rollback', 'aria-label': 'Roll back to version ' + v.version }, 'Roll back');
        button.addEventListener('click', function () { askRollback(v); });
        state.rollbackButtons.set(v.version, button);
        actions.appendChild(button);
      }
      tr.append(
        number, at,
        el('td', { class: 'actor', 'data-testid': 'version-actor' }, String(v.actor || '')),
        el('td', { 'data-testid': 'version-summary' }, String(v.summary || '')),
        actions
      );
      els.historyList.appendChild(tr);
    });
    // A question about a version no longer listed (or now current) is withdrawn.
    if (state.pending !== null && !state.rollbackButtons.has(state.pending)) cancelRollback(false);
  }

  function askRollback(v) {
    state.pending = v.version;
    setText(els.historyNote, '');
    showError(els.historyError, null);
    var current = state.config ? state.config.version : null;
    setText(els.confirmQuestion, 'Roll back to version ' + v.version + ' (' + when(v.at) + ': ' + String(v.summary || '') + ')? ' +
      'Its configuration becomes current as a new version' + (current === null ? '' : '; version ' + current + ' stays in the history') + '.');
    setText(els.confirmYes, 'Roll back to version ' + v.version);
    els.confirmYes.disabled = false;
    els.confirmNo.disabled = false;
    els.confirm.hidden = false;
    els.confirmYes.focus();
  }

  /** Closes the question; with refocus, focus goes back to the button that asked it. */
  function cancelRollback(refocus) {
    var version = state.pending;
    state.pending = null;
    els.confirm.hidden = true;
    var button = version === null ? null : state.rollbackButtons.get(version);
    if (refocus && button) button.focus();
  }

  async function confirmRollback() {
    var version = state.pending;
    if (version === null) return;
    els.confirmYes.disabled = true;
    els.confirmNo.disabled = true;
    try {
      var result = await api('POST', '/config/rollback', { version: version });
      cancelRollback(false);
      var warnings = result && Array.isArray(result.warnings) ? result.warnings.length : 0;
      setText(els.historyNote, 'Version ' + version + ' restored as version ' + (result ? result.version : '?') +
        (warnings ? ' (' + warnings + ' warning' + (warnings === 1 ? '' : 's') + ', listed above)' : '') + '.');
    } catch (err) {
      els.confirmYes.disabled = false;
      els.confirmNo.disabled = false;
      if (err.handled) return;
      cancelRollback(true);
      showError(els.historyError, err);
      state.listError = false;
    }
    // The list and the configuration view follow, whether it worked or not.
    state.historyFor = null;
    refreshNow();
  }

  // ---- pools and origins ----

  function key(pool, origin) { return pool + '\u0000' + origin; }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }

  function originState(origin) {
    var flags = [];
    if (origin.enabled === false) flags.push('disabled');
    if (origin.drain === true) flags.push('drain');
    if (origin.backup === true) flags.push('backup');
    return flags.length ? flags.join('+') : 'active';
  }

  function ms(value) {
    if (value === null || value === undefined) return '–';
    return (value < 10 ? value.toFixed(1) : String(Math.round(value))) + ' ms';
  }

  function poolColor(id) {
    if (id === null || id === undefined) return NO_POOL;
    return state.poolColors.get(id) || NO_POOL;
  }

  function swatch(color) {
    var node = el('span', { class: 'swatch', 'aria-hidden': 'true' });
    node.style.background = color;
    return node;
  }

  function renderPools(configDoc, health, stats) {
    var pools = (configDoc.config && configDoc.config.pools) || [];
    state.poolColors = new Map(pools.map(function (pool, i) { return [pool.id, PALETTE[i % PALETTE.length]]; }));
    var poolHealth = new Map((health.pools || []).map(function (p) { return [p.id, p]; }));
    var originHealth = new Map((health.origins || []).map(function (o) { return [key(o.pool, o.origin), o]; }));
    var traffic = new Map((stats.origins || []).map(function (o) { return [key(o.pool, o.origin), o]; }));

    if (pools.length === 0) {
      state.poolNodes.clear();
      els.pools.textContent = '';
      els.pools.appendChild(el('p', { class: 'hint' }, 'No pools configured: PUT /__lb/api/config or lbctl config put.'));
      return;
    }
    var seen = new Set();
    pools.forEach(function (pool, index) {
      seen.add(pool.id);
      var node = state.poolNodes.get(pool.id) || createPool(pool.id);
      if (els.pools.children[index] !== node.section) els.pools.insertBefore(node.section, els.pools.children[index] || null);
      updatePool(node, pool, poolHealth.get(pool.id), originHealth, traffic);
    });
    state.poolNodes.forEach(function (node, id) {
      if (!seen.has(id)) { node.section.remove(); state.poolNodes.delete(id); }
    });
    Array.prototype.slice.call(els.pools.children).forEach(function (child) {
      if (!child.classList.contains('pool')) child.remove();
    });
  }

  function createPool(id) {
    var section = el('section', { class: 'pool', 'data-testid': 'pool-' + id, 'aria-label': 'pool ' + id });
    var head = el('div', { class: 'pool-head' });
    var color = swatch(NO_POOL);
    var title = el('h3', null, id);
    var name = el('span', { class: 'name' });
    var badge = el('span', { class: 'badge', 'data-testid': 'pool-health' });
    var note = el('span', { class: 'hint' });
    head.append(color, title, name, badge, note);
    var wrap = el('div', { class: 'table-wrap' });
    var table = el('table');
    var thead = el('thead');
    var header = el('tr');
    [['Origin'], ['Address'], ['Weight', 'num'], ['State'], ['Health'], ['Requests', 'num'], ['p50', 'num'], ['p95', 'num'], ['Actions']].forEach(function (c) {
      header.appendChild(el('th', c[1] ? { scope: 'col', class: c[1] } : { scope: 'col' }, c[0]));
    });
    thead.appendChild(header);
    var tbody = el('tbody');
    table.append(el('caption', { class: 'sr-only' }, 'Origins of pool ' + id), thead, tbody);
    wrap.appendChild(table);
    section.append(head, wrap);
    var node = { section: section, color: color, name: name, badge: badge, note: note, tbody: tbody, rows: new Map() };
    state.poolNodes.set(id, node);
    return node;
  }

  function updatePool(node, pool, health, originHealth, traffic) {
    node.color.style.background = poolColor(pool.id);
    setText(node.name, pool.name || '');
    var total = pool.origins.length;
    var healthy = health ? health.healthy_origins : 0;
    setText(node.badge, 'healthy ' + healthy + '/' + total);
    node.badge.className = 'badge ' + (health && health.healthy ? 'ok' : 'bad');
    node.badge.title = health && health.healthy
      ? 'pool healthy'
      : 'pool unhealthy: fewer than ' + (health ? health.minimum_origins : '?') + ' healthy origins';
    var notes = [];
    if (pool.enabled === false) notes.push('pool disabled');
    if (health) notes.push('needs ' + health.minimum_origins);
    if (pool.origin_steering && pool.origin_steering.policy) notes.push(pool.origin_steering.policy.replace(/_/g, ' '));
    setText(node.note, notes.join(' · '));

    var seen = new Set();
    pool.origins.forEach(function (origin, index) {
      seen.add(origin.name);
      var row = node.rows.get(origin.name) || createRow(node, pool.id, origin.name);
      if (node.tbody.children[index] !== row.tr) node.tbody.insertBefore(row.tr, node.tbody.children[index] || null);
      updateRow(row, origin, originHealth.get(key(pool.id, origin.name)), traffic.get(key(pool.id, origin.name)));
    });
    node.rows.forEach(function (row, name) {
      if (!seen.has(name)) { row.tr.remove(); node.rows.delete(name); }
    });
  }

  function createRow(node, poolId, name) {
    var tr = el('tr', { 'data-testid': 'origin-' + poolId + '-' + name });
    var cells = {
      name: el('th', { scope: 'row', 'data-testid': 'origin-name' }, name),
      address: el('td', { class: 'address', 'data-testid': 'address' }),
      weight: el('td', { class: 'num', 'data-testid': 'weight' }),
      state: el('td', { 'data-testid': 'state' }),
      health: el('td', { 'data-testid': 'health' }),
      requests: el('td', { class: 'num', 'data-testid': 'requests' }),
      p50: el('td', { class: 'num', 'data-testid': 'p50' }),
      p95: el('td', { class: 'num', 'data-testid': 'p95' }),
      actions: el('td')
    };
    var healthWord = el('span');
    var reason = el('span', { class: 'reason', 'data-testid': 'health-reason' });
    cells.health.append(healthWord, reason);

    var box = el('div', { class: 'actions' });
    var drain = el('button', { type: 'button', 'data-testid': 'drain' });
    var enable = el('button', { type: 'button', 'data-testid': 'enable' });
    var form = el('form', { novalidate: '', 'data-testid': 'weight-form' });
    var inputId = 'weight-' + poolId + '-' + name;
    var label = el('label', { class: 'sr-only', for: inputId }, 'New weight of ' + name + ' in pool ' + poolId);
    var input = el('input', { id: inputId, type: 'number', min: '0', step: 'any', inputmode: 'decimal', 'data-testid': 'weight-input' });
    var set = el('button', { type: 'submit', 'data-testid': 'weight-set', 'aria-label': 'Set the weight of ' + name }, 'Set weight');
    form.append(label, input, set);
    box.append(drain, enable, form);
    var error = el('div', { class: 'error', role: 'alert', 'data-testid': 'origin-error' });
    cells.actions.append(box, error);
    Object.keys(cells).forEach(function (k) { tr.appendChild(cells[k]); });

    var row = { tr: tr, cells: cells, healthWord: healthWord, reason: reason, drain: drain, enable: enable, input: input, set: set, error: error, origin: null };
    var patch = function (body) { return patchOrigin(row, poolId, name, body); };
    drain.addEventListener('click', function () { patch({ drain: !(row.origin && row.origin.drain) }); });
    enable.addEventListener('click', function () { patch({ enabled: !(row.origin && row.origin.enabled !== false) }); });
    input.addEventListener('input', function () { input.dataset.dirty = 'true'; });
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var raw = input.value.trim();
      if (raw === '') { showError(error, { message: 'enter a weight (0 takes the origin out of rotation)' }); return; }
      patch({ weight: Number(raw) }).then(function (ok) { if (ok) delete input.dataset.dirty; });
    });
    node.rows.set(name, row);
    return row;
  }

  function updateRow(row, origin, health, traffic) {
    row.origin = origin;
    var c = row.cells;
    setText(c.address, origin.address);
    setText(c.weight, String(origin.weight === undefined ? 1 : origin.weight));
    var s = originState(origin);
    setText(c.state, s);
    c.state.className = s === 'active' ? '' : 'state-' + s.split('+')[0];
    var h = health ? health.state : 'unknown';
    setText(row.healthWord, h);
    row.healthWord.className = 'health-' + h;
    var reason = health && health.reason ? health.reason : '';
    if (health && health.rtt_ms !== null && health.rtt_ms !== undefined && !reason) reason = 'rtt ' + ms(health.rtt_ms);
    setText(row.reason, reason);
    setText(c.requests, traffic ? traffic.requests.toLocaleString('en-US') : '0');
    setText(c.p50, ms(traffic && traffic.latency_ms ? traffic.latency_ms.p50 : null));
    setText(c.p95, ms(traffic && traffic.latency_ms ? traffic.latency_ms.p95 : null));
    var draining = origin.drain === true;
    var enabled = origin.enabled !== false;
    setText(row.drain, draining ? 'Undrain' : 'Drain');
    row.drain.setAttribute('aria-label', (draining ? 'Undrain ' : 'Drain ') + origin.name);
    setText(row.enable, enabled ? 'Disable' : 'Enable');
    row.enable.setAttribute('aria-label', (enabled ? 'Disable ' : 'Enable ') + origin.name);
    if (document.activeElement !== row.input && !row.input.dataset.dirty) row.input.value = String(origin.weight === undefined ? 1 : origin.weight);
  }

  async function patchOrigin(row, poolId, name, body) {
    var buttons = [row.drain, row.enable, row.set];
    buttons.forEach(function (b) { b.disabled = true; });
    try {
      await api('PATCH', '/pools/' + encodeURIComponent(poolId) + '/origins/' + encodeURIComponent(name), body);
      showError(row.error, null);
      refreshNow();
      return true;
    } catch (err) {
      if (!err.handled) showError(row.error, err);
      return false;
    } finally {
      buttons.forEach(function (b) { b.disabled = false; });
    }
  }

  // ---- the PoP map ----

  function hostOf(hostname) {
    if (hostname === '*') return PLACEHOLDER_HOST;
    if (hostname.indexOf('*.') === 0) return 'dashboard.' + hostname.slice(2);
    return hostname;
  }

  function renderHosts(configDoc) {
    var lbs = (configDoc.config && configDoc.config.load_balancers) || [];
    var hosts = lbs.map(function (lb) { return { value: hostOf(lb.hostname), label: lb.hostname + ' (' + lb.id + ')' }; });
    var next = JSON.stringify(hosts);
    if (next === state.hostsKey) return;
    state.hostsKey = next;
    var previous = els.hostSelect.value;
    els.hostSelect.textContent = '';
    hosts.forEach(function (h) { els.hostSelect.appendChild(el('option', { value: h.value }, h.label)); });
    if (hosts.length === 0) els.hostSelect.appendChild(el('option', { value: '' }, 'no load balancer'));
    if (hosts.some(function (h) { return h.value === previous; })) els.hostSelect.value = previous;
    els.hostSelect.disabled = hosts.length === 0;
  }

  async function refreshMap(generation) {
    var host = els.hostSelect.value;
    var doc;
    showError(els.mapError, null);
    if (host) {
      try {
        doc = await api('GET', '/pops?host=' + encodeURIComponent(host));
        setText(els.mapNote, 'PoP colour: the pool new clients there are steered to for ' + host + '.');
      } catch (err) {
        if (err.handled) throw err;
        showError(els.mapError, err);
      }
    }
    if (!doc) {
      doc = await api('GET', '/pops');
      setText(els.mapNote, host ? '' : 'No load balancer: PoPs are shown without steering.');
    }
    if (generation !== state.generation) return;
    state.pops = doc.pops || [];
    renderMap();
  }

  function svg(tag, attrs) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    return node;
  }

  // The equirectangular projection of the page's map: 1 unit per degree.
  function x(lon) { return Math.round((lon + 180) * 100) / 100; }
  function y(lat) { return Math.round((90 - lat) * 100) / 100; }

  function createPop(pop) {
    var g = svg('g', { class: 'pop', 'data-testid': 'pop-' + pop.colo, 'data-colo': pop.colo });
    var cx = x(pop.longitude), cy = y(pop.latitude), d = 1.1;
    var dot = svg('circle', { class: 'dot', cx: String(cx), cy: String(cy), r: '1.7' });
    var at = function (dx, dy) { return (cx + dx).toFixed(2) + ' ' + (cy + dy).toFixed(2); };
    var cross = svg('path', { class: 'cross', d: 'M' + at(-d, -d) + 'L' + at(d, d) + 'M' + at(-d, d) + 'L' + at(d, -d) });
    var title = svg('title');
    g.append(dot, cross, title);
    var node = { g: g, dot: dot, cross: cross, title: title };
    state.popNodes.set(pop.colo, node);
    els.mapPops.appendChild(g);
    els.popCodes.appendChild(el('option', { value: pop.colo }, pop.city + ', ' + pop.country));
    return node;
  }

  function popLabel(pop) {
    return pop.colo + ' ' + pop.city + ', ' + pop.country + ' (' + pop.region + ')';
  }

  function renderMap() {
    var counts = new Map();
    var withdrawn = [];
    state.pops.forEach(function (pop) {
      var node = state.popNodes.get(pop.colo) || createPop(pop);
      var color = poolColor(pop.pool);
      node.dot.setAttribute('fill', pop.withdrawn ? '#ffffff' : color);
      node.dot.setAttribute('stroke', pop.withdrawn ? color : '#ffffff');
      node.cross.setAttribute('visibility', pop.withdrawn ? 'visible' : 'hidden');
      node.g.classList.toggle('withdrawn', pop.withdrawn);
      node.g.classList.toggle('selected', pop.colo === state.selected);
      node.g.setAttribute('data-withdrawn', String(pop.withdrawn));
      node.g.setAttribute('data-pool', pop.pool === undefined || pop.pool === null ? '' : pop.pool);
      var steer = pop.pool === undefined ? '' : pop.pool === null ? ': no pool' : ': pool ' + pop.pool;
      setText(node.title, popLabel(pop) + steer + (pop.withdrawn ? ' (withdrawn)' : ''));
      if (pop.withdrawn) withdrawn.push(pop);
      else counts.set(pop.pool === undefined ? null : pop.pool, (counts.get(pop.pool === undefined ? null : pop.pool) || 0) + 1);
    });
    // The selected PoP is drawn last, on top of its neighbours.
    var selected = state.selected && state.popNodes.get(state.selected);
    if (selected && els.mapPops.lastChild !== selected.g) els.mapPops.appendChild(selected.g);
    renderPoolSites();
    renderLegend(counts, withdrawn.length);
    renderWithdrawn(withdrawn);
    renderDetail();
  }

  function renderPoolSites() {
    els.mapPools.textContent = '';
    var pools = (state.config && state.config.config && state.config.config.pools) || [];
    pools.forEach(function (pool) {
      if (typeof pool.latitude !== 'number' || typeof pool.longitude !== 'number') return;
      var cx = x(pool.longitude), cy = y(pool.latitude);
      var site = svg('rect', {
        class: 'pool-site', x: String(cx - 2.2), y: String(cy - 2.2), width: '4.4', height: '4.4',
        fill: poolColor(pool.id), transform: 'rotate(45 ' + cx + ' ' + cy + ')', 'aria-hidden': 'true'
      });
      var label = svg('text', { class: 'pool-label', x: String(cx + 3.4), y: String(cy - 2.6), 'aria-hidden': 'true' });
      label.textContent = pool.id;
      els.mapPools.append(site, label);
    });
  }

  function legendIcon(kind, color) {
    var icon = svg('svg', { width: '14', height: '14', viewBox: '-4 -4 8 8', 'aria-hidden': 'true' });
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

  function renderLegend(counts, withdrawnCount) {
    els.legend.textContent = '';
    var pools = (state.config && state.config.config && state.config.config.pools) || [];
    var item = function (icon, text, count, testid) {
      var li = el('li', testid ? { 'data-testid': testid } : null);
      li.append(icon, document.createTextNode(' ' + text + ' '));
      if (count !== undefined) li.appendChild(el('span', { class: 'count' }, '(' + count + ' PoP' + (count === 1 ? '' : 's') + ')'));
      els.legend.appendChild(li);
    };
    pools.forEach(function (pool) {
      item(legendIcon('pop', poolColor(pool.id)), pool.id + (pool.name ? ' — ' + pool.name : ''), counts.get(pool.id) || 0, 'legend-' + pool.id);
    });
    if (counts.has(null)) item(legendIcon('pop', NO_POOL), els.hostSelect.value ? 'no pool' : 'not steered', counts.get(null), 'legend-none');
    item(legendIcon('withdrawn'), 'withdrawn', withdrawnCount, 'legend-withdrawn');
    if (pools.some(function (p) { return typeof p.latitude === 'number'; })) item(legendIcon('site', '#ffffff'), 'pool location');
  }

  function renderWithdrawn(withdrawn) {
    var next = withdrawn.map(function (p) { return p.colo; }).join(',');
    if (next === state.withdrawnKey) return;
    state.withdrawnKey = next;
    els.withdrawnList.textContent = '';
    if (withdrawn.length === 0) {
      els.withdrawnList.appendChild(el('li', { class: 'hint' }, 'none'));
      return;
    }
    withdrawn.forEach(function (pop) {
      var li = el('li', { 'data-testid': 'withdrawn-' + pop.colo }, pop.colo + ' ' + pop.city + ' ');
      var restore = el('button', { type: 'button', 'data-testid': 'restore-' + pop.colo, 'aria-label': 'Restore ' + pop.colo }, 'Restore');
      restore.addEventListener('click', function () { setWithdrawn(pop.colo, false, restore); });
      li.appendChild(restore);
      els.withdrawnList.appendChild(li);
    });
  }

  function select(colo) {
    var previous = state.selected && state.popNodes.get(state.selected);
    if (previous) previous.g.classList.remove('selected');
    state.selected = colo;
    state.detailKey = '';
    renderMap();
  }

  function renderDetail() {
    var pop = state.pops.find(function (p) { return p.colo === state.selected; });
    var next = pop ? JSON.stringify([pop.colo, pop.withdrawn, pop.pool]) : '';
    if (next === state.detailKey) return;
    state.detailKey = next;
    els.popDetail.textContent = '';
    if (!pop) {
      els.popDetail.appendChild(el('p', { class: 'hint' }, 'Click a PoP on the map, or name one below.'));
      return;
    }
    els.popDetail.appendChild(el('h3', { 'data-testid': 'pop-detail-title' }, pop.colo + ' — ' + pop.city + ', ' + pop.country));
    var dl = el('dl');
    var row = function (term, value, testid) {
      dl.append(el('dt', null, term), el('dd', testid ? { 'data-testid': testid } : null, value));
    };
    row('Region', pop.region);
    if (pop.pool !== undefined) row('Steered to', pop.pool === null ? 'no pool' : 'pool ' + pop.pool, 'pop-detail-pool');
    row('Status', pop.withdrawn ? 'withdrawn: its clients go to the next nearest PoP' : 'in service', 'pop-detail-status');
    els.popDetail.appendChild(dl);
    var toggle = el('button', { type: 'button', class: 'primary', 'data-testid': 'pop-toggle' }, (pop.withdrawn ? 'Restore ' : 'Withdraw ') + pop.colo);
    toggle.addEventListener('click', function () { setWithdrawn(pop.colo, !pop.withdrawn, toggle); });
    var error = el('p', { class: 'error', id: 'pop-error', role: 'alert', 'data-testid': 'pop-error' });
    els.popDetail.append(toggle, error);
  }

  async function setWithdrawn(colo, withdrawn, button) {
    if (button) button.disabled = true;
    try {
      var result = await api('PUT', '/pops/' + encodeURIComponent(colo), { withdrawn: withdrawn });
      var pop = state.pops.find(function (p) { return p.colo === colo; });
      if (pop && result && result.pop) pop.withdrawn = result.pop.withdrawn;
      renderMap();
      refreshNow();
    } catch (err) {
      if (err.handled) return;
      var target = byId('pop-error') || els.mapError;
      showError(target, err);
    } finally {
      if (button) button.disabled = false;
    }
  }

  // ---- wiring ----

  els.form.addEventListener('submit', function (event) {
    event.preventDefault();
    var value = els.input.value.trim();
    els.input.value = '';
    if (!value) { els.loginMessage.textContent = 'Enter the admin token.'; return; }
    setToken(value);
    els.loginMessage.textContent = '';
    start();
  });
  els.logout.addEventListener('click', function () {
    stop();
    setToken(null);
    show('login');
  });
  els.retry.addEventListener('click', function () {
    if (token()) start(); else show('login');
  });
  els.confirmYes.addEventListener('click', function () { confirmRollback(); });
  els.confirmNo.addEventListener('click', function () { cancelRollback(true); });
  els.confirm.addEventListener('keydown', function (event) {
    if (event.key === 'Escape') { event.preventDefault(); cancelRollback(true); }
  });
  els.hostSelect.addEventListener('change', function () { state.detailKey = ''; refreshNow(); });
  // Where dots overlap (Europe), a click picks the PoP whose centre is nearest, not the
  // one drawn on top.
  els.map.addEventListener('click', function (event) {
    var matrix = els.map.getScreenCTM();
    if (!matrix) return;
    var point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    var best = null, bestDistance = 9; // within 3 degrees
    state.pops.forEach(function (pop) {
      var dx = x(pop.longitude) - point.x, dy = y(pop.latitude) - point.y, distance = dx * dx + dy * dy;
      if (distance < bestDistance) { best = pop; bestDistance = distance; }
    });
    if (best) select(best.colo);
  });
  els.popForm.addEventListener('submit', function (event) {
    event.preventDefault();
    var colo = els.popInput.value.trim().toUpperCase();
    if (!state.popNodes.has(colo)) {
      showError(els.mapError, { message: 'no PoP "' + colo + '": the map lists them' });
      return;
    }
    showError(els.mapError, null);
    select(colo);
  });
  document.addEventListener('visibilitychange', function () {
    if (!document.hidden && token() && !els.app.hidden) refreshNow();
  });

  if (token()) start(); else show('login');
})();
`;
