import { AdminApi, type ApiError } from './api';
import { setToken, show, token } from './auth';
import { HistoryPanel } from './history';
import { LoadBalancersPanel } from './load-balancers';
import { MapPanel } from './map';
import { pageElements } from './page';
import { Poller } from './poller';
import { PoolsPanel } from './pools';
import { WarningsPanel } from './warnings';

// The dashboard's client, served as /__lb/dashboard.js (scripts/build-dashboard.mjs
// bundles it). Everything it shows comes from the authenticated admin API; the token
// lives in this tab's sessionStorage only and travels as `Authorization: Bearer`.

const els = pageElements();

function refused(err: ApiError): void {
  poller.stop();
  if (err.status === 401) {
    setToken(null);
    show(els, 'login', `The admin API refused the token (${err.status} ${err.code}: ${err.message}). Enter it again.`);
  } else {
    els.disabledMessage.textContent = err.message;
    show(els, 'disabled');
  }
}

const api = new AdminApi(refused);
const refreshNow = () => poller.refreshNow();
const poller = new Poller(els, api, {
  warnings: new WarningsPanel(els),
  history: new HistoryPanel(els, api, refreshNow),
  pools: new PoolsPanel(els.pools, api, refreshNow),
  loadBalancers: new LoadBalancersPanel(els.loadBalancers),
  map: new MapPanel(els, api, refreshNow),
});

els.form.addEventListener('submit', (event) => {
  event.preventDefault();
  const value = els.input.value.trim();
  els.input.value = '';
  if (!value) {
    els.loginMessage.textContent = 'Enter the admin token.';
    return;
  }
  setToken(value);
  els.loginMessage.textContent = '';
  poller.start();
});
els.logout.addEventListener('click', () => {
  poller.stop();
  setToken(null);
  show(els, 'login');
});
els.retry.addEventListener('click', () => {
  if (token()) poller.start();
  else show(els, 'login');
});
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && token() && !els.app.hidden) poller.refreshNow();
});

if (token()) poller.start();
else show(els, 'login');
