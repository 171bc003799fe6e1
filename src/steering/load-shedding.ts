import type { LoadShedding } from '../config/schema';
import { hash32, mix32 } from './origin-pick';

// A pool's load_shedding (SPEC §1, as Cloudflare's): a share of the new requests
// (default_*) and of the sessions pinned to it (session_*) go to the next pool in
// order. `hash` sheds the same clients every time, by their IP; `random` takes a
// draw per request. Each pool mixes its own salt into the client's hash, so pools
// shed independent sets of clients: what one pool sheds the next takes its usual
// share of.

/** A pool's load_shedding compiled: the shares as fractions, and the pool's salt. */
export interface Shedding {
  /** Share of new requests shed, 0..1. */
  readonly newShare: number;
  readonly newPolicy: LoadShedding['default_policy'];
  /** Share of pinned sessions shed, 0..1 (always by hash). */
  readonly sessionShare: number;
  /** "30% (hash)", for the trace. */
  readonly newLabel: string;
  readonly sessionLabel: string;
  readonly salt: number;
}

/** Undefined when the pool sheds nothing: the request path then pays one field check. */
export function compileShedding(poolId: string, config: LoadShedding): Shedding | undefined {
  if (config.default_percent === 0 && config.session_percent === 0) return undefined;
  return {
    newShare: config.default_percent / 100,
    newPolicy: config.default_policy,
    sessionShare: config.session_percent / 100,
    newLabel: `${config.default_percent}% (${config.default_policy})`,
    sessionLabel: `${config.session_percent}% of sessions (${config.session_policy})`,
    salt: hash32(`shed:${poolId}`),
  };
}

/** The client's point in [0, 1) for this pool: the same for every request from its address. */
export function shedPoint(shedding: Shedding, ipHash: number): number {
  return mix32((ipHash ^ shedding.salt) >>> 0) / 2 ** 32;
}

/** Whether this pool sheds a new request: by the client's point (hash) or by a draw (random). */
export function shedsNew(shedding: Shedding, ipHash: number, random: () => number): boolean {
  if (shedding.newShare <= 0) return false;
  return (shedding.newPolicy === 'hash' ? shedPoint(shedding, ipHash) : random()) < shedding.newShare;
}

/** Whether this pool sheds a session pinned to one of its origins (always by the client's point). */
export function shedsSession(shedding: Shedding, ipHash: number): boolean {
  return shedding.sessionShare > 0 && shedPoint(shedding, ipHash) < shedding.sessionShare;
}
