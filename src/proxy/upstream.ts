import { HOP_BY_HOP } from '../config/header-rules';
import type { LoadBalancer } from '../config/schema';
import { subrequestRoute, type SubrequestRoute } from '../edge/subrequest';
import { PROBE_REGION_HEADER } from '../health/state';
import { SIM_HEADERS } from '../steering/facts';
import { AFFINITY_COOKIE, withoutCookie } from '../steering/affinity-token';
import type { CompiledOrigin } from '../steering/plan';

// Building the upstream request (SPEC §3): hop-by-hop fields go, forwarding fields
// are appended, and the balancer's own cookie and simulation headers never reach an
// origin.



export interface ClientSide {
  url: URL;
  headers: Headers;
  ip: string;
  pop: string | undefined;
  lbName: string;
}

export function isWebSocketUpgrade(headers: Headers): boolean {
  return headers.get('upgrade')?.toLowerCase() === 'websocket';
}

/** Headers shared by every attempt of one request; only Host differs per origin. */
export function upstreamHeaders(client: ClientSide, lb: LoadBalancer, isWebSocket = isWebSocketUpgrade(client.headers)): Headers {
  const headers = new Headers(client.headers);
  const named = client.headers.get('connection');
  if (named !== null) {
    for (const token of named.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '' && !(isWebSocket && name === 'upgrade')) headers.delete(name);
    }
  }
  for (const name of HOP_BY_HOP) headers.delete(name);
  if (isWebSocket) {
    headers.set('connection', 'Upgrade');
    headers.set('upgrade', 'websocket');
  }
  for (const name of SIM_HEADERS) headers.delete(name);
  // The prober's own mark: a client may not pass as a check region's probe.
  headers.delete(PROBE_REGION_HEADER);
  const cookie = headers.get('cookie');
  if (cookie !== null && cookie.includes(AFFINITY_COOKIE)) {
    const rest = withoutCookie(cookie, AFFINITY_COOKIE);
    if (rest === '') headers.delete('cookie');
    else headers.set('cookie', rest);
  }

  const proto = client.url.protocol.slice(0, -1);
  const host = client.url.host;
  const ip = client.ip || 'unknown';
  append(headers, 'x-forwarded-for', ip);
  append(headers, 'forwarded', `for=${forwardedNode(ip)};proto=${proto};host=${quoteIfNeeded(host)}`);
  append(headers, 'via', `1.1 ${client.lbName}`);
  append(headers, 'cdn-loop', client.lbName);
  headers.set('x-forwarded-proto', proto);
  headers.set('x-forwarded-host', host);
  if (client.pop !== undefined) headers.set('x-lb-pop', client.pop);
  else headers.delete('x-lb-pop');
  const injected = lb.request_headers;
  for (const name in injected) headers.set(name, injected[name]!);
  return headers;
}

/**
 * Where an attempt goes (SPEC §3, §10): the wanted Host is the origin's header.Host,
 * else the client's Host with preserve_host, sent when both names are in one of
 * `zones`. An origin behind a VPC binding gets its address as the URL, always: through
 * a VPC network the URL chooses the destination, and a client's Host must not.
 */
export function upstreamRoute(origin: CompiledOrigin, client: URL, lb: LoadBalancer, zones: readonly string[] | undefined): SubrequestRoute {
  const wanted = origin.config.network !== '' ? undefined : (origin.hostHeader ?? (lb.preserve_host ? client.hostname : undefined));
  return subrequestRoute(origin.url, `${client.pathname}${client.search}`, wanted, zones);
}

function append(headers: Headers, name: string, value: string): void {
  const existing = headers.get(name);
  headers.set(name, existing === null || existing === '' ? value : `${existing}, ${value}`);
}

/** RFC 7239 node: IPv6 in quotes and brackets, IPv4 and "unknown" bare. */
function forwardedNode(ip: string): string {
  return ip.includes(':') ? `"[${ip}]"` : ip;
}

function quoteIfNeeded(value: string): string {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value) ? value : `"${value}"`;
}

/** Does CDN-Loop already name this balancer? (RFC 8586: a list of "name; params") */
export function isLoop(cdnLoop: string | null, lbName: string): boolean {
  if (cdnLoop === null) return false;
  const name = lbName.toLowerCase();
  return cdnLoop.split(',').some((entry) => entry.split(';')[0].trim().toLowerCase() === name);
}
