import { ApiError, type AdminApi, describe, handled } from './api';
import { show, token } from './auth';
import { poolColors } from './colors';
import type { HistoryPanel } from './history';
import type { LoadBalancersPanel } from './load-balancers';
import type { MapPanel } from './map';
import type { PageElements } from './page';
import type { PoolsPanel } from './pools';
import type { ConfigDocument, HealthDocument, StatsDocument } from './types';
import type { WarningsPanel } from './warnings';

// The dashboard's refresh: every 2 s, the configuration, health and stats, then the
// history (when the configuration changed) and the PoPs, each panel drawn from them.
// One refresh at a time; a change made in the page asks for one at once. Each start
// or stop opens a new generation, and answers to an older one are dropped.

const POLL_MS = 2000;

export interface Panels {
  warnings: WarningsPanel;
  history: HistoryPanel;
  pools: PoolsPanel;
  loadBalancers: LoadBalancersPanel;
  map: MapPanel;
}

export class Poller {
  readonly #els: PageElements;
  readonly #api: AdminApi;
  readonly #panels: Panels;
  #generation = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #inFlight = false;
  #again = false;

  constructor(els: PageElements, api: AdminApi, panels: Panels) {
    this.#els = els;
    this.#api = api;
    this.#panels = panels;
  }

  /** Signed in (again): the first refresh, the dashboard shown once it answers. */
  start(): void {
    this.stop();
    this.#panels.history.reset();
    show(this.#els, 'loading');
    this.#els.status.textContent = 'Connecting…';
    this.refreshNow();
  }

  /** No more polling; whatever is still on its way is dropped. */
  stop(): void {
    this.#generation += 1;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  refreshNow(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#inFlight) {
      this.#again = true;
      return;
    }
    void this.#refresh();
  }

  async #refresh(): Promise<void> {
    const els = this.#els;
    const { warnings, history, pools, loadBalancers, map } = this.#panels;
    const generation = this.#generation;
    const stale = () => generation !== this.#generation;
    if (!token()) return show(els, 'login');
    // A hidden tab does not poll; it refreshes when shown again.
    if (document.hidden && !els.app.hidden) {
      this.#timer = setTimeout(() => void this.#refresh(), POLL_MS);
      return;
    }
    this.#inFlight = true;
    try {
      const [config, health, stats] = await Promise.all([
        this.#api.call<ConfigDocument>('GET', '/config'),
        this.#api.call<HealthDocument>('GET', '/health'),
        this.#api.call<StatsDocument>('GET', '/stats'),
      ]);
      if (stale()) return;
      warnings.render(config.warnings);
      await history.refresh(config.version, stale);
      if (stale()) return;
      const colors = poolColors(config.config?.pools ?? []);
      pools.render(config, health, stats, colors);
      loadBalancers.render(config.config?.load_balancers ?? []);
      map.renderHosts(config.config?.pools ?? [], config.config?.load_balancers ?? [], colors);
      await map.refresh(stale);
      if (stale()) return;
      els.version.textContent = `configuration version ${config.version} · updated ${new Date().toLocaleTimeString()}`;
      els.status.textContent = '';
      if (els.app.hidden) show(els, 'app');
    } catch (err) {
      if (handled(err) || stale()) return;
      els.status.textContent = `Refresh failed: ${describe(err)}`;
      if (!(err instanceof ApiError)) console.error(err);
    } finally {
      this.#inFlight = false;
      if (!stale() && token()) {
        if (this.#again) {
          this.#again = false;
          void this.#refresh();
        } else {
          this.#timer = setTimeout(() => void this.#refresh(), POLL_MS);
        }
      }
    }
  }
}
