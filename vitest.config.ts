import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { createServer } from 'node:net';
import { defineConfig } from 'vitest/config';

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
export default defineConfig(async () => {
  process.env.WEBHOOK_SINK_PORT ??= String(await freePort());
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
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: './wrangler.toml' },
              miniflare: {
                bindings: {
                  ADMIN_TOKEN: 'test-admin-token',
                  LB_SIMULATION: 'on',
                  SNAPSHOT_TTL_MS: '60000',
                  AFFINITY_SECRET: 'test-affinity-secret',
                  HEALTH_WEBHOOK_URL: `http://127.0.0.1:${process.env.WEBHOOK_SINK_PORT}/health-hook`,
                },
              },
            }),
          ],
          test: {
            name: 'workers',
            include: ['test/**/*.integration.test.ts'],
            globalSetup: ['test/support/fleet.ts'],
            testTimeout: 20_000,
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
