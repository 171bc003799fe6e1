// The dashboard's stylesheet, served as /__lb/dashboard.css (the page's CSP allows
// no inline style). System fonts only: the dashboard must work without the internet.

export const dashboardStyles = `
:root {
  color-scheme: light;
  --bg: #f6f7f9;
  --panel: #ffffff;
  --text: #1d232b;
  --muted: #55606e;
  --line: #d5dae1;
  --accent: #0b5cad;
  --ok: #11703c;
  --bad: #b3261e;
  --warn: #8a5a00;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); }
header.top {
  display: flex; align-items: center; gap: 1rem; flex-wrap: wrap;
  padding: .6rem 1.25rem; background: #17202b; color: #f2f5f8;
}
header.top h1 { font-size: 1.15rem; margin: 0; letter-spacing: .02em; }
header.top .meta { color: #c3ccd6; font-size: .9rem; }
header.top .spacer { flex: 1; }
header.top button { background: transparent; color: #f2f5f8; border-color: #6b7785; }
main { padding: 1rem 1.25rem 2rem; max-width: 1280px; margin: 0 auto; }
h2 { font-size: 1.1rem; margin: 0 0 .6rem; }
h3 { font-size: 1rem; margin: 0; }
.panel {
  background: var(--panel); border: 1px solid var(--line); border-radius: 8px;
  padding: 1rem 1.1rem; margin-bottom: 1.25rem;
}
.login { max-width: 28rem; margin: 3rem auto; }
.login label { display: block; font-weight: 600; margin-bottom: .3rem; }
.login .row { display: flex; gap: .5rem; }
.login input { flex: 1; }
.hint { color: var(--muted); font-size: .9rem; }
.message { color: var(--bad); font-weight: 600; min-height: 1.3em; margin: .5rem 0 0; }
.message:empty { display: none; }
.notice { border-left: 4px solid var(--warn); }
button, input, select {
  font: inherit; color: inherit; border: 1px solid #8d98a5; border-radius: 5px;
  padding: .25rem .55rem; background: #fff;
}
button { cursor: pointer; background: #f0f3f6; }
button:hover { background: #e3e8ee; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.primary:hover { background: #094c8f; }
button:disabled { opacity: .55; cursor: progress; }
:focus-visible { outline: 3px solid #f0a020; outline-offset: 1px; }
.warnings { border-left: 4px solid var(--warn); }
.warnings h2 .count { color: var(--muted); font-weight: 400; font-size: .9rem; }
.warnings .hint { margin: 0 0 .5rem; }
.warning-list { margin: 0; padding-left: 1.1rem; font-size: .9rem; }
.warning-list li { margin: .2rem 0; }
.warning-code { color: var(--warn); font-weight: 600; }
.warning-path { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .82rem; }
.history tr.current th, .history tr.current td { background: #eef5ee; }
.history td.actor { color: var(--muted); font-size: .85rem; overflow-wrap: anywhere; }
.confirm {
  border: 1px solid var(--warn); border-left-width: 4px; border-radius: 6px;
  padding: .6rem .8rem; margin-top: .8rem; background: #fffaf0;
}
.confirm p { margin: 0 0 .5rem; }
.note { margin: .5rem 0 0; }
.note:empty { display: none; }
.pool, .lb { margin-bottom: 1.1rem; }
.lb > .hint { margin: 0; }
table.rules code.condition {
  font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .85rem;
  white-space: pre-wrap; overflow-wrap: break-word;
}
tr.rule-disabled th, tr.rule-disabled td { color: var(--muted); background: #f1f3f5; }
.pool-head { display: flex; align-items: baseline; gap: .75rem; flex-wrap: wrap; margin-bottom: .4rem; }
.pool-head .name { color: var(--muted); }
.badge {
  display: inline-block; border-radius: 999px; padding: 0 .55rem; font-size: .85rem; font-weight: 600;
  border: 1px solid currentColor;
}
.badge.ok, .health-healthy { color: var(--ok); }
.badge.bad, .health-unhealthy { color: var(--bad); }
.health-unknown { color: var(--warn); }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; vertical-align: -1px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .93rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: .85rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.address { color: var(--muted); font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .85rem; }
.state-drain, .state-backup { color: var(--warn); font-weight: 600; }
.state-disabled { color: var(--bad); font-weight: 600; }
.reason { display: block; color: var(--muted); font-size: .82rem; }
.regions { display: block; font-size: .82rem; }
.actions { display: flex; gap: .35rem; flex-wrap: wrap; align-items: center; }
.actions input { width: 6.5rem; }
.error { color: var(--bad); font-size: .85rem; margin: .3rem 0 0; }
.error:empty { display: none; }
.error ul { margin: .2rem 0 0 1rem; padding: 0; }
.map-controls { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; margin-bottom: .6rem; }
.map-layout { display: grid; grid-template-columns: minmax(0, 3fr) minmax(14rem, 1fr); gap: 1rem; }
@media (max-width: 900px) { .map-layout { grid-template-columns: 1fr; } }
svg.map { width: 100%; height: auto; display: block; border: 1px solid var(--line); border-radius: 6px; background: var(--panel); }
/* Sizes in map units: the frame is 960 wide (src/geo/world-map.ts); the colours of ocean and land come from there too. */
svg.map .ocean { stroke: #a9b8c8; stroke-width: .8; }
svg.map .graticule { stroke-width: .6; }
svg.map .land { stroke-width: .6; stroke-linejoin: round; }
svg.map .pop { cursor: pointer; }
svg.map .pop .dot { stroke: #ffffff; stroke-width: 1; }
svg.map .pop.withdrawn .dot { fill: #ffffff; stroke-width: 1.6; }
svg.map .pop .cross { stroke: #1d232b; stroke-width: 1.2; }
svg.map .pop.selected .dot { stroke: #1d232b; stroke-width: 1.9; }
svg.map .pool-site { stroke: #1d232b; stroke-width: 1.3; pointer-events: none; }
svg.map .pool-label { pointer-events: none; font-size: 12px; font-weight: 700; fill: #1d232b; paint-order: stroke; stroke: #fff; stroke-width: 2.2px; }
.legend { list-style: none; padding: 0; margin: 0 0 .8rem; }
.legend li { margin: .2rem 0; }
.legend .count { color: var(--muted); font-size: .85rem; }
.legend svg { vertical-align: -2px; }
.pop-detail dl { display: grid; grid-template-columns: auto 1fr; gap: .1rem .6rem; margin: .4rem 0 .6rem; }
.pop-detail dt { color: var(--muted); }
.pop-detail dd { margin: 0; }
.pop-form { display: flex; gap: .4rem; margin-top: .6rem; }
.pop-form input { width: 6rem; text-transform: uppercase; }
.withdrawn-list { margin: .4rem 0 0; padding-left: 1.1rem; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
[hidden] { display: none !important; }
`;
