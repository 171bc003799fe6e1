// Cloudflare's rules for a Worker's subrequests (SPEC §10), in one place for the proxy
// and the health probes: where a request goes when a Host other than the address's
// own is wanted, and how to read the edge's own answers.

/** Where one subrequest goes, and how the runtime is told to resolve it. */
export interface SubrequestRoute {
  url: string;
  /** cf.resolveOverride: connect to this name while the URL's host is sent as Host. */
  resolveOverride: string | undefined;
}

/**
 * `address` (with its path prefix) plus `path` ("/a?b"). A Worker cannot set Host: the
 * runtime sends the URL's host. So a wanted Host goes into the URL; a public origin is
 * then reached through cf.resolveOverride = the address's hostname (on the edge both
 * names must be in the Worker's zone), and an origin behind a VPC binding (`network`)
 * takes Host and SNI from the URL while the binding fixes the target.
 */
export function subrequestRoute(address: URL, path: string, wantedHost: string | undefined, network: string, protocol = address.protocol): SubrequestRoute {
  const prefix = address.pathname.endsWith('/') ? address.pathname.slice(0, -1) : address.pathname;
  const name = wantedHost === undefined ? undefined : hostnameOf(wantedHost);
  if (name === undefined || name === '' || name === address.hostname) return { url: `${protocol}//${address.host}${prefix}${path}`, resolveOverride: undefined };
  const host = address.port === '' ? name : `${name}:${address.port}`;
  return { url: `${protocol}//${host}${prefix}${path}`, resolveOverride: network === '' ? address.hostname : undefined };
}

/** "name", "name:port", "[v6]:port" → the name part, lower-cased. */
export function hostnameOf(host: string): string {
  const trimmed = host.trim().toLowerCase();
  if (trimmed.startsWith('[')) return trimmed.slice(0, trimmed.indexOf(']') + 1);
  const colon = trimmed.indexOf(':');
  return colon === -1 ? trimmed : trimmed.slice(0, colon);
}

/** The edge's answers that say no connection was made: refused, connect timeout, unreachable, DNS. */
export const CONNECT_FAILURE_STATUS: ReadonlySet<number> = new Set([521, 522, 523, 530]);

/** Cloudflare's own 52x answers (520–530): the edge speaking, never an origin's page to relay. */
export const isEdgeStatus = (status: number): boolean => status >= 520 && status <= 530;

const EDGE_REASONS: Record<number, string> = {
  520: 'connection reset or empty reply',
  521: 'connection refused',
  522: 'connect timeout',
  523: 'origin unreachable',
  524: 'timeout after connect',
  525: 'TLS handshake failed',
  526: 'invalid TLS certificate',
  530: 'DNS failure',
};

/** "connection refused (521)", for an edge status; undefined for any other. */
export function edgeReason(status: number): string | undefined {
  const reason = EDGE_REASONS[status];
  return reason === undefined ? undefined : `${reason} (${status})`;
}

/**
 * Cloudflare answers a Worker's subrequest to an IP address with 403 "error code: 1003".
 * Worth asking only for a 403 from an IP-literal address; reads a copy, so an origin's
 * own 403 goes on intact.
 */
export async function isEdgeIpRefusal(response: Response): Promise<boolean> {
  if (response.status !== 403) return false;
  return /^\s*error code: 1003\b/.test(await response.clone().text());
}
