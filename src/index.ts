import { app } from './app';
import { controlPlane } from './control/snapshot-cache';
import type { Env } from './env';

export { ControlPlane } from './control/control-plane';

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    // Health checks are dispatched from here (cron: every minute); until a monitor
    // runs, every origin counts as healthy. Keep the snapshot warm meanwhile.
    ctx.waitUntil(controlPlane(env).snapshot());
  },
} satisfies ExportedHandler<Env>;
