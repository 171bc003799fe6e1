#!/usr/bin/env node
// npm run preflight: what will not work on Cloudflare's edge, before `npm run deploy`.
//
//   npm run preflight -- config.json                 a configuration file and ./wrangler.toml
//   LB_URL=https://admin.example.com LB_TOKEN=… npm run preflight
//                                                    the stored configuration instead
//   npm run preflight -- --config wrangler.toml --env production
//
// It checks with the Worker's own code (src/config/validate.ts, edge-warnings.ts);
// the work is in scripts/lib/preflight/. Exit code 1 when something will certainly fail.
import { runAsProgram } from './lib/cli.mjs';
import { run } from './lib/preflight/run.mjs';

export { run };

await runAsProgram(import.meta.url, 'preflight', run);
