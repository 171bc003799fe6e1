import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { createServer } from 'node:net';
import { kCurrentWorker } from 'miniflare';
import { defineConfig } from 'vitest/config';
import { EdgeEmulator, tunnel } from './scripts/lib/edge-emulator.mjs';
import { buildDashboard } from './scripts/build-dashboard.mjs';

/** A free loopback port, for the health webhook sink the fleet runs (test/support/fleet.ts). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Three projects: pure logic in Node (*.unit.test.ts); the Worker in workerd
// (*.integration.test.ts) with real KV and Durable Objects, against real origin
// servers on loopback started by the fleet (test/support/fleet.ts); and the dashboard
// in Chromium (*.browser.test.ts) against the Worker under wrangler dev.
/** Names inside the Worker's zone in the edge project, where cf.resolveOverride is honoured. */
const EDGE_ZONES = ['localhost'];

/**
 * The Worker in workerd with real KV and Durable Objects. `edge`: every subrequest goes
 * through the edge emulator, so origins are reached by name (o<port>.localhost) and the
 * tests read `inject('edge')`. Both have PRIVATE_NET, a stand-in for a Workers VPC binding.
 */
function workersProject(name: string, include: string[], edge: boolean) {
  const host = (label: string) => (edge ? `${label}.localhost` : '127.0.0.1');
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        // Miniflare puts its own outbound Worker (`return fetch(request)`) in front of
        // the Worker under test; when a test origin refuses or resets a connection, that
        // Worker's rejected fetch is logged by a verbose workerd as an "uncaught
        // exception … Network connection lost", although Switchyard caught the same
        // failure. Not verbose, workerd keeps the Worker's own console output and drops
        // those. test/proxy/failing-origins.http.test.ts watches the Worker itself, on
        // bare workerd through its inspector, for any exception it reports.
        verbose: false,
        miniflare: {
          bindings: {
            ADMIN_TOKEN: 'test-admin-token',
            LB_SIMULATION: 'on',
            SNAPSHOT_TTL_MS: '60000',
            AFFINITY_SECRET: 'test-affinity-secret',
            HEALTH_WEBHOOK_URL: `http://${host('webhook')}:${process.env[`WEBHOOK_SINK_PORT_${name}`]}/health-hook`,
            ...(edge ? { LB_ZONES: EDGE_ZONES.join(',') } : {}),
          },
          // PRIVATE_NET stands in for a Workers VPC binding; LOOP is the Worker itself,
          // for a pool pointed back at the balancer.
          serviceBindings: { PRIVATE_NET: tunnel(), LOOP: kCurrentWorker },
          ...(edge ? { outboundService: new EdgeEmulator({ zones: EDGE_ZONES }).fetch } : {}),
        },
      }),
    ],
    test: {
      name,
      include,
      globalSetup: ['test/support/fleet.ts'],
      provide: { edge },
      testTimeout: 20_000,
    },
  };
}

export default defineConfig(async () => {
  // The dashboard's client bundle (src/admin/dashboard/client-bundle.js), which the
  // Worker imports and the dashboard tests run: wrangler builds it for itself, the
  // test pools do not.
  await buildDashboard();
  // One webhook sink per workerd project (test/support/fleet.ts starts it).
  for (const name of ['workers', 'edge']) process.env[`WEBHOOK_SINK_PORT_${name}`] ??= String(await freePort());
  return {
    test: {
      projects: [
        {
          test: {
            name: 'unit',
            include: ['test/**/*.unit.test.ts'],
            environment: 'node',
          },
        },
        workersProject('workers', ['test/**/*.integration.test.ts'], false),
        // The proxy, retry, failover and health tests again, with every subrequest the
        // Worker makes going through the edge emulator (SPEC §10): what passes here
        // holds on Cloudflare's network too.
        workersProject('edge', ['test/proxy/**/*.integration.test.ts', 'test/health/**/*.integration.test.ts', 'test/edge/**/*.integration.test.ts'], true),
        {
          // Requests only a real HTTP client sends, to the Worker under wrangler's dev
          // server with the edge emulator as its outbound service.
          test: {
            name: 'http',
            include: ['test/**/*.http.test.ts'],
            environment: 'node',
            testTimeout: 60_000,
            hookTimeout: 120_000,
          },
        },
        {
          // The dashboard in a real Chromium against the Worker under wrangler dev.
          test: {
            name: 'browser',
            include: ['test/**/*.browser.test.ts'],
            environment: 'node',
            testTimeout: 120_000,
            hookTimeout: 120_000,
          },
        },
      ],
    },
  };
});
