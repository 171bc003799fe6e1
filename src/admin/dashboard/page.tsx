import type { FC } from 'hono/jsx';

// The dashboard's page: a static shell the script (dashboard.js) fills from the admin
// API. It holds no data and no token, so it is served without authentication.

const LoginPanel: FC = () => (
  <section class="panel login" id="login" aria-labelledby="login-title" data-testid="login">
    <h2 id="login-title">Sign in</h2>
    <form id="token-form" data-testid="token-form" autocomplete="off">
      <label for="token-input">Admin token</label>
      <div class="row">
        {/* No name attribute: even without the script, the token is never submitted. */}
        <input id="token-input" type="password" required autocomplete="off" spellcheck={false} data-testid="token-input" />
        <button class="primary" type="submit" data-testid="token-submit">
          Open
        </button>
      </div>
      <p class="hint">
        The ADMIN_TOKEN secret. It stays in this tab's session storage and is sent as <code>Authorization: Bearer</code> to the
        admin API only.
      </p>
      <p class="message" id="login-message" role="alert" data-testid="login-message"></p>
    </form>
  </section>
);

const DisabledPanel: FC = () => (
  <section class="panel notice" id="admin-disabled" data-testid="admin-disabled" hidden>
    <h2>The admin API is disabled</h2>
    <p id="admin-disabled-message">
      No ADMIN_TOKEN secret is set, so every admin call answers 503 <code>admin_disabled</code> while proxying goes on. Set it
      with <code>wrangler secret put ADMIN_TOKEN</code> (or in <code>.dev.vars</code> locally).
    </p>
    <button type="button" id="retry" data-testid="retry">
      Try again
    </button>
  </section>
);

/** What the configuration asks for that is valid but will not work on Cloudflare's edge (SPEC §7, §10); hidden when there is none. */
const WarningsPanel: FC = () => (
  <section class="panel warnings" id="warnings" aria-labelledby="warnings-title" data-testid="warnings" hidden>
    <h2 id="warnings-title">
      Configuration warnings <span class="count" id="warnings-count" data-testid="warnings-count"></span>
    </h2>
    <p class="hint">
      Valid and in service here, but these will not work on Cloudflare's edge (SPEC.md §10). They never block a change.
    </p>
    <ul class="warning-list" id="warnings-list" data-testid="warnings-list" aria-live="polite"></ul>
  </section>
);

const PoolsPanel: FC = () => (
  <section class="panel" aria-labelledby="pools-title">
    <h2 id="pools-title">Pools and origins</h2>
    <div id="pools" data-testid="pools">
      <p class="hint">Loading…</p>
    </div>
  </section>
);

/** Each load balancer's hostname and steering, and its rules in the order they are tried (SPEC §9). */
const LoadBalancersPanel: FC = () => (
  <section class="panel" aria-labelledby="lbs-title">
    <h2 id="lbs-title">Load balancers and rules</h2>
    <div id="load-balancers" data-testid="load-balancers">
      <p class="hint">Loading…</p>
    </div>
  </section>
);

/**
 * The last configuration versions (GET /config/versions), the current one marked, each
 * older one with a rollback that asks first, in the page: the question below the list.
 */
const HistoryPanel: FC = () => (
  <section class="panel history" id="history" aria-labelledby="history-title" data-testid="history">
    <h2 id="history-title">Configuration history</h2>
    <p class="hint">
      The 10 newest of the kept versions (the admin API keeps the last 50). A rollback stores the chosen version's
      configuration again, as a new version; nothing is lost from the history.
    </p>
    <div class="table-wrap">
      <table>
        <caption class="sr-only">Configuration versions, newest first</caption>
        <thead>
          <tr>
            <th scope="col" class="num">
              Version
            </th>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Summary</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody id="history-list" data-testid="history-list"></tbody>
      </table>
    </div>
    <div class="confirm" id="rollback-confirm" role="group" aria-labelledby="rollback-question" data-testid="rollback-confirm" hidden>
      <p id="rollback-question" data-testid="rollback-question"></p>
      <div class="actions">
        <button type="button" class="primary" id="rollback-yes" data-testid="rollback-yes">
          Roll back
        </button>
        <button type="button" id="rollback-no" data-testid="rollback-no">
          Cancel
        </button>
      </div>
    </div>
    <p class="hint note" id="history-note" role="status" data-testid="history-note"></p>
    <p class="error" id="history-error" role="alert" data-testid="history-error"></p>
  </section>
);

const MapPanel: FC = () => (
  <section class="panel" aria-labelledby="map-title">
    <h2 id="map-title">PoPs and the pools they steer to</h2>
    <div class="map-controls">
      <label>
        Load balancer host{' '}
        <select id="host-select" data-testid="host-select"></select>
      </label>
      <span class="hint" id="map-note" data-testid="map-note"></span>
    </div>
    <p class="error" id="map-error" role="alert" data-testid="map-error"></p>
    <div class="map-layout">
      {/* The client draws the world (src/geo/world-map.ts) into #map-land and sets the viewBox. */}
      <svg
        class="map"
        id="pop-map"
        data-testid="pop-map"
        role="group"
        aria-label="World map of the PoPs, coloured by the pool their clients are steered to; select a PoP to withdraw or restore it"
      >
        <g id="map-land" aria-hidden="true"></g>
        <g id="map-pops"></g>
        <g id="map-pools"></g>
      </svg>
      <div>
        <h3>Legend</h3>
        <ul class="legend" id="legend" data-testid="legend"></ul>
        <div class="pop-detail" id="pop-detail" data-testid="pop-detail" aria-live="polite">
          <p class="hint">Click a PoP on the map, or name one below.</p>
        </div>
        <form class="pop-form" id="pop-form" data-testid="pop-form" novalidate>
          <label class="sr-only" for="pop-input">
            PoP colo code
          </label>
          <input id="pop-input" list="pop-codes" placeholder="FRA" maxlength={3} autocomplete="off" data-testid="pop-input" />
          <datalist id="pop-codes"></datalist>
          <button type="submit">Select PoP</button>
        </form>
        <h3>Withdrawn</h3>
        <ul class="withdrawn-list" id="withdrawn-list" data-testid="withdrawn-list"></ul>
      </div>
    </div>
  </section>
);

export const DashboardPage: FC = () => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="referrer" content="no-referrer" />
      <title>Switchyard dashboard</title>
      <link rel="stylesheet" href="/__lb/dashboard.css" />
      <script src="/__lb/dashboard.js" defer></script>
    </head>
    <body>
      <header class="top">
        <h1>Switchyard</h1>
        <span class="meta" id="version" data-testid="version"></span>
        <span class="spacer"></span>
        <span class="meta" id="status" role="status" data-testid="status"></span>
        <button type="button" id="logout" data-testid="logout" hidden>
          Forget token
        </button>
      </header>
      <main>
        <noscript>
          <p class="panel notice">The dashboard needs JavaScript; the admin API works without it (see the README).</p>
        </noscript>
        <LoginPanel />
        <DisabledPanel />
        <div id="app" data-testid="app" hidden>
          <WarningsPanel />
          <PoolsPanel />
          <LoadBalancersPanel />
          <HistoryPanel />
          <MapPanel />
        </div>
      </main>
    </body>
  </html>
);
