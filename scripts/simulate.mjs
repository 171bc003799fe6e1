#!/usr/bin/env node
// simulate: a world traffic simulator for a running Switchyard (LB_SIMULATION=on).
//
//   LB_TOKEN=demo-token npm run simulate                       against the demo (npm start)
//   LB_TOKEN=demo-token npm run simulate -- --scenario pop-withdrawn --clients 1000
//   LB_URL=http://127.0.0.1:8797 LB_TOKEN=… npm run simulate -- --host proximity.localhost --seed 7
//
// `simulate --help` lists the options. The work is done in scripts/lib/simulate/:
// core.mjs and its parts (population, world, oracle, scenarios: the Worker's own
// steering code from src/ where they need it), report.mjs (tables, SVG, JSON), run.mjs
// (argv, HTTP, files). Ctrl-C stops sending and still puts the state back.
import { exitQuietlyOnClosedPipe, invokedDirectly } from './lib/cli.mjs';
import { run } from './lib/simulate/run.mjs';

export { run };

if (invokedDirectly(import.meta.url)) {
  exitQuietlyOnClosedPipe();
  const interrupt = new AbortController();
  process.on('SIGINT', () => {
    // The first Ctrl-C lets the running scenario put its state back; a second one quits.
    if (interrupt.signal.aborted) process.exit(130);
    process.stderr.write('\nsimulate: interrupted; putting the state back (Ctrl-C again to quit at once)\n');
    interrupt.abort();
  });
  try {
    process.exitCode = await run(process.argv.slice(2), { signal: interrupt.signal });
  } catch (error) {
    console.error('simulate: internal error:', error);
    process.exitCode = 70;
  }
}
