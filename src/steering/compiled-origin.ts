import type { Origin } from '../config/schema';

/** An origin of a compiled pool, with what the request path reads of it parsed once. */
export interface CompiledOrigin {
  readonly pool: string;
  readonly name: string;
  /** "pool/name": unique across pools (ids hold no slash), computed once. */
  readonly key: string;
  readonly index: number;
  readonly config: Origin;
  readonly url: URL;
  readonly hostHeader: string | undefined;
  /** The address's host is an IP literal (the edge refuses such a subrequest unless it goes through a VPC binding). */
  readonly ipLiteral: boolean;
  /**
   * public_url without its trailing slash ("https://a.example.net/files"), for redirect
   * steering: the request's path and query follow it. Undefined when the origin has none.
   */
  readonly publicUrl: string | undefined;
  readonly healthy: boolean;
  readonly rttMs: number | undefined;
  /** When an active check last found it up (ms), for ending a passive ejection early. */
  readonly checkedUpAt: number | undefined;
  /** When it recovered (ms), while its slow_start ramp may still run. */
  readonly recoveredAt: number | undefined;
}

export const originKey = (pool: string, origin: string): string => `${pool}/${origin}`;
