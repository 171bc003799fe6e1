// The benchmark's rules Worker: the rules target's rules tried in a loop inside workerd,
// on the request it is sent (its URL and the runtime's own Headers), to price what the
// load table cannot resolve on shared cores. A Worker's clock moves only on I/O, so
// each figure is one loop of `n` evaluations between two timer waits.
import type { ConfigInput } from '../../src/config/schema';
import { validateConfig } from '../../src/config/validate';
import { continentOf } from '../../src/geo/continents';
import { clientFacts } from '../../src/steering/facts';
import { Plan, withOverrides } from '../../src/steering/plan';
import { evaluateRules, requestView } from '../../src/steering/rules';

interface Env {
  /** The rules target's configuration. */
  LB_CONFIG: string;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

/** Nanoseconds per call of `fn`, over `n` calls. */
async function clock(fn: () => void, n: number): Promise<number> {
  await tick();
  const started = Date.now();
  for (let i = 0; i < n; i++) fn();
  await tick();
  // The closing wait counts about a millisecond.
  return (Math.max(0, Date.now() - started - 1) * 1e6) / n;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const validated = validateConfig(JSON.parse(env.LB_CONFIG) as ConfigInput);
    if (!validated.ok) return Response.json({ error: validated.issues.slice(0, 3) }, { status: 500 });
    const plan = new Plan(1, validated.config, {}, new Set());
    const url = new URL(request.url);
    const n = Math.max(1, Number(url.searchParams.get('n') ?? 100));
    url.searchParams.delete('n');
    const lb = plan.loadBalancerFor(url.hostname);
    if (lb === undefined) return Response.json({ error: 'no load balancer' }, { status: 500 });
    const facts = clientFacts(request.headers, undefined, true, plan.withdrawn);
    // As steer() does it for a simulated client: the continent of its country.
    const view = () => requestView(request.method, url, request.headers, facts, continentOf(facts.country), lb.config.hostname);
    const matched = evaluateRules(lb.rules, view()).matched.map((i) => lb.rules[i]!.name);
    let sink = 0;
    // Twice: the first loop warms the code up.
    const rules: number[] = [];
    const views: number[] = [];
    for (let round = 0; round < 2; round++) {
      rules.push(await clock(() => (sink += withOverrides(lb, evaluateRules(lb.rules, view()).matched).rules.length), n));
      views.push(await clock(() => (sink += view().method.length), n));
    }
    return Response.json({ matched, rules: lb.rules.length, evaluations: n, rulesNs: rules[1], viewNs: views[1], sink });
  },
};
