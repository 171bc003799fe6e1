// The benchmark's header-contract Worker: SPEC §3's header work and nothing else,
// with fixed values: no steering, no affinity, no timers, no stats. What any balancer
// honouring that contract pays for headers on this runtime, so Switchyard's own cost
// can be told apart from it. The header work is Switchyard's own (upstreamHeaders:
// hop-by-hop and simulation headers dropped, forwarding headers appended), bundled in
// by scripts/bench.mjs; the answer's x-lb-* headers are fixed.
import { LoadBalancerSchema } from '../../src/config/schema';
import { upstreamHeaders } from '../../src/proxy/upstream';

interface Env {
  /** host:port of the origin every request goes to. */
  ORIGIN: string;
}

/** The bench's load balancer as far as headers go: the request header Switchyard's bench configuration injects. */
const LOAD_BALANCER = LoadBalancerSchema.parse({ id: 'bench', hostname: '*', default_pools: ['eu'], request_headers: { 'X-high-load-test': '123' } });

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const client = { url, headers: request.headers, ip: request.headers.get('cf-connecting-ip') ?? '', pop: 'FRA', lbName: 'switchyard' };
    const headers = upstreamHeaders(client, LOAD_BALANCER);
    headers.set('host', env.ORIGIN);
    const upstream = await fetch(`http://${env.ORIGIN}${url.pathname}${url.search}`, { method: request.method, headers, body: request.body, redirect: 'manual' });
    const response = new Response(upstream.body, upstream);
    response.headers.set('x-lb-pool', 'eu');
    response.headers.set('x-lb-origin', 'a');
    response.headers.set('x-lb-pop', 'FRA');
    response.headers.set('x-lb-attempts', '1');
    response.headers.append('server-timing', 'lb;dur=0, origin;dur=1');
    return response;
  },
} satisfies ExportedHandler<Env>;
