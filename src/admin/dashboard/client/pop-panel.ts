import { type AdminApi, handled } from './api';
import { el, showError } from './dom';
import type { PageElements } from './page';
import type { Pop, PopChange } from './types';

// Beside the map: the selected PoP (region, the pool it steers to, in service or
// withdrawn, and the button that withdraws or restores it) and the list of withdrawn
// PoPs, each with its own restore button. A change is PUT /pops/:colo.

export const popLabel = (pop: Pop) => `${pop.colo} ${pop.city}, ${pop.country} (${pop.region})`;

/** Told when the API has withdrawn or restored a PoP, with its state as the API answered (undefined if it did not say). */
export type PopChanged = (colo: string, withdrawn: boolean | undefined) => void;

export class PopPanel {
  readonly #els: PageElements;
  readonly #api: AdminApi;
  readonly #changed: PopChanged;
  #detailKey = '';
  #withdrawnKey = '';
  /** Where the selected PoP's errors show; without one, under the map. */
  #error: HTMLElement | null = null;

  constructor(els: PageElements, api: AdminApi, changed: PopChanged) {
    this.#els = els;
    this.#api = api;
    this.#changed = changed;
  }

  /** The next renderDetail draws afresh (another PoP selected, another host picked). */
  forgetDetail(): void {
    this.#detailKey = '';
  }

  /** Redrawn only when the PoP, its state or its pool changes, so focus survives the polling. */
  renderDetail(pop: Pop | undefined): void {
    const next = pop ? JSON.stringify([pop.colo, pop.withdrawn, pop.pool]) : '';
    if (next === this.#detailKey) return;
    this.#detailKey = next;
    const detail = this.#els.popDetail;
    detail.textContent = '';
    this.#error = null;
    if (!pop) {
      detail.appendChild(el('p', { class: 'hint' }, 'Click a PoP on the map, or name one below.'));
      return;
    }
    detail.appendChild(el('h3', { 'data-testid': 'pop-detail-title' }, `${pop.colo} — ${pop.city}, ${pop.country}`));
    const dl = el('dl');
    const row = (term: string, value: string, testid?: string) => dl.append(el('dt', null, term), el('dd', testid ? { 'data-testid': testid } : null, value));
    row('Region', pop.region);
    if (pop.pool !== undefined) row('Steered to', pop.pool === null ? 'no pool' : `pool ${pop.pool}`, 'pop-detail-pool');
    row('Status', pop.withdrawn ? 'withdrawn: its clients go to the next nearest PoP' : 'in service', 'pop-detail-status');
    detail.appendChild(dl);
    const toggle = el('button', { type: 'button', class: 'primary', 'data-testid': 'pop-toggle' }, `${pop.withdrawn ? 'Restore ' : 'Withdraw '}${pop.colo}`);
    toggle.addEventListener('click', () => void this.#setWithdrawn(pop.colo, !pop.withdrawn, toggle));
    this.#error = el('p', { class: 'error', id: 'pop-error', role: 'alert', 'data-testid': 'pop-error' });
    detail.append(toggle, this.#error);
  }

  renderWithdrawn(withdrawn: Pop[]): void {
    const next = withdrawn.map((p) => p.colo).join(',');
    if (next === this.#withdrawnKey) return;
    this.#withdrawnKey = next;
    const list = this.#els.withdrawnList;
    list.textContent = '';
    if (withdrawn.length === 0) {
      list.appendChild(el('li', { class: 'hint' }, 'none'));
      return;
    }
    for (const pop of withdrawn) {
      const li = el('li', { 'data-testid': `withdrawn-${pop.colo}` }, `${pop.colo} ${pop.city} `);
      const restore = el('button', { type: 'button', 'data-testid': `restore-${pop.colo}`, 'aria-label': `Restore ${pop.colo}` }, 'Restore');
      restore.addEventListener('click', () => void this.#setWithdrawn(pop.colo, false, restore));
      li.appendChild(restore);
      list.appendChild(li);
    }
  }

  async #setWithdrawn(colo: string, withdrawn: boolean, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      const result = await this.#api.call<PopChange | null>('PUT', `/pops/${encodeURIComponent(colo)}`, { withdrawn });
      this.#changed(colo, result?.pop?.withdrawn);
    } catch (err) {
      if (handled(err)) return;
      showError(this.#error ?? this.#els.mapError, err);
    } finally {
      button.disabled = false;
    }
  }
}
