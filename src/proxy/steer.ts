import { parse } from 'hono/utils/cookie';
import type { LoadBalancer } from '../config/schema';
import { isolateColo, type Loaded } from '../control/snapshot-cache';
import type { Env } from '../env';
import { LbError } from '../errors';
import { continentOf } from '../geo/continents';
import { AFFINITY_COOKIE, verifyAffinityToken } from '../steering/affinity-token';
import { decide, poolFor, type Decision, type Pin } from '../steering/decide';
import { clientFacts, type ClientFacts } from '../steering/facts';
import { describeHashKey } from '../steering/hash-key';
import { withOverrides, type CompiledLoadBalancer, type Plan } from '../steering/plan';
import { evaluateRules, requestView, type CompiledRule } from '../steering/rules';
import { inflight, notePlan, passive } from './isolate';
import { enforceRateLimits } from './rate-limit';

// Steps 1 to 4 of the request path (SPEC §2): the client's facts, the load balancer,
// affinity, and the decision over pools and origins, with this isolate's passive
// health and in-flight counts. The proxy and explain both steer through here.

export interface Steered {
  url: URL;
  loaded: Loaded;
  lb: CompiledLoadBalancer;
  facts: ClientFacts;
  decision: Decision;
  pin: Pin | undefined;
  /** The names of the rules that matched, in the order they were tried. */
  rules: string[];
  /** A matching rule's fixed response: the request is answered with it, no origin steered to. */
  fixed: CompiledRule['fixed'];
}

const NO_MATCH: string[] = [];
const ANSWERED: Decision = { pools: [], policyReason: () => 'answered by a rule', candidates: [], affinity: 'off', pinServed: false, fallbackUsed: false };

/**
 * Facts, load balancer, affinity and decision for a request: shared by the proxy and
 * explain. With `env` (the proxy), a matching rule's rate_limit counts the request and
 * may refuse it; explain passes none and counts nothing.
 */
export function steer(request: Request, loaded: Loaded, simulation: boolean, trace?: string[], url = new URL(request.url), env?: Env): Steered | Promise<Steered> {
  const plan = loaded.plan;
  if (plan === undefined) {
    // Why LB_CONFIG could not be used is the operator's to read (GET /__lb/api/config):
    // it may quote the document, origin addresses and all, and the parser's own words.
    const why = loaded.snapshot.configError === undefined ? 'Switchyard has no configuration yet.' : 'Switchyard has no usable configuration (GET /__lb/api/config says why).';
    throw new LbError(503, 'not_configured', `${why} Load one with PUT /__lb/api/config (see the README) or set the LB_CONFIG var.`);
  }
  notePlan(plan);
  const hostLb = plan.loadBalancerFor(url.hostname);
  if (hostLb === undefined) throw new LbError(404, 'no_load_balancer', `no load balancer serves host "${url.hostname}"`);
  if (!hostLb.config.enabled) throw new LbError(503, 'load_balancer_disabled', `load balancer "${hostLb.config.id}" is disabled`);
  trace?.push(`load balancer ${hostLb.config.id} (hostname ${hostLb.config.hostname}) for host ${url.hostname}`);

  const location = trace !== undefined || hostLb.readsLocation || plan.regional || env?.ANALYTICS !== undefined ? request : popOnly(request);
  const facts = clientFacts(request.headers, location, simulation, plan.withdrawn);
  trace?.push(
    `client ${facts.ip || 'unknown'} from ${facts.source}: country ${facts.country ?? '?'}, region ${facts.region ?? '?'}, PoP ${facts.colo ?? '?'}` +
      (facts.lat !== undefined ? `, at ${facts.lat},${facts.lon}` : ''),
  );

  const asked: Asked = { request, url, loaded, plan, facts, trace };
  if (hostLb.rules.length === 0) return withAffinity(asked, hostLb, NO_MATCH);
  // Cloudflare's own continent when it gave one; else the client's country's (simulated clients).
  const continent = facts.continent ?? continentOf(facts.country);
  const outcome = evaluateRules(hostLb.rules, requestView(request.method, url, request.headers, facts, continent, hostLb.config.hostname), trace);
  const rules = outcome.matched.map((i) => hostLb.rules[i]!.name);
  if (outcome.fixed !== undefined) return { url, loaded, lb: hostLb, facts, decision: ANSWERED, pin: undefined, rules, fixed: outcome.fixed.fixed };
  const lb = withOverrides(hostLb, outcome.matched);
  if (lb.rateLimits.length > 0) {
    for (const limit of lb.rateLimits) trace?.push(`rate limit: counted with binding ${limit.binding} by ${describeHashKey(limit.key)}${env === undefined ? ' (not counted here)' : ''}`);
    if (env !== undefined) return enforceRateLimits(env, lb, url, request.headers, facts).then(() => withAffinity(asked, lb, rules));
  }
  return withAffinity(asked, lb, rules);
}

/** What steer() learnt of the request before the load balancer was settled. */
interface Asked {
  request: Request;
  url: URL;
  loaded: Loaded;
  plan: Plan;
  facts: ClientFacts;
  trace: string[] | undefined;
}

/** Affinity and the decision: a promise only when a token must be verified first. */
function withAffinity(asked: Asked, lb: CompiledLoadBalancer, rules: string[]): Steered | Promise<Steered> {
  const now = Date.now();
  const affinity = affinityOf(asked.request, lb.config, asked.loaded.affinityKey, now, asked.trace);
  return affinity instanceof Promise ? affinity.then((found) => decided(asked, lb, rules, found, now)) : decided(asked, lb, rules, affinity, now);
}

function decided(asked: Asked, lb: CompiledLoadBalancer, rules: string[], { pin, sessionKey }: Affinity, now: number): Steered {
  const { request, url, loaded, plan, facts, trace } = asked;
  const decision = decide(plan, lb, {
    facts,
    pin,
    sessionKey,
    now,
    random: Math.random,
    inflight: inflight.byOrigin,
    poolInflight: inflight.byPool,
    passive,
    url,
    headers: request.headers,
    trace,
  });
  return { url, loaded, lb, facts, decision, pin, rules, fixed: null };
}

/** The isolate's PoP as the only fact from `request.cf`: what a load balancer that does not steer by location needs. */
let isolatePop: { colo: string } | undefined;

function popOnly(request: Request): { colo: string } | undefined {
  const colo = isolateColo(request);
  if (colo === 'unknown') return undefined;
  if (isolatePop?.colo !== colo) isolatePop = { colo };
  return isolatePop;
}

interface Affinity {
  pin: Pin | undefined;
  sessionKey: string | undefined;
}

const NO_AFFINITY: Affinity = { pin: undefined, sessionKey: undefined };

/** The request's pin or session key; a promise only when a token must be verified. */
function affinityOf(request: Request, lb: LoadBalancer, key: CryptoKey, now: number, trace: string[] | undefined): Affinity | Promise<Affinity> {
  switch (lb.session_affinity) {
    case 'none':
      return NO_AFFINITY;
    case 'header': {
      const values = lb.session_affinity_attributes.headers.map((name) => request.headers.get(name));
      const present = values.some((v) => v !== null);
      trace?.push(present ? 'affinity: session identified by headers' : 'affinity: no session headers; steering as new');
      return { pin: undefined, sessionKey: present ? values.map((v) => v ?? '').join('\u0000') : undefined };
    }
    case 'cookie':
    case 'ip_cookie': {
      const cookie = request.headers.get('cookie');
      const token = cookie === null ? undefined : parse(cookie, AFFINITY_COOKIE)[AFFINITY_COOKIE];
      if (token === undefined) return NO_AFFINITY;
      const pin = verifyAffinityToken(key, lb.id, token, Math.floor(now / 1000));
      return pin instanceof Promise ? pin.then((verified) => tokenPin(verified, trace)) : tokenPin(pin, trace);
    }
  }
}

function tokenPin(pin: Pin | undefined, trace: string[] | undefined): Affinity {
  if (pin === undefined) trace?.push('affinity: token invalid, forged or expired: ignored');
  return { pin, sessionKey: undefined };
}

/**
 * For each PoP, the pool its new clients are steered to by the load balancer serving
 * `host` (the PoP map); undefined when no load balancer serves the host.
 */
export function poolsByPop(loaded: Loaded, host: string, colos: readonly string[]): Map<string, string | undefined> | undefined {
  const plan = loaded.plan;
  const lb = plan?.loadBalancerFor(host);
  if (plan === undefined || lb === undefined) return undefined;
  const now = Date.now();
  return new Map(
    colos.map((colo) => [colo, poolFor(plan, lb, clientFacts(new Headers({ 'x-lb-sim-colo': colo }), undefined, true, plan.withdrawn), passive, now)]),
  );
}
