import { el, setText } from './dom';
import type { PageElements } from './page';
import type { Warning } from './types';

// What the configuration asks for that is valid but will not work on Cloudflare's
// edge: code, path, message, one per line; the panel is hidden when there is none.
// Redrawn only when they change, so a screen reader's place survives the polling.

export class WarningsPanel {
  readonly #els: PageElements;
  #key = '';

  constructor(els: PageElements) {
    this.#els = els;
  }

  render(warnings: unknown): void {
    const list = (Array.isArray(warnings) ? warnings : []).filter((w): w is Warning => w !== null && typeof w === 'object');
    const next = JSON.stringify(list.map((w) => [w.code, w.path, w.message]));
    if (next === this.#key) return;
    this.#key = next;
    const els = this.#els;
    els.warnings.hidden = list.length === 0;
    setText(els.warningsCount, `(${list.length})`);
    els.warningsList.textContent = '';
    for (const w of list) {
      const code = String(w.code || 'warning');
      const li = el('li', { 'data-testid': 'warning', 'data-code': code, 'data-path': String(w.path || '') });
      li.append(
        el('span', { class: 'warning-code', 'data-testid': 'warning-code' }, code),
        document.createTextNode(' '),
        el('code', { class: 'warning-path', 'data-testid': 'warning-path' }, w.path ? String(w.path) : '(document)'),
        document.createTextNode(': '),
        el('span', { 'data-testid': 'warning-message' }, String(w.message || '')),
      );
      els.warningsList.appendChild(li);
    }
  }
}
