// What the dashboard reads from the admin API (README "Admin API"): only the fields it
// shows. Every answer is checked where it is used, since the page may face an older
// or a newer Worker.

export interface Issue {
  path?: string;
  message: string;
}

export interface ErrorBody {
  error?: { code?: string; message?: string; issues?: unknown };
}

export interface Origin {
  name: string;
  address: string;
  weight?: number;
  enabled?: boolean;
  drain?: boolean;
  backup?: boolean;
}

export interface Pool {
  id: string;
  name?: string;
  enabled?: boolean;
  latitude?: number;
  longitude?: number;
  origins: Origin[];
  origin_steering?: { policy?: string; hash_key?: string };
  load_shedding?: { default_percent?: number; default_policy?: string; session_percent?: number; session_policy?: string };
}

/** A load balancer's rule (SPEC §9); `overrides` may hold fields this page does not know. */
export interface Rule {
  name: string;
  priority?: number;
  disabled?: boolean;
  terminates?: boolean;
  condition?: string;
  fixed_response?: { status_code?: number; content_type?: string; location?: string } | null;
  overrides?: Record<string, unknown>;
}

export interface LoadBalancer {
  id: string;
  hostname: string;
  enabled?: boolean;
  default_pools?: string[];
  fallback_pool?: string;
  steering_policy?: string;
  session_affinity?: string;
  rules?: Rule[];
}

/** GET /config */
export interface ConfigDocument {
  version: number;
  config?: { pools?: Pool[]; load_balancers?: LoadBalancer[] };
  warnings?: unknown;
}

export interface Warning {
  code?: unknown;
  path?: unknown;
  message?: unknown;
}

export interface PoolHealth {
  id: string;
  healthy: boolean;
  healthy_origins: number;
  minimum_origins: number;
  /** A pool with check_regions: as the clients of each of its regions see it. */
  regions?: { region: string; healthy: boolean; healthy_origins: number }[];
}

/** What one check region's prober finds of an origin. */
export interface RegionVerdict {
  region: string;
  state: string;
  /** Whether that region's clients are sent to it. */
  healthy?: boolean;
  reason?: string | null;
  rtt_ms?: number | null;
}

export interface OriginHealth {
  pool: string;
  origin: string;
  state: string;
  reason?: string | null;
  rtt_ms?: number | null;
  /** An origin of a pool with check_regions: each region's verdict. */
  regions?: RegionVerdict[];
}

/** GET /health */
export interface HealthDocument {
  pools?: PoolHealth[];
  origins?: OriginHealth[];
}

export interface OriginTraffic {
  pool: string;
  origin: string;
  requests: number;
  latency_ms?: { p50: number | null; p95: number | null } | null;
}

/** GET /stats */
export interface StatsDocument {
  origins?: OriginTraffic[];
}

export interface Pop {
  colo: string;
  city: string;
  country: string;
  region: string;
  latitude: number;
  longitude: number;
  withdrawn: boolean;
  /** With ?host=: the pool new clients there are steered to, null for none; absent without a host. */
  pool?: string | null;
}

/** GET /pops */
export interface PopsDocument {
  pops?: Pop[];
}

/** PUT /pops/:colo */
export interface PopChange {
  pop?: { withdrawn: boolean };
}

export interface Version {
  version: number;
  at: string;
  actor?: string;
  summary?: string;
}

/** GET /config/versions */
export interface VersionsDocument {
  versions?: unknown;
}

/** POST /config/rollback */
export interface Rollback {
  version: number;
  warnings?: unknown;
}

/** Whether a newer refresh (or a sign-out) has made the answers a refresh is waiting for worthless. */
export type Stale = () => boolean;
