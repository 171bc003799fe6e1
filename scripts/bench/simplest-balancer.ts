// The benchmark's simplest balancer: the least a Worker balancer does for the job
// Switchyard minimal is configured for, and nothing of Switchyard in it (no import
// from src/). Weighted random over the origins, one injected request header, an
// attempt timer raced against the fetch and cancelled after it. No forwarding
// headers, no stats, no health, no configuration beyond the origin list.

interface Env {
  /** The origins as "host:port*weight", comma-separated. */
  ORIGINS: string;
}

const ATTEMPT_TIMEOUT_MS = 10_000;
const TIMED_OUT: unique symbol = Symbol('attempt timed out');

interface WeightedOrigin {
  host: string;
  /** Sum of the weights up to and including this origin. */
  upTo: number;
}

/** Parsed on the first request: the origin list does not change within an isolate. */
let origins: WeightedOrigin[] | undefined;

function parseOrigins(text: string): WeightedOrigin[] {
  let sum = 0;
  return text.split(',').map((entry) => {
    const [host, weight = '1'] = entry.trim().split('*');
    sum += Number(weight);
    return { host, upTo: sum };
  });
}

function pick(list: readonly WeightedOrigin[]): string {
  const r = Math.random() * list[list.length - 1].upTo;
  for (const origin of list) if (r < origin.upTo) return origin.host;
  return list[list.length - 1].host;
}

export default {
  async fetch(request, env) {
    origins ??= parseOrigins(env.ORIGINS);
    const url = new URL(request.url);
    url.host = pick(origins);
    const headers = new Headers(request.headers);
    headers.set('X-high-load-test', '123');
    const pending = fetch(url, { method: request.method, headers, body: request.body, redirect: 'manual' });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(resolve, ATTEMPT_TIMEOUT_MS, TIMED_OUT);
    });
    try {
      const first = await Promise.race([pending, timeout]);
      if (first === TIMED_OUT) {
        pending.catch(() => undefined);
        return new Response('origin timed out', { status: 504 });
      }
      return first;
    } finally {
      clearTimeout(timer);
    }
  },
} satisfies ExportedHandler<Env>;
