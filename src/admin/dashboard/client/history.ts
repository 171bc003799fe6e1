import { type AdminApi, handled } from './api';
import { el, setText, showError } from './dom';
import type { PageElements } from './page';
import type { Rollback, Stale, Version, VersionsDocument } from './types';

// The configuration history: the newest kept versions (GET /config/versions), the
// current one marked, and a rollback on each older one that asks in the page first
// (POST /config/rollback stores the chosen configuration again, as a new version).

/** How many of the kept configuration versions the panel lists. */
const HISTORY_ROWS = 10;

function when(at: string): string {
  const date = new Date(at);
  return isNaN(date.getTime()) ? String(at) : date.toLocaleString();
}

export class HistoryPanel {
  readonly #els: PageElements;
  readonly #api: AdminApi;
  readonly #refreshNow: () => void;
  /** The configuration version the list was last asked for with; null: ask again. */
  #listedFor: number | null = null;
  /** The configuration version the last refresh saw. */
  #current: number | null = null;
  #key = '';
  /** The list's own error is shown (not a refused rollback's). */
  #listError = false;
  /** The version the open question is about. */
  #pending: number | null = null;
  #buttons = new Map<number, HTMLButtonElement>();

  constructor(els: PageElements, api: AdminApi, refreshNow: () => void) {
    this.#els = els;
    this.#api = api;
    this.#refreshNow = refreshNow;
    els.confirmYes.addEventListener('click', () => void this.#confirm());
    els.confirmNo.addEventListener('click', () => this.#cancel(true));
    els.confirm.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        this.#cancel(true);
      }
    });
  }

  /** After signing in again: the list is asked for afresh and no question stays open. */
  reset(): void {
    this.#listedFor = null;
    this.#cancel(false);
  }

  /**
   * The version list changes only with the configuration, so it is asked for again
   * only when GET /config names another version (or after a failure). An API without
   * the history (an older Worker) leaves a message in the panel and the rest works.
   */
  async refresh(current: number, stale: Stale): Promise<void> {
    this.#current = current;
    if (this.#listedFor === current) return;
    let doc: VersionsDocument | null;
    try {
      doc = await this.#api.call<VersionsDocument | null>('GET', '/config/versions');
    } catch (err) {
      if (handled(err)) throw err;
      if (!stale()) {
        showError(this.#els.historyError, err);
        this.#listError = true;
      }
      return;
    }
    if (stale()) return;
    // A refused rollback's error stays until the next question.
    if (this.#listError) {
      showError(this.#els.historyError, null);
      this.#listError = false;
    }
    this.#listedFor = current;
    this.#render(Array.isArray(doc?.versions) ? doc.versions : [], current);
  }

  /** Redrawn only when the list or the current version changes, so a screen reader's place survives the polling. */
  #render(versions: unknown[], current: number): void {
    const list = versions
      .filter((v): v is Version => v !== null && typeof v === 'object' && typeof (v as Version).version === 'number')
      .slice(0, HISTORY_ROWS);
    const next = JSON.stringify([current, list.map((v) => [v.version, v.at, v.actor, v.summary])]);
    if (next === this.#key) return;
    this.#key = next;
    this.#buttons = new Map();
    const body = this.#els.historyList;
    body.textContent = '';
    if (list.length === 0) {
      const empty = el('tr');
      empty.appendChild(el('td', { colspan: '5', class: 'hint' }, 'No versions kept yet: the first change stores one.'));
      body.appendChild(empty);
    }
    for (const v of list) body.appendChild(this.#row(v, v.version === current));
    // A question about a version no longer listed (or now current) is withdrawn.
    if (this.#pending !== null && !this.#buttons.has(this.#pending)) this.#cancel(false);
  }

  #row(v: Version, isCurrent: boolean): HTMLTableRowElement {
    const tr = el('tr', { 'data-testid': `version-${v.version}`, 'data-version': String(v.version), 'data-current': String(isCurrent) });
    if (isCurrent) {
      tr.className = 'current';
      tr.setAttribute('aria-current', 'true');
    }
    const at = el('td', { 'data-testid': 'version-at' });
    at.appendChild(el('time', { datetime: String(v.at) }, when(v.at)));
    const actions = el('td', { 'data-testid': 'version-actions' });
    if (isCurrent) {
      actions.appendChild(el('span', { class: 'badge ok', 'data-testid': 'version-current' }, 'current'));
    } else {
      const button = el('button', { type: 'button', 'data-testid': 'rollback', 'aria-label': `Roll back to version ${v.version}` }, 'Roll back');
      button.addEventListener('click', () => this.#ask(v));
      this.#buttons.set(v.version, button);
      actions.appendChild(button);
    }
    tr.append(
      el('th', { scope: 'row', class: 'num', 'data-testid': 'version-number' }, String(v.version)),
      at,
      el('td', { class: 'actor', 'data-testid': 'version-actor' }, String(v.actor || '')),
      el('td', { 'data-testid': 'version-summary' }, String(v.summary || '')),
      actions,
    );
    return tr;
  }

  #ask(v: Version): void {
    const els = this.#els;
    this.#pending = v.version;
    setText(els.historyNote, '');
    showError(els.historyError, null);
    const current = this.#current;
    setText(
      els.confirmQuestion,
      `Roll back to version ${v.version} (${when(v.at)}: ${String(v.summary || '')})? ` +
        `Its configuration becomes current as a new version${current === null ? '' : `; version ${current} stays in the history`}.`,
    );
    setText(els.confirmYes, `Roll back to version ${v.version}`);
    els.confirmYes.disabled = false;
    els.confirmNo.disabled = false;
    els.confirm.hidden = false;
    els.confirmYes.focus();
  }

  /** Closes the question; with refocus, focus goes back to the button that asked it. */
  #cancel(refocus: boolean): void {
    const version = this.#pending;
    this.#pending = null;
    this.#els.confirm.hidden = true;
    const button = version === null ? undefined : this.#buttons.get(version);
    if (refocus && button) button.focus();
  }

  async #confirm(): Promise<void> {
    const els = this.#els;
    const version = this.#pending;
    if (version === null) return;
    els.confirmYes.disabled = true;
    els.confirmNo.disabled = true;
    try {
      const result = await this.#api.call<Rollback | null>('POST', '/config/rollback', { version });
      this.#cancel(false);
      const warnings = Array.isArray(result?.warnings) ? result.warnings.length : 0;
      setText(
        els.historyNote,
        `Version ${version} restored as version ${result ? result.version : '?'}` +
          (warnings ? ` (${warnings} warning${warnings === 1 ? '' : 's'}, listed above)` : '') +
          '.',
      );
    } catch (err) {
      els.confirmYes.disabled = false;
      els.confirmNo.disabled = false;
      if (handled(err)) return;
      this.#cancel(true);
      showError(els.historyError, err);
      this.#listError = false;
    }
    // The list and the configuration view follow, whether it worked or not.
    this.#listedFor = null;
    this.#refreshNow();
  }
}
