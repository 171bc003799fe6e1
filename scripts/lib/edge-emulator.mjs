// An emulator of what Cloudflare's network does to a Worker's subrequests (SPEC §10),
// for the tests (Miniflare's outboundService) and `npm start -- --edge`. workerd on a
// laptop connects anywhere, honours a Worker-set Host and throws on a refused
// connection; the edge does none of that:
//
//   - a URL whose host is an IP literal is refused: 403 "error code: 1003";
//   - the Host header is the URL's host, whatever the Worker set;
//   - cf.resolveOverride is honoured when the URL's host and the override are both
//     names inside one of the configured zones, and ignored otherwise;
//   - a name resolves only if it is "localhost" or ends in ".localhost" (RFC 6761:
//     loopback); anything else is a DNS failure: 530;
//   - connection refused: 521; a connect that never completes (an address made a
//     black hole through the control host): 522 after `connectTimeoutMs`; no response
//     headers within the origin timeout: 524; https to a plain-HTTP origin: 525; a
//     connection reset before a response: 520.
//
// Everything else is forwarded to the loopback origin, streaming both ways. Requests
// to http://edge-emulator.control/ drive it (black holes, origin timeouts) and read
// its log of subrequests.
//
// `tunnel()` stands in for a Workers VPC binding (Cloudflare Tunnel): it reaches any
// host behind it, IP literals included, sends the URL's host as Host (a VPC service
// takes Host and SNI from the URL), and forwards to the loopback port of the URL.
import { request as httpRequest } from 'node:http';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

export const CONTROL_HOST = 'edge-emulator.control';
export const TUNNEL_CONTROL_HOST = 'tunnel.control';
const LOG_LIMIT = 2000;

/**
 * A subrequest as the runtime hands it over (Miniflare's Request, or workerd's).
 * @typedef {Request & { cf?: { resolveOverride?: unknown } }} Subrequest
 */

/**
 * The edge's answer for a subrequest it refuses or cannot complete: "error code: N", as Cloudflare's plain error pages say.
 * @param {number} status
 * @param {number} code
 */
function edgeError(status, code) {
  return new Response(`error code: ${code}\n`, {
    status,
    headers: { 'content-type': 'text/plain; charset=UTF-8', server: 'cloudflare', 'x-edge-emulator': String(code) },
  });
}

/** @param {string} hostname */
const bareHost = (hostname) => hostname.replace(/^\[(.*)\]$/, '$1');
/** @param {string} hostname */
const isIpLiteral = (hostname) => isIP(bareHost(hostname)) !== 0;
/** @param {string} name */
const resolvesToLoopback = (name) => name === 'localhost' || name.endsWith('.localhost');
/** @param {string} name @param {readonly string[]} zones */
const inZone = (name, zones) => zones.some((zone) => name === zone || name.endsWith(`.${zone}`));
/** @param {URL} url */
const defaultPort = (url) => (url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);

/**
 * Sends `request` to 127.0.0.1:`port` with `host` as Host; resolves to a Response, or to the edge's error for what went wrong.
 * @param {Subrequest} request
 * @param {number} port
 * @param {string} host
 * @param {{ originTimeoutMs: number, timeoutStatus?: number, refusedStatus?: number, resetStatus?: number }} options
 * @returns {Promise<Response>}
 */
function forwardToLoopback(request, port, host, { originTimeoutMs, timeoutStatus = 524, refusedStatus = 521, resetStatus = 520 }) {
  const url = new URL(request.url);
  /** @type {Record<string, string>} */
  const headers = {};
  for (const [name, value] of request.headers) {
    if (name === 'host' || name === 'content-length' || name === 'transfer-encoding' || name === 'connection') continue;
    headers[name] = value;
  }
  headers.host = host;
  return new Promise((resolve) => {
    let settled = false;
    /** @param {Response} response */
    const settle = (response) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve(response);
      }
    };
    const req = httpRequest({ host: '127.0.0.1', port, method: request.method, path: `${url.pathname}${url.search}`, headers, agent: false }, (res) => {
      const out = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (value === undefined || name === 'connection' || name === 'keep-alive' || name === 'transfer-encoding') continue;
        for (const v of Array.isArray(value) ? value : [value]) out.append(name, v);
      }
      const status = res.statusCode ?? 502;
      const empty = request.method === 'HEAD' || status === 204 || status === 304;
      // Miniflare's hop back into workerd does not carry a compressed body faithfully:
      // hand it over decoded (the Worker's fetch would decode it all the same).
      const gzipped = !empty && /^(x-)?gzip$/i.test(String(res.headers['content-encoding'] ?? ''));
      if (gzipped) {
        out.delete('content-encoding');
        out.delete('content-length');
      }
      // A client that stops reading (the Worker cancelled the body) must not leave the origin's socket open.
      const body = empty ? null : /** @type {ReadableStream} */ (Readable.toWeb(gzipped ? res.pipe(createGunzip()) : res));
      if (empty) res.resume();
      settle(new Response(body, { status, headers: out }));
    });
    const timer = setTimeout(() => {
      req.destroy();
      settle(edgeError(timeoutStatus, timeoutStatus));
    }, originTimeoutMs);
    req.on('error', (/** @type {NodeJS.ErrnoException} */ error) => {
      if (error.code === 'ECONNREFUSED') settle(edgeError(refusedStatus, refusedStatus));
      else settle(edgeError(resetStatus, resetStatus));
    });
    if (request.body === null) req.end();
    else {
      Readable.fromWeb(/** @type {import('node:stream/web').ReadableStream} */ (request.body))
        .on('error', () => req.destroy())
        .pipe(req);
    }
  });
}

export class EdgeEmulator {
  /**
   * @param {{ zones?: string[], connectTimeoutMs?: number, originTimeoutMs?: number }} [options]
   *   zones: the names inside the Worker's zones, where cf.resolveOverride is honoured;
   *   connectTimeoutMs: how long a black-holed connect takes to become a 522 (Cloudflare waits about 19 s);
   *   originTimeoutMs: how long the edge waits for response headers before a 524 (Cloudflare: 100 s).
   */
  constructor({ zones = [], connectTimeoutMs = 300, originTimeoutMs = 100_000 } = {}) {
    this.zones = zones.map((zone) => zone.toLowerCase());
    this.connectTimeoutMs = connectTimeoutMs;
    this.originTimeoutMs = originTimeoutMs;
    /** @type {Set<number>} Ports whose connects never complete. */
    this.blackholes = new Set();
    /** @type {Map<number, number>} Origin timeout by port, over originTimeoutMs. */
    this.originTimeouts = new Map();
    /** @type {{ url: string, host: string, resolveOverride?: string, outcome: number | string }[]} */
    this.log = [];
    this.fetch = this.fetch.bind(this);
  }

  /**
   * The outbound service: every subrequest of the Worker comes here.
   * @param {Subrequest} request
   * @returns {Promise<Response>}
   */
  async fetch(request) {
    const url = new URL(request.url);
    if (url.hostname === CONTROL_HOST) return this.control(request, url);
    /** @type {(typeof this.log)[number]} */
    const entry = { url: request.url, host: url.host, outcome: 0 };
    const override = request.cf?.resolveOverride;
    const resolveOverride = typeof override === 'string' ? override.toLowerCase() : undefined;
    if (resolveOverride !== undefined) entry.resolveOverride = resolveOverride;
    this.record(entry);
    const response = await this.route(request, url, resolveOverride);
    entry.outcome = response.status;
    return response;
  }

  /**
   * @param {Subrequest} request
   * @param {URL} url
   * @param {string | undefined} resolveOverride
   */
  async route(request, url, resolveOverride) {
    if (isIpLiteral(url.hostname)) return edgeError(403, 1003);
    const name = url.hostname.toLowerCase();
    const target = resolveOverride !== undefined && inZone(name, this.zones) && inZone(resolveOverride, this.zones) ? resolveOverride : name;
    if (!resolvesToLoopback(target)) return edgeError(530, 1016);
    const port = defaultPort(url);
    if (this.blackholes.has(port)) {
      await new Promise((resolve) => setTimeout(resolve, this.connectTimeoutMs));
      return edgeError(522, 522);
    }
    // The loopback origins speak plain HTTP: a TLS handshake with them fails.
    if (url.protocol === 'https:') return edgeError(525, 525);
    return forwardToLoopback(request, port, url.host, { originTimeoutMs: this.originTimeouts.get(port) ?? this.originTimeoutMs });
  }

  /** @param {(typeof this.log)[number]} entry */
  record(entry) {
    this.log.push(entry);
    if (this.log.length > LOG_LIMIT) this.log.shift();
  }

  /**
   * POST /blackhole {port} · DELETE /blackhole {port}: connects to that port time out (522);
   * POST /origin-timeout {port, ms} · DELETE /origin-timeout {port}: 524 after ms without headers;
   * GET /log?port=N: the subrequests seen (to that port); DELETE /log: forget them.
   * @param {Subrequest} request
   * @param {URL} url
   */
  async control(request, url) {
    /** @type {{ port?: unknown, ms?: unknown }} */
    const input = request.method === 'GET' || request.method === 'DELETE' ? {} : await request.json().catch(() => ({}));
    const port = Number(input.port ?? url.searchParams.get('port'));
    switch (`${request.method} ${url.pathname}`) {
      case 'POST /blackhole':
        this.blackholes.add(port);
        return Response.json({ ok: true });
      case 'DELETE /blackhole':
        this.blackholes.delete(port);
        return Response.json({ ok: true });
      case 'POST /origin-timeout':
        this.originTimeouts.set(port, Number(input.ms));
        return Response.json({ ok: true });
      case 'DELETE /origin-timeout':
        this.originTimeouts.delete(port);
        return Response.json({ ok: true });
      case 'GET /log':
        return Response.json(Number.isFinite(port) && port > 0 ? this.log.filter((e) => new URL(e.url).port === String(port)) : this.log);
      case 'DELETE /log':
        this.log.length = 0;
        return Response.json({ ok: true });
    }
    return Response.json({ error: `no such control route ${request.method} ${url.pathname}` }, { status: 404 });
  }
}

/**
 * A stand-in for a Workers VPC binding: the Worker calls `env.NAME.fetch(url)`; the
 * request reaches 127.0.0.1 on the URL's port, with the URL's host as Host. Its own
 * log (GET http://tunnel.control/log) shows what went through.
 * @param {{ originTimeoutMs?: number }} [options]
 */
export function tunnel({ originTimeoutMs = 100_000 } = {}) {
  /** @type {{ url: string, host: string, outcome: number }[]} */
  const log = [];
  return async (/** @type {Subrequest} */ request) => {
    const url = new URL(request.url);
    if (url.hostname === TUNNEL_CONTROL_HOST) {
      if (request.method === 'DELETE') log.length = 0;
      const port = url.searchParams.get('port');
      return Response.json(port === null ? log : log.filter((e) => new URL(e.url).port === port));
    }
    const entry = { url: request.url, host: url.host, outcome: 0 };
    log.push(entry);
    if (log.length > LOG_LIMIT) log.shift();
    // cloudflared answers 502 when the service behind it cannot be reached.
    const response = await forwardToLoopback(request, defaultPort(url), url.host, { originTimeoutMs, timeoutStatus: 504, refusedStatus: 502, resetStatus: 502 });
    entry.outcome = response.status;
    return response;
  };
}
