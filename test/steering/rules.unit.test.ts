import { describe, expect, it } from 'vitest';
import { withOverrides } from '../../src/steering/plan';
import { evaluateRules, requestView } from '../../src/steering/rules';
import { view } from '../rules/view';
import { facts, loadBalancer, planFor, pool } from '../support/configs';

const API = 'http.request.uri.path wildcard "/api/*"';
const ADMIN = 'http.request.uri.path wildcard "/api/admin*"';

function lbWith(rules: unknown[]) {
  return planFor({
    pools: [pool('web', ['a']), pool('api', ['b']), pool('admin', ['c'])],
    load_balancers: [loadBalancer({ default_pools: ['web'], rules } as Parameters<typeof loadBalancer>[0])],
  }).lb;
}

const names = (lb: ReturnType<typeof lbWith>, matched: number[]) => matched.map((i) => lb.rules[i]!.name);

describe('rules compiled with the Plan', () => {
  it('has none, and no overridden load balancers, without rules', () => {
    const lb = lbWith([]);
    expect(lb.rules).toEqual([]);
    expect(lb.overridden).toEqual([]);
    expect(withOverrides(lb, [])).toBe(lb);
  });

  it('orders by priority, then list order, and leaves disabled rules out', () => {
    const lb = lbWith([
      { name: 'late', priority: 5, condition: API },
      { name: 'off', priority: 0, disabled: true, condition: API },
      { name: 'first', priority: 1, condition: API },
      { name: 'second', priority: 1, condition: API },
    ]);
    expect(lb.rules.map((r) => r.name)).toEqual(['first', 'second', 'late']);
  });

  it('builds each rule’s overridden load balancer once, with the policy resolved', () => {
    const lb = lbWith([
      { name: 'api', condition: API, overrides: { default_pools: ['api'], country_pools: { DE: ['admin'] } } },
      { name: 'plain', condition: API },
    ]);
    expect(lb.overridden[0]!.config.default_pools).toEqual(['api']);
    expect(lb.overridden[0]!.policy).toBe('geo');
    expect(lb.overridden[1]).toBeUndefined();
    expect(withOverrides(lb, [0, 1])).toBe(lb.overridden[0]);
    expect(withOverrides(lb, [1])).toBe(lb);
  });

  it('merges several matching rules’ overrides in order, the later one winning a field', () => {
    const lb = lbWith([
      { name: 'api', condition: API, overrides: { default_pools: ['api'], session_affinity: 'cookie' } },
      { name: 'admin', condition: ADMIN, overrides: { default_pools: ['admin'] } },
    ]);
    const merged = withOverrides(lb, [0, 1]);
    expect(merged.config.default_pools).toEqual(['admin']);
    expect(merged.config.session_affinity).toBe('cookie');
    expect(lb.config.default_pools).toEqual(['web']);
  });
});

describe('evaluateRules', () => {
  const lb = lbWith([
    { name: 'api', priority: 1, condition: API, overrides: { default_pools: ['api'] } },
    { name: 'admin', priority: 2, condition: ADMIN, overrides: { default_pools: ['admin'] }, terminates: true },
    { name: 'after', priority: 3, condition: API },
    { name: 'down', priority: 4, condition: 'http.request.uri.path eq "/down"', fixed_response: { status_code: 503, message_body: 'later' } },
    { name: 'never', priority: 5, condition: 'http.request.uri.path eq "/down"' },
  ]);

  it('collects every matching rule in order', () => {
    const trace: string[] = [];
    const outcome = evaluateRules(lb.rules, view({ url: 'https://x.example/api/items' }), trace);
    expect(names(lb, outcome.matched)).toEqual(['api', 'after']);
    expect(outcome.fixed).toBeUndefined();
    expect(trace).toEqual(['rule api: matched; overrides default_pools', 'rule admin: no match', 'rule after: matched', 'rule down: no match', 'rule never: no match']);
  });

  it('stops at a rule that terminates', () => {
    const outcome = evaluateRules(lb.rules, view({ url: 'https://x.example/api/admin/users' }));
    expect(names(lb, outcome.matched)).toEqual(['api', 'admin']);
    expect(withOverrides(lb, outcome.matched).config.default_pools).toEqual(['admin']);
  });

  it('stops at a fixed response and returns it', () => {
    const outcome = evaluateRules(lb.rules, view({ url: 'https://x.example/down' }));
    expect(names(lb, outcome.matched)).toEqual(['down']);
    expect(outcome.fixed?.fixed).toEqual({ status_code: 503, message_body: 'later' });
  });

  it('matches nothing on other paths', () => {
    expect(evaluateRules(lb.rules, view({ url: 'https://x.example/' })).matched).toEqual([]);
  });
});

describe('requestView', () => {
  it('reads the request and the client facts', () => {
    const headers = new Headers({ 'x-tier': 'gold', cookie: 'a=1; b=2; a=3' });
    const v = requestView('POST', new URL('https://shop.example/p/q?x=1'), headers, facts({ ip: '198.51.100.4', country: 'FR', colo: 'CDG' }), 'EU', 'shop.example');
    expect([v.method, v.host, v.uri, v.path, v.query, v.fullUri]).toEqual(['POST', 'shop.example', '/p/q?x=1', '/p/q', 'x=1', 'https://shop.example/p/q?x=1']);
    expect([v.header('x-tier'), v.header('nope'), v.cookie('a'), v.cookie('b'), v.cookie('c'), v.cookieHeader]).toEqual(['gold', undefined, '1', '2', undefined, 'a=1; b=2; a=3']);
    expect([v.ip, v.country, v.continent, v.colo, v.loadBalancer]).toEqual(['198.51.100.4', 'FR', 'EU', 'CDG', 'shop.example']);
  });
});
