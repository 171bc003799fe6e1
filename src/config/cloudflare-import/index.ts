import type { ConfigInput } from '../schema';
import { IdSpace } from './ids';
import { collect, eachObject } from './input';
import { importLoadBalancer, type LoadBalancerInput } from './load-balancers';
import { importMonitor, type MonitorInput } from './monitors';
import type { Context, Note } from './notes';
import { importPool, type PoolInput } from './pools';

// Turns what Cloudflare Load Balancing's API returns (monitors, pools, load balancers)
// into a Switchyard configuration. Pure: data in, data out.
//
// The result should behave as the Cloudflare objects did. Cloudflare ids (32 hex) become
// readable ids derived from names, and every reference is rewritten to them. What has
// no Switchyard equivalent is left out and listed in `unmapped`, each with the path of
// the input field ("pools[1].check_regions"); paths index each kind in input order, for
// mixed arrays too. Odd values are noted and skipped, never thrown: the caller validates
// the result like any other configuration. Enumerations and bounds come from the schema
// (../schema.ts), so the importer accepts exactly what validation will.
//
// The parts: input.ts (the shapes an export comes in), monitors.ts, pools.ts,
// load-balancers.ts, rules.ts (their rules), steering-fields.ts (what a load balancer
// and a rule's overrides share), ids.ts (readable ids), notes.ts (notes and value reading).

/** A Cloudflare setting that was not imported, or was changed on the way. */
export interface ImportNote {
  path: string;
  message: string;
}

/** A pool a load balancer refers to that was not imported: it has no usable origins. */
export interface EmptyPool {
  /** How notes name it: its Cloudflare name, quoted. */
  pool: string;
  /** Where it is in the input ("pools[0]"). */
  path: string;
  /** The references to it that were dropped ("load_balancers[0].default_pools[1]"). */
  referencedBy: string[];
}

export interface CloudflareImport {
  config: ConfigInput;
  unmapped: ImportNote[];
  /** Pools some load balancer refers to that were left out for lack of usable origins. */
  emptyPools: EmptyPool[];
}

/**
 * Converts a Cloudflare export: `{ monitors, pools, load_balancers }`, each an array or
 * an API response (`{ "result": [...], "success": true }`), or one array of such objects
 * told apart by their fields. Throws only when the input is not an export at all.
 */
export function importCloudflare(input: unknown): CloudflareImport {
  const unmapped: ImportNote[] = [];
  const note: Note = (path, message) => void unmapped.push({ path, message });
  const sources = collect(input, note);

  const ctx: Context = { note, monitors: new Map(), pools: new Map() };
  const monitors: MonitorInput[] = [];
  const pools: PoolInput[] = [];
  const loadBalancers: LoadBalancerInput[] = [];
  // Monitors first, then pools, then load balancers: each refers only to the kinds before it.
  const monitorIds = new IdSpace();
  eachObject(sources.monitors, 'monitors', note, (raw, path, i) => keep(monitors, importMonitor(raw, path, i, monitorIds, ctx)));
  const poolIds = new IdSpace();
  eachObject(sources.pools, 'pools', note, (raw, path, i) => keep(pools, importPool(raw, path, i, poolIds, ctx)));
  const lbIds = new IdSpace();
  const hostnames = new Set<string>();
  eachObject(sources.load_balancers, 'load_balancers', note, (raw, path) =>
    keep(loadBalancers, importLoadBalancer(raw, path, lbIds, hostnames, ctx)),
  );
  const emptyPools = [...ctx.pools.values()].flatMap((ref) =>
    ref.id === undefined && ref.path !== undefined && ref.referencedBy !== undefined ? [{ pool: ref.label, path: ref.path, referencedBy: ref.referencedBy }] : [],
  );
  return { config: { monitors, pools, load_balancers: loadBalancers }, unmapped, emptyPools };
}

/**
 * Why storing this conversion would take traffic down, or undefined when it would not
 * (SPEC §7's import guard): a conversion without any load balancer leaves every hostname
 * without one (404 no_load_balancer), and a pool a load balancer refers to that has no
 * usable origins would silently stop taking its share. A dry run may still show it.
 */
export function importRefusal(imported: CloudflareImport): string | undefined {
  const empty = imported.emptyPools.map(
    ({ pool, path, referencedBy }) => `pool ${pool} (${path}) has no usable origins but ${referencedBy.join(', ')} refer${referencedBy.length === 1 ? 's' : ''} to it`,
  );
  if ((imported.config.load_balancers ?? []).length === 0) {
    return [
      'the conversion has no load balancer: applied, it would leave every hostname without one (404 no_load_balancer)',
      ...empty,
      'see unmapped (a dry run, without apply=true) for what was left out',
    ].join('; ');
  }
  if (empty.length > 0) {
    return `${empty.join('; ')}: applying would drop it from those load balancers without a word; give it usable origins in the export, or remove the references`;
  }
  return undefined;
}

function keep<T>(list: T[], item: T | undefined): void {
  if (item !== undefined) list.push(item);
}
