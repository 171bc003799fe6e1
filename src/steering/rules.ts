import type { LoadBalancer, Rule } from '../config/schema';
import { compileCondition, type CompiledCondition, type RequestView } from '../rules/condition';
import type { ClientFacts } from './facts';

// Load balancer rules (SPEC §9) compiled with the Plan: each condition once per
// snapshot, the rules in the order they are tried (priority, then list order; disabled
// ones left out), and each rule's overrides merged into the load balancer's settings
// once, so that a request only evaluates conditions and picks what is already built.

export interface CompiledRule {
  readonly name: string;
  readonly test: CompiledCondition;
  readonly terminates: boolean;
  readonly fixed: Rule['fixed_response'];
  /** The rule's overrides, undefined when it has none. */
  readonly overrides: Rule['overrides'] | undefined;
}

export function compileRules(rules: readonly Rule[] | undefined): readonly CompiledRule[] {
  if (rules === undefined || rules.length === 0) return NO_RULES;
  const order = rules.map((rule, index) => ({ rule, index })).filter(({ rule }) => !rule.disabled);
  order.sort((a, b) => a.rule.priority - b.rule.priority || a.index - b.index);
  return order.flatMap(({ rule }) => {
    const compiled = compileCondition(rule.condition);
    // The schema refused a condition that does not compile; one that slipped through never matches.
    if (!compiled.ok) return [];
    return [
      {
        name: rule.name,
        test: compiled.test,
        terminates: rule.terminates,
        fixed: rule.fixed_response,
        overrides: Object.keys(rule.overrides).length === 0 ? undefined : rule.overrides,
      },
    ];
  });
}

const NO_RULES: readonly CompiledRule[] = Object.freeze([]);

/** What a rule's Switchyard-only overrides set (SPEC §9, "(ext)"): nothing of the load balancer's own settings. */
export type RuleExtras = Pick<Rule['overrides'], 'origin_steering' | 'rate_limit' | 'redirect'>;

const NO_EXTRAS: RuleExtras = Object.freeze({});

/**
 * The load balancer's settings with overrides applied, as the given rules match in
 * order (a later rule's field wins), and the extension overrides apart from them.
 */
export function mergeOverrides(lb: LoadBalancer, overrides: readonly Rule['overrides'][]): { config: LoadBalancer; extras: RuleExtras } {
  let config = lb;
  let extras = NO_EXTRAS;
  for (const o of overrides) {
    const { origin_steering, rate_limit, redirect, ...fields } = o;
    config = { ...config, ...fields };
    if (origin_steering !== undefined) extras = { ...extras, origin_steering };
    if (rate_limit !== undefined) extras = { ...extras, rate_limit };
    if (redirect !== undefined) extras = { ...extras, redirect };
  }
  return { config, extras };
}

export interface RuleOutcome {
  /** Indexes (in CompiledRule order) of the rules that matched. */
  matched: number[];
  /** The first matching rule with a fixed response: it answers the request. */
  fixed: CompiledRule | undefined;
}

/** Tries the rules in order: a fixed response or `terminates` stops there. */
export function evaluateRules(rules: readonly CompiledRule[], view: RequestView, trace?: string[]): RuleOutcome {
  const matched: number[] = [];
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (!rule.test(view)) {
      trace?.push(`rule ${rule.name}: no match`);
      continue;
    }
    matched.push(i);
    if (rule.fixed !== null) {
      trace?.push(`rule ${rule.name}: matched; fixed response ${rule.fixed.status_code}`);
      return { matched, fixed: rule };
    }
    trace?.push(`rule ${rule.name}: matched${rule.overrides === undefined ? '' : `; overrides ${Object.keys(rule.overrides).join(', ')}`}${rule.terminates ? '; terminates' : ''}`);
    if (rule.terminates) break;
  }
  return { matched, fixed: undefined };
}

/** What a condition reads of a request, each field computed when first read. */
export function requestView(method: string, url: URL, headers: Headers, facts: ClientFacts, continent: string | undefined, lbName: string): RequestView {
  let cookies: Map<string, string> | undefined;
  return {
    get host() {
      return url.hostname;
    },
    get method() {
      return method;
    },
    get uri() {
      return url.pathname + url.search;
    },
    get path() {
      return url.pathname;
    },
    get query() {
      return url.search.slice(1);
    },
    get fullUri() {
      return url.href;
    },
    header: (name) => headers.get(name) ?? undefined,
    cookie(name) {
      cookies ??= parseCookies(headers.get('cookie') ?? '');
      return cookies.get(name);
    },
    get cookieHeader() {
      return headers.get('cookie') ?? '';
    },
    get ip() {
      return facts.ip;
    },
    get country() {
      return facts.country;
    },
    get continent() {
      return continent;
    },
    get colo() {
      return facts.colo;
    },
    get loadBalancer() {
      return lbName;
    },
  };
}

function parseCookies(header: string): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    if (name !== '' && !cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}
