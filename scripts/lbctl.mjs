#!/usr/bin/env node
// lbctl: the operator CLI of Switchyard's admin API.
//
//   npm run lbctl -- status
//   node scripts/lbctl.mjs status --url http://127.0.0.1:8787 --token demo-token
//   LB_URL=https://lb.example.com LB_TOKEN=… npm run lbctl -- origin drain eu backend1
//
// `lbctl --help` lists the commands. The work is done in scripts/lib/lbctl/;
// `run` is exported for driving it in-process.
import { runAsProgram } from './lib/cli.mjs';
import { run } from './lib/lbctl/run.mjs';

export { run };

await runAsProgram(import.meta.url, 'lbctl', run);
