import { LoadBalancerSchema } from '../schema';
import { IdSpace, slug } from './ids';
import { boolean, noteNetworks, noteUnknownFields, type Context, type Json } from './notes';
import { importRules } from './rules';
import { importSteering, noteRoutingOptions, poolList, type LoadBalancerInput } from './steering-fields';

// Cloudflare load balancers to Switchyard's: the hostname from the name, every pool
// reference rewritten to the imported pool's id (a reference to a pool that was not
// imported is dropped, with a note), steering, affinity and random weights kept
// (steering-fields.ts, shared with the rules' overrides), rules converted (rules.ts);
// adaptive routing and DNS-only load balancing have no equivalent.

export type { LoadBalancerInput } from './steering-fields';

const LOAD_BALANCER_FIELDS = new Set([
  'name', 'description', 'enabled', 'proxied', 'ttl', 'default_pools', 'fallback_pool', 'region_pools', 'country_pools',
  'pop_pools', 'steering_policy', 'random_steering', 'session_affinity', 'session_affinity_ttl',
  'session_affinity_attributes', 'adaptive_routing', 'location_strategy', 'rules', 'networks',
]);

export function importLoadBalancer(raw: Json, path: string, ids: IdSpace, hostnames: Set<string>, ctx: Context): LoadBalancerInput | undefined {
  const { note } = ctx;
  const at = (field: string) => `${path}.${field}`;

  const name = typeof raw.name === 'string' ? raw.name.trim().toLowerCase().replace(/\.$/, '') : undefined;
  const hostname = name === undefined ? undefined : LoadBalancerSchema.shape.hostname.safeParse(name);
  if (hostname === undefined || !hostname.success) {
    return void note(at('name'), `${JSON.stringify(raw.name ?? null)} is not a hostname; load balancer not imported`);
  }
  if (hostnames.has(hostname.data)) {
    return void note(at('name'), `hostname "${hostname.data}" is already used by an earlier load balancer; not imported`);
  }

  const defaultPools = poolList(raw.default_pools, at('default_pools'), ctx);
  if (defaultPools.length === 0) {
    return void note(at('default_pools'), 'no imported pool left (a load balancer needs at least one); load balancer not imported');
  }

  hostnames.add(hostname.data);
  const id = ids.take(slug(hostname.data.replace(/^\*\./, 'wildcard.')) ?? 'lb');
  const lb: LoadBalancerInput = { id, hostname: hostname.data, default_pools: defaultPools };

  const enabled = boolean(raw.enabled, at('enabled'), note);
  if (enabled !== undefined) lb.enabled = enabled;
  importSteering(raw, path, lb, ctx);

  if (raw.proxied === false) note(at('proxied'), 'DNS-only (unproxied) load balancing is not supported: Switchyard always proxies; ttl is ignored');
  const rules = importRules(raw.rules, at('rules'), lb, ctx);
  if (rules !== undefined) lb.rules = rules;
  noteRoutingOptions(raw, path, note);
  noteNetworks(raw.networks, at('networks'), note);

  noteUnknownFields(raw, LOAD_BALANCER_FIELDS, path, note);
  return lb;
}
