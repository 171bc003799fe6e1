// Micro-benchmarks of load balancer rules (SPEC §9), run in Node (bundled by
// scripts/bench.mjs through micro.ts): 10 and 100 rules of the usual kinds tried
// against a request that matches the first of them, the last or none; what compiling
// their conditions costs, and loading and validating a snapshot that holds 100; and a
// request steered the way src/proxy/steer.ts does it (client facts, rules, decision)
// with and without rules, so that what rules add reads next to what steering costs
// anyway. Affinity is left out: it costs the same with rules or without.
import type { ConfigInput } from '../../src/config/schema';
import { validateConfig } from '../../src/config/validate';
import { continentOf } from '../../src/geo/continents';
import { PassiveHealth } from '../../src/health/passive';
import { compileCondition } from '../../src/rules/condition';
import { decide } from '../../src/steering/decide';
import { clientFacts, type ClientFacts } from '../../src/steering/facts';
import { Plan, withOverrides, type CompiledLoadBalancer } from '../../src/steering/plan';
import { evaluateRules, requestView } from '../../src/steering/rules';
import { time } from './timing';

type RuleInput = NonNullable<NonNullable<ConfigInput['load_balancers']>[number]['rules']>[number];

/** Which rule the request matches: the first tried, the last, or none. */
export type RuleHit = 'first' | 'last' | 'none';

export interface RulesMicroResult {
  /** Trying the rules and taking the load balancer their overrides make, per request. */
  evaluation: { rules: number; hit: RuleHit; nsPerOp: number; ops: number }[];
  /** Building the request view a request's conditions read (once per request with rules). */
  viewNs: number;
  /**
   * One condition of each kind tried on the request no rule is written for, over a
   * view built once (so a cookie condition finds the Cookie header parsed already).
   */
  conditions: { kind: string; nsPerOp: number }[];
  /** A whole steering decision (facts, rules, decide); `rules: 0` is the load balancer without any. */
  steering: { rules: number; hit: RuleHit; nsPerOp: number; ops: number }[];
  compile: {
    /** The first condition a process compiles (it builds the parser). */
    firstMs: number;
    /** compileCondition, averaged over the 100 rules' conditions. */
    nsPerRule: number;
    byKind: { kind: string; nsPerRule: number }[];
    /** A published snapshot parsed and compiled into a Plan, as a Worker loads it. */
    snapshot: { rules: number; bytes: number; ms: number }[];
    /** validateConfig, as PUT /config runs it (it compiles every condition too). */
    validation: { rules: number; ms: number }[];
  };
}

interface RequestSpec {
  method: string;
  host: string;
  path: string;
  headers: Record<string, string>;
}

/** A request from a browser in Germany that no rule is written for. */
const BASE: RequestSpec = {
  method: 'GET',
  host: 'shop.example.com',
  path: '/products/shoes?page=2',
  headers: {
    'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
    accept: 'text/html,application/xhtml+xml',
    'accept-language': 'de-DE,de;q=0.9,en;q=0.5',
    cookie: '_ga=GA1.2.1234567890.1700000000; session=5f2b9c; theme=dark',
    'x-tenant': 'acme',
    'x-lb-sim-ip': '198.51.100.23',
    'x-lb-sim-country': 'DE',
  },
};

interface RuleKind {
  name: string;
  /** Rule i's condition: no other rule's request matches it. */
  condition(i: number): string;
  /** What the base request needs to match rule i. */
  match(i: number): Partial<RequestSpec>;
}

/** The kinds of conditions rules are written with, taken in turn by the rules. */
const KINDS: RuleKind[] = [
  { name: 'path starts_with', condition: (i) => `starts_with(http.request.uri.path, "/svc/${i}/")`, match: (i) => ({ path: `/svc/${i}/items` }) },
  { name: 'path matches', condition: (i) => `http.request.uri.path matches "^/api/v[0-9]+/svc${i}(/|$)"`, match: (i) => ({ path: `/api/v2/svc${i}/items` }) },
  { name: 'http.host eq', condition: (i) => `http.host eq "svc${i}.example.com"`, match: (i) => ({ host: `svc${i}.example.com` }) },
  { name: 'header eq', condition: (i) => `http.request.headers["x-tenant"] eq "tenant-${i}"`, match: (i) => ({ headers: { 'x-tenant': `tenant-${i}` } }) },
  {
    name: 'ip.src in CIDRs',
    condition: (i) => `ip.src in {10.${i}.0.0/16 172.16.${i}.0/24 2001:db8:${i.toString(16)}::/48}`,
    match: (i) => ({ headers: { 'x-lb-sim-ip': `10.${i}.3.9` } }),
  },
  {
    name: 'country in, path eq',
    condition: (i) => `ip.src.country in {"DE" "AT" "CH"} and http.request.uri.path eq "/dach/${i}"`,
    match: (i) => ({ path: `/dach/${i}` }),
  },
  { name: 'cookie eq', condition: (i) => `http.request.cookies["cohort"] eq "beta-${i}"`, match: (i) => ({ headers: { cookie: `${BASE.headers.cookie}; cohort=beta-${i}` } }) },
  { name: 'lower() contains', condition: (i) => `lower(http.request.uri.path) contains "/legacy-${i}/"`, match: (i) => ({ path: `/Shop/Legacy-${i}/index.html` }) },
  { name: 'path wildcard', condition: (i) => `http.request.uri.path wildcard "/static/v${i}/*"`, match: (i) => ({ path: `/static/v${i}/app.js` }) },
  {
    name: 'method and path',
    condition: (i) => `http.request.method eq "POST" and http.request.uri.path eq "/upload/${i}"`,
    match: (i) => ({ method: 'POST', path: `/upload/${i}` }),
  },
];

const POOLS = ['eu', 'us', 'sa'];

/** `count` rules, each of the next kind, each sending its requests to other pools and ending the evaluation there. */
function rules(count: number): RuleInput[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `rule-${i}`,
    terminates: true,
    condition: KINDS[i % KINDS.length]!.condition(i),
    overrides: { default_pools: [POOLS[(i + 1) % 3]!, POOLS[(i + 2) % 3]!] },
  }));
}

/** The load test's geometry: three pools of two origins, geo steering. */
function config(withRules: RuleInput[]): ConfigInput {
  const coordinates = [
    [50.11, 8.68],
    [39.04, -77.49],
    [-23.55, -46.63],
  ] as const;
  return {
    pools: POOLS.map((id, p) => ({
      id,
      latitude: coordinates[p]![0],
      longitude: coordinates[p]![1],
      origins: [0, 1].map((o) => ({ name: `${id}-${o}`, address: `http://10.0.${p}.${o + 1}:8080`, weight: 2 - o })),
    })),
    load_balancers: [
      {
        id: 'shop',
        hostname: '*',
        default_pools: POOLS,
        steering_policy: 'geo',
        region_pools: { WEU: ['eu', 'us'], ENAM: ['us', 'eu'], SSAM: ['sa', 'us'] },
        ...(withRules.length > 0 ? { rules: withRules } : {}),
      },
    ],
  };
}

function compile(input: ConfigInput): Plan {
  const v = validateConfig(input);
  if (!v.ok) throw new Error(`bench config invalid: ${JSON.stringify(v.issues.slice(0, 3))}`);
  return new Plan(1, v.config, {}, new Set());
}

interface BenchRequest {
  method: string;
  url: URL;
  headers: Headers;
}

/** The base request changed to match rule `index`, or unchanged for -1. */
function requestFor(index: number): BenchRequest {
  const patch = index < 0 ? {} : KINDS[index % KINDS.length]!.match(index);
  const spec = { ...BASE, ...patch, headers: { ...BASE.headers, ...patch.headers } };
  return { method: spec.method, url: new URL(`https://${spec.host}${spec.path}`), headers: new Headers(spec.headers) };
}

const passive = new PassiveHealth();
const none = () => 0;

/** steer() without affinity or the Worker's isolate state: facts, the load balancer's rules, the decision. */
function steerOnce(plan: Plan, request: BenchRequest): number {
  const hostLb = plan.loadBalancerFor(request.url.hostname)!;
  const facts = clientFacts(request.headers, undefined, true, plan.withdrawn);
  let lb = hostLb;
  if (hostLb.rules.length > 0) {
    const view = requestView(request.method, request.url, request.headers, facts, continentOf(facts.country), hostLb.config.hostname);
    lb = withOverrides(hostLb, evaluateRules(hostLb.rules, view).matched);
  }
  const decision = decide(plan, lb, {
    facts,
    pin: undefined,
    sessionKey: undefined,
    now: 1_000_000,
    random: Math.random,
    inflight: none,
    poolInflight: none,
    passive,
    url: request.url,
    headers: request.headers,
  });
  return decision.candidates.length;
}

/** The rules tried and the load balancer they make: what steer() does for a load balancer with rules. */
function tryRules(lb: CompiledLoadBalancer, request: BenchRequest, facts: ClientFacts): CompiledLoadBalancer {
  const outcome = evaluateRules(lb.rules, requestView(request.method, request.url, request.headers, facts, continentOf(facts.country), lb.config.hostname));
  return withOverrides(lb, outcome.matched);
}

/**
 * @param minMs how long each case runs at least
 * @param batch calls per batch; two batches warm a case up (the smoke run takes fewer)
 */
export function runRulesMicro(minMs: number, batch = 1000): RulesMicroResult {
  // First, before anything compiles a condition: the parser is built on the first compile.
  const t0 = performance.now();
  compileCondition(KINDS[0]!.condition(0));
  const firstMs = performance.now() - t0;

  const result: RulesMicroResult = { evaluation: [], viewNs: 0, conditions: [], steering: [], compile: { firstMs, nsPerRule: 0, byKind: [], snapshot: [], validation: [] } };
  let sink = 0;
  const without = compile(config([]));
  const plain = requestFor(-1);
  const plainSteering = time(() => (sink += steerOnce(without, plain)), minMs, batch);
  result.steering.push({ rules: 0, hit: 'none', ...plainSteering });

  for (const count of [10, 100]) {
    const plan = compile(config(rules(count)));
    const lb = plan.loadBalancerFor(BASE.host)!;
    const hits: [RuleHit, number][] = [
      ['first', 0],
      ['last', count - 1],
      ['none', -1],
    ];
    for (const [hit, index] of hits) {
      const request = requestFor(index);
      const facts = clientFacts(request.headers, undefined, true, plan.withdrawn);
      // The figures mean something only if the request matches the rule it was made for, and that one alone.
      const matched = evaluateRules(lb.rules, requestView(request.method, request.url, request.headers, facts, continentOf(facts.country), lb.config.hostname)).matched;
      if (matched.join() !== (index < 0 ? '' : String(index))) throw new Error(`the request made for rule ${index} of ${count} matched [${matched.join()}]`);
      const evaluation = time(() => (sink += tryRules(lb, request, facts).rules.length), minMs, batch);
      result.evaluation.push({ rules: count, hit, ...evaluation });
      const steering = time(() => (sink += steerOnce(plan, request)), minMs, batch);
      result.steering.push({ rules: count, hit, ...steering });
    }
  }

  const plan = compile(config(rules(KINDS.length)));
  const lb = plan.loadBalancerFor(BASE.host)!;
  const facts = clientFacts(plain.headers, undefined, true, plan.withdrawn);
  const view = () => requestView(plain.method, plain.url, plain.headers, facts, continentOf(facts.country), lb.config.hostname);
  result.viewNs = time(() => (sink += view().method.length), minMs, batch).nsPerOp;
  const built = view();
  for (const [k, kind] of KINDS.entries()) {
    const test = lb.rules[k]!.test;
    result.conditions.push({ kind: kind.name, nsPerOp: time(() => (sink += test(built) ? 0 : 1), minMs / 4, batch).nsPerOp });
  }

  const hundred = rules(100);
  const all = time(() => hundred.forEach((r) => (sink += compileCondition(r.condition).ok ? 1 : 0)), minMs, 1);
  result.compile.nsPerRule = all.nsPerOp / hundred.length;
  for (const [k, kind] of KINDS.entries()) {
    const own = hundred.filter((_, i) => i % KINDS.length === k);
    const timed = time(() => own.forEach((r) => (sink += compileCondition(r.condition).ok ? 1 : 0)), minMs / 4, 1);
    result.compile.byKind.push({ kind: kind.name, nsPerRule: timed.nsPerOp / own.length });
  }
  for (const count of [0, 100]) {
    const input = config(rules(count));
    const validated = validateConfig(input);
    if (!validated.ok) throw new Error('bench config invalid');
    const text = JSON.stringify({ revision: 1, version: 1, config: validated.config, health: {}, withdrawn: [], affinitySecret: 'x', publishedAt: 0 });
    const load = time(
      () => {
        const parsed = JSON.parse(text) as { config: typeof validated.config };
        sink += new Plan(1, parsed.config, {}, new Set()).pools.size;
      },
      minMs,
      1,
    );
    result.compile.snapshot.push({ rules: count, bytes: text.length, ms: load.nsPerOp / 1e6 });
    const validation = time(() => (sink += validateConfig(input).ok ? 1 : 0), minMs, 1);
    result.compile.validation.push({ rules: count, ms: validation.nsPerOp / 1e6 });
  }
  if (sink === 0) throw new Error('nothing was measured');
  return result;
}
