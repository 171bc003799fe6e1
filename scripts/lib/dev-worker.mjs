// Switchyard under wrangler's dev server (workerd with local KV and Durable Objects),
// started in-process: what the demo and the browser tests run. Wrangler's own output
// (banner, request log) is off.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * @param {{ vars?: Record<string, string>, secrets?: Record<string, string>, port?: number, persist: string,
 *   outboundService?: (request: Request) => Promise<Response>, structuredLogsHandler?: (log: { level: string, message: string }) => void }} options
 *   vars and secrets become the Worker's bindings; port 0 takes a free one; with
 *   outboundService every subrequest of the Worker goes through it (the edge emulator).
 */
export async function startDevWorker({ vars = {}, secrets = {}, port = 0, persist, outboundService, structuredLogsHandler }) {
  // The Request.cf object is a placeholder here (no network): simulation headers set what matters.
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';
  const { unstable_startWorker } = await import('wrangler');
  /** @type {Record<string, { type: 'plain_text' | 'secret_text', value: string }>} */
  const bindings = {};
  for (const [name, value] of Object.entries(vars)) bindings[name] = { type: 'plain_text', value };
  for (const [name, value] of Object.entries(secrets)) bindings[name] = { type: 'secret_text', value };
  return unstable_startWorker({
    config: join(root, 'wrangler.toml'),
    bindings,
    dev: {
      server: { hostname: '127.0.0.1', port },
      inspector: false,
      persist,
      watch: false,
      liveReload: false,
      logLevel: 'error',
      ...(structuredLogsHandler ? { structuredLogsHandler } : {}),
      ...(outboundService ? { outboundService } : {}),
    },
    sendMetrics: false,
  });
}
