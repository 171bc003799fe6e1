// What `npm run preflight` checks: a configuration and the deployment settings of
// wrangler.toml against what Cloudflare's edge allows (SPEC §7, §10). It judges with
// the Worker's own code (validation, edge warnings, LB_ZONES parsing), bundled by
// scripts/lib/preflight/load.mjs, so the script and the admin API never disagree.
import { edgeFindings, type EdgeFacts } from '../../../src/config/edge-warnings';
import { validateConfig } from '../../../src/config/validate';
import { settings, type Env } from '../../../src/env';

/** The parts of wrangler's (resolved) configuration preflight reads. */
export interface DeploySettings {
  /** How findings name the file, e.g. "wrangler.toml". */
  file: string;
  vars?: Record<string, unknown>;
  kv_namespaces?: readonly { binding: string; id?: string }[];
  vpc_services?: readonly { binding: string }[];
  vpc_networks?: readonly { binding: string }[];
  services?: readonly { binding: string }[];
  ratelimits?: readonly { name: string; simple?: { limit?: number; period?: number } }[];
  routes?: readonly (string | { pattern: string; zone_name?: string; custom_domain?: boolean })[];
  route?: string | { pattern: string; zone_name?: string; custom_domain?: boolean };
}

/** A configuration to check: a file, the stored one, or LB_CONFIG. */
export interface ConfigSource {
  /** e.g. "config.json", "https://lb.example.com (version 12)". */
  label: string;
  document: unknown;
}

export type Severity = 'error' | 'warning';

export interface Finding {
  /** Where: "wrangler.toml" or a configuration's label. */
  source: string;
  path: string;
  code: string;
  severity: Severity;
  message: string;
}

export interface Report {
  findings: Finding[];
  /** What was checked, for the summary. */
  checked: string[];
  /** 1 when something will certainly fail on the edge, else 0. */
  exitCode: 0 | 1;
}

/** The KV namespace id wrangler.toml ships with: a name, not a namespace. */
export const PLACEHOLDER_KV_ID = 'switchyard-snapshots';
const SNAPSHOTS = 'SNAPSHOTS';

export function preflight(deploy: DeploySettings, sources: readonly ConfigSource[]): Report {
  const findings: Finding[] = [];
  const at = (source: string) => (path: string, code: string, severity: Severity, message: string) =>
    findings.push({ source, path, code, severity, message });
  const file = at(deploy.file);
  const vars = deploy.vars ?? {};
  const text = (name: string) => (typeof vars[name] === 'string' ? (vars[name] as string).trim() : '');

  const kvIndex = (deploy.kv_namespaces ?? []).findIndex((kv) => kv.binding === SNAPSHOTS);
  const kv = deploy.kv_namespaces?.[kvIndex];
  if (kv === undefined) {
    file('kv_namespaces', 'missing_kv', 'error', `no KV namespace bound as ${SNAPSHOTS}: the snapshot is published there`);
  } else if (kv.id === undefined || kv.id === '' || kv.id === PLACEHOLDER_KV_ID) {
    file(
      `kv_namespaces.${kvIndex}.id`,
      'kv_placeholder',
      'error',
      `the id is the placeholder "${kv.id ?? ''}": run \`npx wrangler kv namespace create ${SNAPSHOTS}\` and put the id it prints here`,
    );
  }

  if (text('LB_SIMULATION').toLowerCase() === 'on') {
    file('vars.LB_SIMULATION', 'simulation_on', 'warning', 'clients can pick their own IP, country and PoP with x-lb-sim-* headers; set it to "off" in production');
  }

  const adminHost = text('ADMIN_HOSTNAME').toLowerCase();
  const routes = routePatterns(deploy);
  if (adminHost === '') {
    file(
      'vars.ADMIN_HOSTNAME',
      'no_admin_hostname',
      'error',
      'not set: the admin API and dashboard then answer only on localhost, so not at all on the edge; give them a hostname of their own (SPEC §7)',
    );
  } else if (routes.length > 0 && !routes.some((route) => hostMatches(route.host, adminHost))) {
    file(
      'vars.ADMIN_HOSTNAME',
      'admin_not_routed',
      'warning',
      `"${adminHost}" matches none of the Worker's routes (${routes.map((r) => r.host).join(', ')}): add a route or custom domain for it`,
    );
  }

  const zones = settings({ LB_ZONES: text('LB_ZONES') } as Env).zones;
  const bindings = new Set([...(deploy.vpc_services ?? []), ...(deploy.vpc_networks ?? []), ...(deploy.services ?? [])].map((b) => b.binding));
  const limiters = new Set((deploy.ratelimits ?? []).map((b) => b.name));
  const edge: EdgeFacts = { hasBinding: (name) => bindings.has(name), zones, hasRateLimiter: (name) => limiters.has(name) };

  const all = [...sources];
  const seed = text('LB_CONFIG');
  if (seed !== '') {
    try {
      all.push({ label: `${deploy.file} vars.LB_CONFIG`, document: JSON.parse(seed) });
    } catch (error) {
      file('vars.LB_CONFIG', 'invalid_json', 'error', `not JSON: ${(error as Error).message}`);
    }
  }

  let unchecked = 0;
  for (const source of all) {
    const add = at(source.label);
    const validation = validateConfig(source.document);
    if (!validation.ok) {
      for (const issue of validation.issues) add(issue.path, 'invalid_config', 'error', issue.message);
      continue;
    }
    for (const finding of edgeFindings(validation.config, edge)) {
      add(finding.path, finding.code, finding.certain ? 'error' : 'warning', finding.message);
      if (finding.code === 'host_override' && zones === undefined) unchecked += 1;
    }
    // A rule's period is what Retry-After says: it should be the binding's.
    validation.config.load_balancers.forEach((lb, l) =>
      lb.rules?.forEach((rule, r) => {
        const limit = rule.overrides.rate_limit;
        const period = limit === undefined ? undefined : deploy.ratelimits?.find((b) => b.name === limit.binding)?.simple?.period;
        if (limit === undefined || period === undefined || period === limit.period) return;
        add(
          `load_balancers.${l}.rules.${r}.overrides.rate_limit.period`,
          'rate_limit_period',
          'warning',
          `${limit.period} s, but ${deploy.file} gives ${limit.binding} a period of ${period} s: 429 answers would say Retry-After: ${limit.period}; write period: ${period}`,
        );
      }),
    );
  }
  if (unchecked > 0) {
    const fromRoutes = [...new Set(routes.flatMap((route) => (route.zone === undefined ? [] : [route.zone])))];
    const example = fromRoutes.length > 0 ? `LB_ZONES = "${fromRoutes.join(',')}" (the zone_name of the routes)` : 'LB_ZONES to the zones of the Worker\'s routes, e.g. "example.com"';
    file(
      'vars.LB_ZONES',
      'no_zones',
      'warning',
      `not set, so ${unchecked} Host override${unchecked > 1 ? 's' : ''} cannot be checked: set ${example}`,
    );
  }

  return {
    findings,
    checked: [deploy.file, ...all.map((source) => source.label)],
    exitCode: findings.some((finding) => finding.severity === 'error') ? 1 : 0,
  };
}

interface RoutePattern {
  host: string;
  zone: string | undefined;
}

function routePatterns(deploy: DeploySettings): RoutePattern[] {
  const list = [...(deploy.routes ?? []), ...(deploy.route === undefined ? [] : [deploy.route])];
  return list.map((route) => {
    const pattern = typeof route === 'string' ? route : route.pattern;
    const host = pattern.replace(/^[a-z]+:\/\//i, '').split('/')[0]!.toLowerCase();
    return { host, zone: typeof route === 'string' ? undefined : route.zone_name?.toLowerCase() };
  });
}

/** A route's host part, where "*" matches any run of characters. */
function hostMatches(pattern: string, host: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(host);
}
