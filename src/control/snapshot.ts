import type { Config } from '../config/schema';
import type { HealthMap } from '../health/state';

/** KV keys; see docs/storage-schema.md. */
export const SNAPSHOT_KEY = 'snapshot';
export const REVISION_KEY = 'snapshot:revision';

/**
 * Everything the request path needs, published by the Durable Object to KV and
 * cached in each isolate. `revision` increases with every change of any part;
 * `version` only with configuration changes.
 */
export interface Snapshot {
  revision: number;
  version: number;
  config: Config | null;
  /** Why there is no configuration, when LB_CONFIG could not seed one. */
  configError?: string;
  health: HealthMap;
  withdrawn: string[];
  /** HMAC secret for affinity tokens, unless the AFFINITY_SECRET secret overrides it. */
  affinitySecret: string;
  publishedAt: number;
}

/**
 * The ControlPlane's answer to a PoP's refresh (the PoP tier, SPEC §5): the revision it
 * last published, with that snapshot when the PoP's own revision is older.
 */
export interface PopRefresh {
  revision: number;
  snapshot?: Snapshot;
}
