import { handleFetch } from './app';
import { adoptSnapshot } from './control/snapshot-cache';
import { controlPlane } from './control/locator';
import type { Env } from './env';

export { ControlPlane } from './control/control-plane';
export { StatsShard } from './control/stats-shard';
export { HealthProber } from './control/prober';

export default {
  fetch: handleFetch,
  async scheduled(_controller, env, ctx) {
    // Every minute: the due health checks (the same run POST /__lb/api/health/check
    // starts), the snapshot published again so KV never stays without one, and the
    // alarm that drives shorter intervals re-armed.
    ctx.waitUntil(
      controlPlane(env)
        .tick()
        .then((snapshot) => adoptSnapshot(env, snapshot))
        .catch((error) => console.error('scheduled health checks failed', error)),
    );
  },
} satisfies ExportedHandler<Env>;
