import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

// Two projects: pure logic in Node (*.unit.test.ts), and the Worker in workerd
// (*.integration.test.ts) with real KV and Durable Objects, against real origin
// servers on loopback started by the fleet (test/support/fleet.ts).
export default defineConfig({
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
    ],
  },
});
