// Helpers for integration tests inside workerd: the Worker under test, the admin API
// and the loopback origin fleet.
import { exports } from 'cloudflare:workers';
import { inject } from 'vitest';
import type { ConfigInput } from '../../src/config/schema';

export const ADMIN_TOKEN = 'test-admin-token';

/**
 * Sends a request through the Worker under test (its default export). Paths under
 * /__lb/ go to "localhost" unless a host is given: without ADMIN_HOSTNAME the admin
 * answers only on loopback names.
 */
export function lb(path: string, init: RequestInit & { host?: string } = {}): Promise<Response> {
  const url = new URL(path, `http://${init.host ?? (path.startsWith('/__lb') ? 'localhost' : 'app.test')}`);
  return exports.default.fetch(new Request(url, init));
}

export function admin(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return lb(`/__lb/api${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Replaces the configuration through the admin API; fails the test if it is refused. */
export async function configure(config: ConfigInput): Promise<number> {
  const res = await admin('PUT', '/config', config);
  if (res.status !== 200) throw new Error(`PUT /config: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { version: number }).version;
}

export interface TestOrigin {
  port: number;
  url: string;
  down(): Promise<void>;
  up(): Promise<void>;
  /**
   * `regions`: how the probes of a check region (x-lb-probe-region) are answered, over
   * the rest: `reset` drops the connection (the region cannot reach the origin), or a
   * delay or a status of their own; `{}` gives every region the origin's own answers back.
   */
  mode(mode: {
    status?: number;
    delayMs?: number;
    paths?: Record<string, number>;
    headers?: Record<string, string | string[]>;
    regions?: Record<string, { reset?: boolean; delayMs?: number; status?: number }>;
  }): Promise<void>;
  /** `at`, `answeredAt` and `closedEarlyAt` are the origin's clock (Date.now() in Node). */
  log(): Promise<{ method: string; url: string; headers: Record<string, string>; body: string; at: number; answeredAt?: number; closedEarlyAt?: number }[]>;
  clearLog(): Promise<void>;
}

async function fleet(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${inject('fleetUrl')}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`fleet ${method} ${path}: ${await res.text()}`);
  return res.json();
}

/** Starts a real origin server on 127.0.0.1 that answers "<h1>Response from NAME</h1>". */
export async function startOrigin(name: string): Promise<TestOrigin> {
  const { port, url } = (await fleet('POST', '/origins', { name })) as { port: number; url: string };
  const at = `/origins/${port}`;
  return {
    port,
    url,
    down: async () => void (await fleet('POST', `${at}/down`)),
    up: async () => void (await fleet('POST', `${at}/up`)),
    mode: async (mode) => void (await fleet('POST', `${at}/mode`, mode)),
    log: async () => (await fleet('GET', `${at}/log`)) as Awaited<ReturnType<TestOrigin['log']>>,
    clearLog: async () => void (await fleet('DELETE', `${at}/log`)),
  };
}

/** The health webhook posts the fleet's sink received (HEALTH_WEBHOOK_URL), oldest first. */
export async function webhookPosts(): Promise<Record<string, unknown>[]> {
  const log = (await fleet('GET', '/webhook')) as { body: string }[];
  return log.map((entry) => JSON.parse(entry.body) as Record<string, unknown>);
}
