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
 * runtime sends the URL's host. A wanted Host therefore goes into the URL, with
 * cf.resolveOverride = the address's hostname so that the connection still goes to the
 * origin, and only when both names are in one of the Worker's `zones` (LB_ZONES):
 * Cloudflare honours the override only there, and anywhere else (workerd on a laptop,
 * a name outside the zone) the request would go to whatever the wanted name resolves
 * to, which for preserve_host is a name the client chose. Otherwise the address's own
 * host is sent (and the configuration carries a host_override warning).
 */
export function subrequestRoute(address: URL, path: string, wantedHost: string | undefined, zones: readonly string[] | undefined, protocol = address.protocol): SubrequestRoute {
  const prefix = address.pathname.endsWith('/') ? address.pathname.slice(0, -1) : address.pathname;
  const name = wantedHost === undefined ? undefined : hostnameOf(wantedHost);
  if (name === undefined || name === '' || name === address.hostname || zones === undefined || !sameZone(name, address.hostname, zones)) {
    return { url: `${protocol}//${address.host}${prefix}${path}`, resolveOverride: undefined };
  }
  const host = address.port === '' ? name : `${name}:${address.port}`;
  return { url: `${protocol}//${host}${prefix}${path}`, resolveOverride: address.hostname };
}

/** A name is inside zone Z when it is Z or ends with "." + Z. */
function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/** The most specific zone of `zones` that `name` is inside, if any. */
export function zoneOf(name: string, zones: readonly string[]): string | undefined {
  return zones.filter((zone) => inZone(name, zone)).sort((x, y) => y.length - x.length)[0];
}

/** Are both names inside one zone of `zones` (the most specific zone of each)? */
export function sameZone(a: string, b: string, zones: readonly string[]): boolean {
  const zone = zoneOf(a, zones);
  return zone !== undefined && zone === zoneOf(b, zones);
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
 * Worth asking only for a 403 from an IP-literal address. Reads at most the first 64
 * bytes of a copy, for at most a second, so an origin's own 403 goes on intact and a
 * hostile one can make it read neither much nor long.
 */
export async function isEdgeIpRefusal(response: Response): Promise<boolean> {
  if (response.status !== 403 || response.body === null) return false;
  const length = Number(response.headers.get('content-length') ?? 0);
  if (length > 64) return false;
  const reader = response.clone().body!.getReader();
  const read = async (): Promise<string> => {
    const decoder = new TextDecoder();
    let text = '';
    while (text.length <= 64) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    return text;
  };
  const text = await Promise.race([read(), scheduler.wait(1000).then(() => '')]).catch(() => '');
  reader.cancel().catch(() => undefined);
  return /^\s*error code: 1003\b/.test(text);
}
