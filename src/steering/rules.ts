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

type RateLimit = NonNullable<Rule['overrides']['rate_limit']>;

/**
 * What the rules' Switchyard-only overrides set (SPEC §9, "(ext)"): a later rule's
 * origin_steering and redirect replace an earlier one's; every matching rule's
 * rate_limit counts the request, so a later rule cannot lift an earlier limit.
 */
export interface RuleExtras {
  origin_steering?: Rule['overrides']['origin_steering'];
  redirect?: Rule['overrides']['redirect'];
  rate_limits?: readonly RateLimit[];
}

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
    if (rate_limit !== undefined && !extras.rate_limits?.some((r) => r.binding === rate_limit.binding && r.key === rate_limit.key)) {
      extras = { ...extras, rate_limits: [...(extras.rate_limits ?? []), rate_limit] };
    }
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

/**
 * What a condition reads of a request, each field computed when read. A class, so
 * that the getters live on the prototype: an object literal with a dozen getters
 * costs microseconds to build per request, an instance of this class nanoseconds.
 */
class View implements RequestView {
  private cookies: Map<string, string> | undefined;

  constructor(
    readonly method: string,
    private readonly url: URL,
    private readonly headers: Headers,
    private readonly facts: ClientFacts,
    readonly continent: string | undefined,
    readonly loadBalancer: string,
  ) {}

  get host(): string {
    return this.url.hostname;
  }
  get uri(): string {
    return normalizedPath(this.url.pathname) + this.url.search;
  }
  get path(): string {
    return normalizedPath(this.url.pathname);
  }
  get query(): string {
    return this.url.search.slice(1);
  }
  get fullUri(): string {
    return this.url.href;
  }
  header(name: string): string | undefined {
    return this.headers.get(name) ?? undefined;
  }
  cookie(name: string): string | undefined {
    this.cookies ??= parseCookies(this.headers.get('cookie') ?? '');
    return this.cookies.get(name);
  }
  get cookieHeader(): string {
    return this.headers.get('cookie') ?? '';
  }
  get ip(): string {
    return this.facts.ip;
  }
  get country(): string | undefined {
    return this.facts.country;
  }
  get colo(): string | undefined {
    return this.facts.colo;
  }
}

/** What a condition reads of a request, each field computed when read. */
export function requestView(method: string, url: URL, headers: Headers, facts: ClientFacts, continent: string | undefined, lbName: string): RequestView {
  return new View(method, url, headers, facts, continent, lbName);
}

/** Unreserved characters (RFC 3986 §2.3), which a percent-escape need not hide. */
const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * The path as Cloudflare's URL normalisation hands it to rules on the edge: escapes of
 * unreserved characters decoded, other escapes upper-cased, runs of "/" merged (the URL
 * parser already turned "\" into "/" and resolved dot segments). Locally and on a zone
 * with normalisation off, "/api//search" and "/api/%73earch" would otherwise slip past
 * a condition on "/api/search". A path with neither "%" nor "//" is returned as it is.
 */
export function normalizedPath(path: string): string {
  if (!path.includes('%') && !path.includes('//')) return path;
  const decoded = path.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : escape.toUpperCase();
  });
  const merged = decoded.replace(/\/{2,}/g, '/');
  // A decoded "%2E" may have made a dot segment: resolve it as the URL parser does.
  return merged.includes('/.') ? new URL(merged, 'http://n').pathname : merged;
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
