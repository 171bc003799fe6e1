import { connect } from 'cloudflare:sockets';
import { PROBE_REGION_HEADER } from './state';
import { isIpLiteral, parseOriginAddress, type Monitor, type Origin } from '../config/schema';
import { edgeReason, isEdgeIpRefusal, subrequestRoute, type SubrequestRoute } from '../edge/subrequest';
import type { Region } from '../geo/regions';
import { matchesExpectedCodes } from './expected-codes';

// One active check of one origin by one monitor (SPEC §4), and the bounded fan-out
// that runs many of them. A probe never throws: whatever goes wrong becomes a failed
// outcome with a reason an operator can read in the health document. Every attempt
// has one deadline covering connect, response headers and the body scan, and always
// releases its connection: a Worker invocation may hold only 6 open at once.

export const MONITOR_USER_AGENT = 'switchyard-monitor';
export { PROBE_REGION_HEADER } from './state';
export const BODY_SCAN_BYTES = 10 * 1024;

export interface ProbeOutcome {
  ok: boolean;
  /** round trip of the last attempt in ms (until status + scanned body for http, until the socket opened for tcp) */
  rtt_ms: number;
  /** "" when ok; otherwise a short operator-readable reason: "timeout after 2000 ms", "status 503 not in 2xx", "body does not contain \"ok\"", "connection refused", "connect failed: …" */
  reason: string;
  /** HTTP status of the last attempt, when there was one */
  status?: number;
  /** attempts made: 1 + immediate re-tries used (monitor.retries) */
  attempts: number;
  /**
   * The probe could not be made, or not with all its re-tries: the invocation's
   * subrequests ran out (the runtime's limit, or the round's budget). Not a failure of
   * the origin: its health is left as it was and it stays due.
   */
  unchecked?: true;
}

type AttemptOutcome = Omit<ProbeOutcome, 'attempts'>;

export interface ProbeOptions {
  now?: () => number;
  /** The Workers VPC binding an origin's `network` names (its probes go the same way as its traffic). */
  network?: (name: string) => Fetcher | undefined;
  /** The zones of the Worker's routes (LB_ZONES), where a Host override can be sent. */
  zones?: readonly string[];
  /** The check region whose prober sends the probe (PROBE_REGION_HEADER); undefined for the control plane's own. */
  region?: Region;
  /** Takes one subrequest from the round's budget before each attempt; false when none is left. */
  spend?: () => boolean;
}

/** The runtime's refusal of a subrequest past the invocation's limit ("Too many subrequests."), which says nothing of the origin. */
export function isSubrequestLimit(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /too many (subrequests|api requests)/i.test(message);
}

/** The outcome of a probe that could not be made: see ProbeOutcome.unchecked. */
export function uncheckedOutcome(attempts: number): ProbeOutcome {
  return { ok: false, rtt_ms: 0, reason: 'not checked: no subrequests left in this invocation', attempts, unchecked: true };
}

/** An attempt the runtime refused for the invocation's subrequest limit. */
const UNCHECKED: unique symbol = Symbol('unchecked');

export async function probe(monitor: Monitor, origin: Origin, options: ProbeOptions = {}): Promise<ProbeOutcome> {
  const allowed = Math.max(0, Math.floor(monitor.retries)) + 1;
  for (let attempts = 1; ; attempts++) {
    // A probe cut short of its re-tries says no more than one never made.
    if (options.spend?.() === false) return uncheckedOutcome(attempts - 1);
    const outcome = await attempt(monitor, origin, options.now ?? Date.now, options);
    if (outcome === UNCHECKED) return uncheckedOutcome(attempts);
    if (outcome.ok || attempts >= allowed) return { ...outcome, attempts };
  }
}

/** Runs fn over items with at most `limit` running at once (Workers allow 6 open connections per invocation); results in input order; never rejects (fn errors become the result of `onError`). */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  onError: (error: unknown, item: T) => R,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index], index);
      } catch (error) {
        results[index] = onError(error, items[index]);
      }
    }
  };
  const lanes = Math.min(items.length, Math.max(1, Math.floor(limit) || 1));
  await Promise.all(Array.from({ length: lanes }, lane));
  return results;
}

/**
 * Where an http(s) monitor's request goes: the monitor's scheme, the address's host and
 * path prefix, the monitor's path; a Host override (the origin's header.Host, else the
 * monitor's) travels as the proxy's does (SPEC §10).
 */
export function probeRoute(monitor: Monitor, origin: Origin, address: URL, zones: readonly string[] | undefined): SubrequestRoute {
  const wanted = origin.network !== '' ? undefined : (firstHost(origin.header) ?? firstHost(monitor.header));
  return subrequestRoute(address, monitor.path, wanted, zones, monitor.type === 'https' ? 'https:' : 'http:');
}

function firstHost(header: Record<string, string[]>): string | undefined {
  for (const [name, values] of Object.entries(header)) if (name.toLowerCase() === 'host' && values.length > 0) return values[0];
  return undefined;
}

/**
 * The monitor's headers (lists joined with ", "), the origin's Host over the monitor's
 * (sent by the URL: see probeRoute), our User-Agent unless the monitor names one, and
 * the check region of a regional prober's probe.
 */
export function probeHeaders(monitor: Monitor, origin: Origin, region?: Region): Headers {
  const headers = new Headers();
  for (const [name, values] of Object.entries(monitor.header)) {
    if (values.length > 0) headers.set(name, values.join(', '));
  }
  // As in Cloudflare Load Balancing, an origin's Host override beats the monitor's.
  for (const [name, values] of Object.entries(origin.header)) {
    if (name.toLowerCase() === 'host' && values.length > 0) headers.set('host', values[0]);
  }
  if (!headers.has('user-agent')) headers.set('user-agent', MONITOR_USER_AGENT);
  if (region !== undefined) headers.set(PROBE_REGION_HEADER, region);
  return headers;
}

async function attempt(monitor: Monitor, origin: Origin, now: () => number, { network, zones, region }: ProbeOptions): Promise<AttemptOutcome | typeof UNCHECKED> {
  const started = now();
  const timeoutMs = monitor.timeout * 1000;
  const deadline = new Deadline(timeoutMs);
  const release: (() => Promise<void>)[] = [];
  let status: number | undefined;
  let phase: 'connect' | 'request' | 'body read' = monitor.type === 'tcp' ? 'connect' : 'request';
  try {
    const address = parseOriginAddress(origin.address);
    if (address === undefined) return failed(`invalid address ${JSON.stringify(origin.address)}`, 0);

    if (monitor.type === 'tcp') {
      const socket = connect({ hostname: address.hostname.replace(/^\[(.*)\]$/, '$1'), port: tcpPort(address) });
      release.push(() => socket.close());
      await deadline.race(socket.opened);
      return { ok: true, rtt_ms: now() - started, reason: '' };
    }

    const binding = origin.network === '' ? undefined : network?.(origin.network);
    if (origin.network !== '' && binding === undefined) return failed(`no binding named ${origin.network} (the origin's network)`, 0);
    const route = probeRoute(monitor, origin, address, zones);
    const init: RequestInit<RequestInitCfProperties> = { method: monitor.method, headers: probeHeaders(monitor, origin, region), redirect: 'manual', signal: deadline.signal };
    if (route.resolveOverride !== undefined) init.cf = { resolveOverride: route.resolveOverride };
    const response = await deadline.race(binding === undefined ? fetch(route.url, init) : binding.fetch(route.url, init));
    status = response.status;
    // The edge's own answers say why no origin answered; they are never the origin's status.
    const edge = edgeReason(status) ?? (origin.network === '' && isIpLiteral(address.hostname) && (await isEdgeIpRefusal(response)) ? 'refused by the edge: IP-literal address (error 1003)' : undefined);
    if (edge !== undefined) {
      release.push(() => response.body?.cancel() ?? Promise.resolve());
      return failed(edge, now() - started);
    }
    phase = 'body read';
    const body = response.body;
    const scan = monitor.method !== 'HEAD' && monitor.expected_body !== '' && matchesExpectedCodes(status, monitor.expected_codes);
    let found = true;
    if (body !== null && scan) {
      const reader = body.getReader();
      release.push(() => reader.cancel());
      found = await bodyContains(reader, monitor.expected_body, deadline);
    } else if (body !== null) {
      release.push(() => body.cancel());
    }
    const rtt = now() - started;
    if (!matchesExpectedCodes(status, monitor.expected_codes)) return failed(`status ${status} not in ${monitor.expected_codes}`, rtt, status);
    if (!found) return failed(`body does not contain ${quoteShort(monitor.expected_body)}`, rtt, status);
    return { ok: true, rtt_ms: rtt, reason: '', status };
  } catch (error) {
    if (!deadline.expired && isSubrequestLimit(error)) return UNCHECKED;
    const reason = deadline.expired ? `timeout after ${timeoutMs} ms` : networkReason(error, phase);
    return failed(reason, now() - started, status);
  } finally {
    deadline.clear();
    // Fire and forget: a stuck cancel must not hold the probe past its deadline.
    for (const close of release) {
      try {
        close().catch(() => {});
      } catch {
        // already closed or errored: nothing left to release
      }
    }
  }
}

/** One timer for the whole attempt; `race` abandons whatever is still pending when it fires. */
class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout>;
  private readonly fired: Promise<never>;

  constructor(ms: number) {
    this.fired = new Promise<never>((_, reject) => {
      this.controller.signal.addEventListener('abort', () => reject(new Error('deadline')));
    });
    this.fired.catch(() => {}); // only ever observed through race()
    this.timer = setTimeout(() => this.controller.abort(), ms);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get expired(): boolean {
    return this.controller.signal.aborted;
  }

  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.fired]);
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

/** Does the first BODY_SCAN_BYTES of the body, as UTF-8, contain needle (case-insensitively)? Stops reading once it does. */
async function bodyContains(reader: ReadableStreamDefaultReader<Uint8Array>, needle: string, deadline: Deadline): Promise<boolean> {
  const wanted = needle.toLowerCase();
  const decoder = new TextDecoder();
  let text = '';
  let seen = 0;
  while (seen < BODY_SCAN_BYTES) {
    const { done, value } = await deadline.race(reader.read());
    if (done) break;
    const chunk = value.subarray(0, BODY_SCAN_BYTES - seen);
    seen += chunk.byteLength;
    text += decoder.decode(chunk, { stream: true }).toLowerCase();
    if (text.includes(wanted)) return true;
  }
  text += decoder.decode().toLowerCase();
  return text.includes(wanted);
}

function tcpPort(address: URL): number {
  if (address.port !== '') return Number(address.port);
  return address.protocol === 'https:' ? 443 : 80;
}

// workerd rarely says why: fetch reports a refused or reset connection as "Network
// connection lost.", a failed TLS handshake as "internal error; reference = …", and
// connect() any unreachable address as "proxy request failed, cannot connect to the
// specified address". Pass the runtime's words on rather than guess.
function networkReason(error: unknown, phase: string): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/\brefused\b/i.test(message)) return 'connection refused';
  return `${phase} failed: ${message}`;
}

function quoteShort(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

function failed(reason: string, rtt: number, status?: number): AttemptOutcome {
  return status === undefined ? { ok: false, rtt_ms: rtt, reason } : { ok: false, rtt_ms: rtt, reason, status };
}
