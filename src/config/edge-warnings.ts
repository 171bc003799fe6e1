import { hostnameOf, zoneOf } from '../edge/subrequest';
import { steeringPools } from './pool-lists';
import { isIpLiteral, parseOriginAddress, type Config } from './schema';

// What a configuration asks for that is valid here but will not work on Cloudflare's
// edge (SPEC §10). Pure: the Worker's bindings and zones come in as EdgeFacts, so the
// admin API (the Worker's env) and `npm run preflight` (wrangler.toml) share it.

export type WarningCode = 'ip_origin' | 'host_override' | 'unknown_binding';

export interface ConfigWarning {
  path: string;
  code: WarningCode;
  message: string;
}

export interface EdgeFacts {
  /** Whether the Worker has a binding of that name that can fetch (a Workers VPC network or service). */
  hasBinding(name: string): boolean;
  /** The zones of the Worker's routes (LB_ZONES); undefined = not said. */
  zones: readonly string[] | undefined;
  /** Whether the Worker has a Workers Rate Limiting binding of that name ([[ratelimits]]); absent = cannot be checked. */
  hasRateLimiter?(name: string): boolean;
}

/** A warning with what the admin API scopes it by and what preflight grades it by. */
export interface EdgeFinding extends ConfigWarning {
  /** The pool and origin it is about ("" for a load balancer's rule). */
  pool: string;
  origin: string;
  /** True when it will fail on the edge; false when it cannot be checked from here. */
  certain: boolean;
}

export function edgeWarnings(config: Config, edge: EdgeFacts): ConfigWarning[] {
  return edgeFindings(config, edge).map(({ path, code, message }) => ({ path, code, message }));
}

/** Every warning of a configuration, in config order: pool by pool, origin by origin. */
export function edgeFindings(config: Config, edge: EdgeFacts): EdgeFinding[] {
  const zones = edge.zones?.map(normalizeName);
  const monitors = new Map(config.monitors.map((monitor, index) => [monitor.id, { monitor, index }]));
  const findings: EdgeFinding[] = [];
  config.pools.forEach((pool, p) => {
    const preserving = config.load_balancers.flatMap((lb, index) => (lb.preserve_host && steeringPools(lb).includes(pool.id) ? [{ lb, index }] : []));
    pool.origins.forEach((origin, o) => {
      const at = `pools.${p}.origins.${o}`;
      const add = (path: string, code: WarningCode, message: string, certain = true) =>
        findings.push({ path, code, message, pool: pool.id, origin: origin.name, certain });
      const url = parseOriginAddress(origin.address);
      if (url === undefined) return;
      const host = url.hostname.toLowerCase();

      if (origin.network !== '') {
        if (!edge.hasBinding(origin.network)) {
          add(
            `${at}.network`,
            'unknown_binding',
            `network "${origin.network}" is not a binding of this Worker: declare it in wrangler.toml ([[vpc_services]] or [[vpc_networks]])`,
          );
        }
        // Through a VPC binding the address is the URL: its host is what the origin sees.
        const own = hostHeader(origin.header);
        const overrides = [own !== undefined ? `${at}.header.${own.key}` : undefined, ...preserving.map(({ index }) => `load_balancers.${index}.preserve_host`)];
        for (const path of overrides) {
          if (path !== undefined) {
            add(path, 'host_override', `${origin.name} is reached through ${origin.network}: the host of its address is sent as Host, so write the wanted Host in the address (a VPC service routes to its own target whatever the URL's host)`);
          }
        }
        return;
      }
      if (isIpLiteral(host)) {
        add(
          `${at}.address`,
          'ip_origin',
          `${host} is an IP address: Cloudflare refuses a Worker's subrequest to an IP (error 1003); use a DNS name, or a Workers VPC binding in "network"`,
        );
        // A Host override cannot help an origin that cannot be reached at all.
        return;
      }

      const who = `pool ${pool.id} origin ${origin.name} (${host})`;
      const originHost = hostHeader(origin.header);
      if (originHost !== undefined && originHost.value !== host) {
        const check = checkHost(originHost.value, host, zones);
        if (check !== undefined) add(`${at}.header.${originHost.key}`, 'host_override', `Host "${originHost.value}" for ${host} ${check.predicate}`, check.certain);
      }
      const monitor = pool.monitor === undefined ? undefined : monitors.get(pool.monitor);
      if (monitor !== undefined && monitor.monitor.type !== 'tcp') {
        const probeHost = hostHeader(monitor.monitor.header);
        if (probeHost !== undefined && probeHost.value !== host) {
          const check = checkHost(probeHost.value, host, zones);
          if (check !== undefined) {
            const path = `monitors.${monitor.index}.header.${probeHost.key}`;
            add(path, 'host_override', `probe Host "${probeHost.value}" for ${who} ${check.predicate}`, check.certain);
          }
        }
      }
      for (const { lb, index } of preserving) {
        if (lb.hostname === host) continue;
        // "*.example.com" stands for names under example.com: checked by its suffix; "*" cannot be checked.
        const wanted = lb.hostname === '*' ? undefined : lb.hostname.replace(/^\*\./, '');
        const check = checkHost(wanted, host, zones);
        const hosts = lb.hostname === '*' ? 'any client Host' : `the client's Host (${lb.hostname})`;
        if (check !== undefined) add(`load_balancers.${index}.preserve_host`, 'host_override', `preserve_host: ${hosts} for ${who} ${check.predicate}`, check.certain);
      }
    });
  });
  if (edge.hasRateLimiter !== undefined) rateLimitFindings(config, edge.hasRateLimiter, findings);
  return findings;
}

/** A rule's rate_limit naming a binding the Worker does not have lets traffic through (SPEC §9). */
function rateLimitFindings(config: Config, has: (name: string) => boolean, findings: EdgeFinding[]): void {
  config.load_balancers.forEach((lb, l) => {
    lb.rules?.forEach((rule, r) => {
      const binding = rule.overrides.rate_limit?.binding;
      if (binding === undefined || has(binding)) return;
      findings.push({
        path: `load_balancers.${l}.rules.${r}.overrides.rate_limit.binding`,
        code: 'unknown_binding',
        message: `rule "${rule.name}": "${binding}" is not a Rate Limiting binding of this Worker, so its traffic is not limited: declare it under [[ratelimits]] in wrangler.toml`,
        pool: '',
        origin: '',
        certain: true,
      });
    });
  });
}

interface Check {
  /** Completes "<the wanted Host> for <the origin> …". */
  predicate: string;
  certain: boolean;
}

const VIA = 'is sent only through cf.resolveOverride, with both names in one zone of LB_ZONES';
const HOW = 'cf.resolveOverride needs both names in one zone of the Worker (or use a VPC service in "network")';

/**
 * Whether a Host other than the origin's own can be sent to it on the public internet:
 * only through cf.resolveOverride, with the wanted name and the origin's in one of the
 * Worker's zones. `wanted` undefined: any name (preserve_host with hostname "*").
 */
function checkHost(wanted: string | undefined, host: string, zones: readonly string[] | undefined): Check | undefined {
  if (zones === undefined) return { predicate: `${VIA}; LB_ZONES is not set, so the origin gets the address's own host: set LB_ZONES to the zones of the Worker's routes`, certain: false };
  const problem = zoneProblem(wanted === undefined ? [host] : [wanted, host], zones);
  if (problem !== undefined) return { predicate: `is not sent (the origin gets the address's own host): ${problem}; ${HOW}`, certain: true };
  if (wanted === undefined) return { predicate: `works only for client hosts in the zone of ${host}; cannot be checked for hostname "*"`, certain: false };
  return undefined;
}

/** Why `names` are not all inside one zone, or undefined when they are. */
function zoneProblem(names: readonly string[], zones: readonly string[]): string | undefined {
  const zonesOf = names.map((name) => zoneOf(name, zones));
  const outside = names.filter((_, i) => zonesOf[i] === undefined);
  const list = zones.join(', ');
  if (outside.length > 0) return `${outside.map((name) => `"${name}"`).join(' and ')} ${outside.length > 1 ? 'are' : 'is'} outside the Worker's zones (${list})`;
  if (new Set(zonesOf).size > 1) return `${names.map((name, i) => `"${name}" is in ${zonesOf[i]}`).join(', ')}: not one zone`;
  return undefined;
}

/** The Host field of a header map (any case), as a bare lower-case name without a port. */
function hostHeader(header: Record<string, string[]>): { key: string; value: string } | undefined {
  for (const [key, values] of Object.entries(header)) {
    if (key.toLowerCase() !== 'host') continue;
    const value = values.find((v) => v.trim() !== '');
    if (value !== undefined) return { key, value: normalizeName(hostnameOf(value)) };
  }
  return undefined;
}

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

