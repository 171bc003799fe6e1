// Loopback origin servers that answer like the backends of the seeds
// ("<h1>Response from Backend Server 1</h1>"), for the demo and the tests. Each can be
// taken down (connections refused), brought back on the same port, slowed or made to
// fail, and keeps a log of the requests it saw. It can also answer the probes of one
// check region (x-lb-probe-region) otherwise than everyone else's: refuse them (the
// connection reset, as from a region that cannot reach it), delay them or fail them,
// which is how the tests make an origin unreachable from one region only. GET
// /trickle/<ms> sends its headers
// and a first line at once and the rest of the body <ms> later (with ?length, under a
// Content-Length that announces the whole body). GET /gzip/<n> sends n bytes gzipped.
import { createServer } from 'node:http';
import { gzipSync } from 'node:zlib';

/**
 * How an origin answers one check region's probes: `reset` drops the connection
 * unanswered; `delayMs` and `status` replace the origin's own.
 * @typedef {{ reset?: boolean, delayMs?: number, status?: number }} RegionMode
 */

export class Origin {
  /** @param {{ name: string, body?: string, port?: number, host?: string }} options */
  constructor({ name, body, port = 0, host = '127.0.0.1' }) {
    this.name = name;
    this.body = body ?? `<h1>Response from ${name}</h1>\n`;
    this.host = host;
    this.port = port;
    this.delayMs = 0;
    this.status = 200;
    /** @type {Map<string, number>} Status by request path, over `status` (a "query of death" that fails on every origin). */
    this.pathStatus = new Map();
    /** @type {Record<string, string | string[]>} Extra response headers (a Set-Cookie the balancer must not pass on, say). */
    this.headers = {};
    /** @type {Map<string, RegionMode>} How the probes of a check region (x-lb-probe-region) are answered, over the rest. */
    this.regions = new Map();
    /**
     * `at`: when the request was read; `answeredAt`: when the answer was sent;
     * `closedEarlyAt`: when the client closed the connection before the answer ended.
     * @type {{ method: string, url: string, headers: Record<string, string | string[] | undefined>, body: string, at: number, answeredAt?: number, closedEarlyAt?: number }[]}
     */
    this.log = [];
    /** @type {Set<import('node:net').Socket>} */
    this.sockets = new Set();
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 1000;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  get url() {
    return `http://${this.host}:${this.port}`;
  }

  async start() {
    await new Promise((/** @type {(value?: unknown) => void} */ resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = /** @type {import('node:net').AddressInfo} */ (this.server.address()).port;
    return this;
  }

  /** Stops listening and drops open connections: new attempts are refused. */
  async stop() {
    if (!this.server.listening) return;
    const closed = new Promise((resolve) => this.server.close(resolve));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /**
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res
   */
  handle(req, res) {
    /** @type {Buffer[]} */
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      /** @type {(typeof this.log)[number]} */
      const entry = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      res.on('close', () => {
        if (!res.writableFinished) entry.closedEarlyAt = Date.now();
      });
      this.log.push(entry);
      if (this.log.length > 1000) this.log.shift();
      const region = this.regions.get(String(req.headers['x-lb-probe-region'] ?? ''));
      if (region?.reset) {
        req.socket.destroy();
        return;
      }
      const path = (req.url ?? '/').split('?')[0];
      const trickle = /^\/trickle\/(\d{1,5})$/.exec(path);
      if (trickle !== null) {
        // ?length: announce the whole body's length up front (a fixed-length body that stalls).
        const length = (req.url ?? '').includes('?length') ? { 'content-length': '21' } : {};
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-origin-name': this.name, ...length });
        res.write('first part\n');
        setTimeout(() => res.end('last part\n'), Number(trickle[1]));
        return;
      }
      const gzip = /^\/gzip\/(\d{1,7})$/.exec(path);
      if (gzip !== null) {
        // A compressed body whose Content-Length is a small part of what it decodes to.
        const body = gzipSync(Buffer.alloc(Number(gzip[1]), 'a'));
        res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip', 'content-length': String(body.length), 'x-origin-name': this.name });
        res.end(body);
        return;
      }
      const send = () => {
        if (res.destroyed) return;
        entry.answeredAt = Date.now();
        res.writeHead(region?.status ?? this.pathStatus.get(path) ?? this.status, { 'content-type': 'text/html; charset=utf-8', 'x-origin-name': this.name, ...this.headers });
        res.end(req.method === 'HEAD' ? undefined : this.body);
      };
      const delayMs = region?.delayMs ?? this.delayMs;
      if (delayMs > 0) setTimeout(send, delayMs);
      else send();
    });
  }
}

/**
 * Starts origins named as given, on ephemeral ports unless ports are given.
 * @param {ConstructorParameters<typeof Origin>[0][]} specs
 */
export async function startOrigins(specs) {
  return Promise.all(specs.map((spec) => new Origin(spec).start()));
}
