#!/usr/bin/env node
// lbctl: the operator CLI of Switchyard's admin API.
//
//   npm run lbctl -- status
//   node scripts/lbctl.mjs status --url http://127.0.0.1:8787 --token demo-token
//   LB_URL=https://lb.example.com LB_TOKEN=… npm run lbctl -- origin drain eu backend1
//
// `lbctl --help` lists the commands. The work is done in scripts/lib/lbctl/;
// `run` is exported for driving it in-process.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { run } from './lib/lbctl/run.mjs';

export { run };

function invokedDirectly() {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  // `lbctl status | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (error) => {
    if (/** @type {NodeJS.ErrnoException} */ (error).code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  try {
    process.exitCode = await run(process.argv.slice(2));
  } catch (error) {
    console.error('lbctl: internal error:', error);
    process.exitCode = 70;
  }
}
