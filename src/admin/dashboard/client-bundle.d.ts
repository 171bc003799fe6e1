// client-bundle.js is written by scripts/build-dashboard.mjs before the Worker is
// bundled or tested (wrangler's [build], vitest.config.ts) and is not in git; this is
// what it exports, so the Worker type-checks on a fresh clone too.

/** The dashboard's client (client/main.ts) as one browser script: the text served as /__lb/dashboard.js. */
declare const dashboardScript: string;
export default dashboardScript;
