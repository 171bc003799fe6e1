import { app } from './app';
import { controlPlane } from './control/snapshot-cache';
import type { Env } from './env';

export { ControlPlane } from './control/control-plane';

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    // Every minute: publish the snapshot again, so KV never stays without one.
    ctx.waitUntil(controlPlane(env).snapshot());
  },
} satisfies ExportedHandler<Env>;
