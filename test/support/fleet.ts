// Runs in Node (vitest globalSetup): a small control server on loopback through
// which tests running inside workerd start, stop, slow down and inspect real origin
// servers on 127.0.0.1.
import { createServer, type Server } from 'node:http';
import type { TestProject } from 'vitest/node';
import { Origin, type RegionMode } from '../../scripts/lib/origins.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    fleetUrl: string;
    /** The Worker's subrequests go through the edge emulator (SPEC §10). */
    edge: boolean;
  }
}

export default async function setup(project: TestProject) {
  const origins = new Map<number, Origin>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      try {
        const input = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
        const out = await route(req.method ?? 'GET', new URL(req.url ?? '/', 'http://fleet').pathname, input);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(out ?? {}));
      } catch (error) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: (error as Error).message }));
      }
    });
  });

  // Receives HEALTH_WEBHOOK_URL posts (the port is chosen in vitest.config.ts).
  const sink = await new Origin({ name: 'webhook-sink', port: Number(process.env[`WEBHOOK_SINK_PORT_${project.name}`] ?? 0) }).start();
  // Through the edge emulator an IP-literal URL is refused (error 1003): there the
  // Worker reaches loopback servers by name ("<label>.localhost").
  const edge = project.name === 'edge';
  const urlOf = (label: string, port: number) => `http://${edge ? `${label}.localhost` : '127.0.0.1'}:${port}`;

  async function route(method: string, path: string, input: Record<string, unknown>): Promise<unknown> {
    if (path === '/webhook') {
      if (method === 'GET') return sink.log;
      if (method === 'DELETE') return void (sink.log.length = 0);
    }
    if (method === 'POST' && path === '/origins') {
      const origin = await new Origin({ name: String(input.name ?? 'origin'), body: input.body as string | undefined }).start();
      origins.set(origin.port, origin);
      return { port: origin.port, url: urlOf(`o${origin.port}`, origin.port) };
    }
    const match = /^\/origins\/(\d+)\/(\w+)$/.exec(path);
    const origin = match === null ? undefined : origins.get(Number(match[1]));
    if (origin === undefined || match === null) throw new Error(`no such fleet route ${method} ${path}`);
    switch (`${method} ${match[2]}`) {
      case 'POST down':
        return origin.stop();
      case 'POST up':
        return origin.server.listening ? undefined : origin.start();
      case 'POST mode':
        if (typeof input.status === 'number') origin.status = input.status;
        if (typeof input.delayMs === 'number') origin.delayMs = input.delayMs;
        if (typeof input.paths === 'object' && input.paths !== null) origin.pathStatus = new Map(Object.entries(input.paths as Record<string, number>));
        if (typeof input.headers === 'object' && input.headers !== null) origin.headers = input.headers as Record<string, string | string[]>;
        if (typeof input.regions === 'object' && input.regions !== null) origin.regions = new Map(Object.entries(input.regions as Record<string, RegionMode>));
        return undefined;
      case 'GET log':
        return origin.log;
      case 'DELETE log':
        origin.log.length = 0;
        return undefined;
    }
    throw new Error(`no such fleet route ${method} ${path}`);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fleet server has no port');
  project.provide('fleetUrl', urlOf('fleet', address.port));

  return async () => {
    await Promise.all([...origins.values(), sink].map((o) => o.stop()));
    await new Promise((resolve) => server.close(resolve));
  };
}
