import { compileCondition } from '../../rules/condition';
import { fixedResponseSchema, MAX_FIXED_BODY, MAX_RULES, ruleFields } from '../../rules/schema';
import { boolean, boundedInteger, bounds, isEmpty, isObject, noteUnknownFields, type Context, type Json, type Note } from './notes';
import { importSteering, noteRoutingOptions, poolList, STEERING_FIELDS, type LoadBalancerInput, type SteeringInput } from './steering-fields';

// Cloudflare load balancer rules to Switchyard's (SPEC §9): the same fields under the same
// names. The condition is kept as written when Switchyard's condition language compiles
// it (a rule whose condition does not is left out, the note giving the column); the
// overrides map as the load balancer's own fields do (steering-fields.ts); a fixed
// response maps one to one. adaptive_routing, location_strategy and ttl have no
// equivalent.

type RuleInput = NonNullable<LoadBalancerInput['rules']>[number];
type FixedResponseInput = NonNullable<RuleInput['fixed_response']>;

const RULE_FIELDS = new Set(['name', 'condition', 'disabled', 'priority', 'terminates', 'fixed_response', 'overrides']);
const OVERRIDE_FIELDS = new Set<string>([...STEERING_FIELDS, 'adaptive_routing', 'location_strategy', 'ttl']);
const FIXED_FIELDS = fixedResponseSchema.unwrap().unwrap().shape;
const FIXED_RESPONSE_FIELDS = new Set(Object.keys(FIXED_FIELDS));

/** Cloudflare: "An empty condition is always true". Switchyard's language has no empty condition: it is written `true`. */
const ALWAYS = 'true';

/**
 * A load balancer's rules; undefined when none was imported. `lb` is the load balancer as
 * imported so far: the settings a rule's overrides leave alone.
 */
export function importRules(value: unknown, path: string, lb: LoadBalancerInput, ctx: Context): RuleInput[] | undefined {
  const { note } = ctx;
  if (isEmpty(value)) return undefined;
  if (!Array.isArray(value)) return void note(path, 'expected an array of rules; ignored');
  const rules: RuleInput[] = [];
  value.forEach((raw, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(raw)) return note(at, 'not an object; rule not imported');
    const rule = importRule(raw, at, i, lb, ctx);
    if (rule !== undefined) rules.push(rule);
  });
  if (rules.length > MAX_RULES) {
    // Keep the ones tried first (priority, then list order), in list order.
    const tried = rules.map((rule, index) => ({ priority: rule.priority ?? 0, index })).sort((a, b) => a.priority - b.priority || a.index - b.index);
    const kept = new Set(tried.slice(0, MAX_RULES).map(({ index }) => index));
    const left = rules.filter((_, index) => !kept.has(index)).map((rule) => JSON.stringify(rule.name));
    note(path, `a load balancer holds at most ${MAX_RULES} rules; the ${left.length} tried last not imported: ${left.join(', ')}`);
    return rules.filter((_, index) => kept.has(index));
  }
  return rules.length > 0 ? rules : undefined;
}

function importRule(raw: Json, path: string, position: number, lb: LoadBalancerInput, ctx: Context): RuleInput | undefined {
  const { note } = ctx;
  const at = (field: string) => `${path}.${field}`;

  let name = `rule ${position + 1}`;
  if (typeof raw.name === 'string' && raw.name.trim() !== '') name = raw.name.trim().slice(0, ruleFields.name.maxLength ?? undefined);
  else if (!isEmpty(raw.name)) note(at('name'), `expected a string, got ${JSON.stringify(raw.name)}; "${name}" used`);
  const label = JSON.stringify(name);

  // What Switchyard cannot do as Cloudflare does leaves the rule out, checked before its pool references are counted.
  const condition = ruleCondition(raw.condition, at('condition'), label, note);
  if (condition === undefined) return undefined;
  const fixed = fixedResponse(raw.fixed_response, at('fixed_response'), label, note);
  if (fixed === false) return undefined;

  const rule: RuleInput = { name, condition };
  const { min, max } = bounds(ruleFields.priority);
  const priority = boundedInteger(raw.priority, min, max, at('priority'), note);
  if (priority !== undefined) rule.priority = priority;
  const disabled = boolean(raw.disabled, at('disabled'), note);
  if (disabled !== undefined) rule.disabled = disabled;
  const terminates = boolean(raw.terminates, at('terminates'), note);
  if (terminates !== undefined) rule.terminates = terminates;
  if (fixed !== undefined) rule.fixed_response = fixed;
  const overrides = importOverrides(raw.overrides, at('overrides'), lb, ctx);
  if (overrides !== undefined) rule.overrides = overrides;

  noteUnknownFields(raw, RULE_FIELDS, path, note);
  return rule;
}

/** The condition as written when it compiles; an empty one becomes ALWAYS; undefined (noted) otherwise. */
function ruleCondition(value: unknown, path: string, label: string, note: Note): string | undefined {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    note(path, `empty: Cloudflare matches every request, imported as ${ALWAYS}`);
    return ALWAYS;
  }
  if (typeof value !== 'string') return void note(path, `expected a condition, got ${JSON.stringify(value)}; rule ${label} not imported`);
  const compiled = compileCondition(value);
  if (compiled.ok) return value;
  const column = `column ${compiled.column}`;
  const error = compiled.message.includes(column) ? compiled.message : `${compiled.message} (${column})`;
  return void note(path, `Cloudflare's condition ${JSON.stringify(value)} does not compile in Switchyard's condition language: ${error}; rule ${label} not imported`);
}

/**
 * The fixed response, field for field (Cloudflare's status_code defaults to 200); undefined
 * when there is none; false (noted) when Switchyard cannot answer it, which leaves the rule out.
 */
function fixedResponse(value: unknown, path: string, label: string, note: Note): FixedResponseInput | undefined | false {
  // Exports write an unset fixed response as null, {} or its fields at their zero values.
  if (value === undefined || value === null || (isObject(value) && Object.values(value).every((v) => isEmpty(v) || v === 0))) return undefined;
  if (!isObject(value)) {
    note(path, `expected an object, got ${JSON.stringify(value)}; rule ${label} not imported`);
    return false;
  }
  const at = (field: string) => `${path}.${field}`;
  const { min, max } = bounds(FIXED_FIELDS.status_code);
  const status = value.status_code ?? 0;
  if (status !== 0 && !(typeof status === 'number' && Number.isInteger(status) && status >= min && status <= max)) {
    note(at('status_code'), `${JSON.stringify(status)} is not a status Switchyard answers with (${min}..${max}); rule ${label} not imported`);
    return false;
  }
  const out: FixedResponseInput = { status_code: status === 0 ? 200 : status };

  const body = value.message_body;
  if (typeof body === 'string') {
    if (body.length > MAX_FIXED_BODY) note(at('message_body'), `${body.length} characters cut to ${MAX_FIXED_BODY}, the most a fixed response holds`);
    if (body !== '') out.message_body = body.slice(0, MAX_FIXED_BODY);
  } else if (body !== undefined && body !== null) note(at('message_body'), `expected a string, got ${JSON.stringify(body)}; the body is empty`);

  for (const field of ['content_type', 'location'] as const) {
    const header = value[field];
    if (header === undefined || header === null || header === '') continue;
    if (typeof header === 'string' && FIXED_FIELDS[field].safeParse(header).success) out[field] = header;
    else note(at(field), `${JSON.stringify(header)} is not a header value (a string without CR, LF or NUL); ignored`);
  }

  noteUnknownFields(value, FIXED_RESPONSE_FIELDS, path, note);
  return out;
}

/** The overrides, mapped as the load balancer's own fields; undefined when none is left. */
function importOverrides(value: unknown, path: string, lb: LoadBalancerInput, ctx: Context): SteeringInput | undefined {
  const { note } = ctx;
  if (isEmpty(value)) return undefined;
  if (!isObject(value)) return void note(path, 'expected an object; ignored');
  const out: SteeringInput = {};

  if (!isEmpty(value.default_pools)) {
    const pools = poolList(value.default_pools, `${path}.default_pools`, ctx);
    if (pools.length > 0) out.default_pools = pools;
    else note(`${path}.default_pools`, "no imported pool left; the load balancer's default pools apply");
  }
  importSteering(value, path, out, ctx, lb);
  noteRoutingOptions(value, path, note);
  if (!isEmpty(value.ttl)) note(`${path}.ttl`, 'not supported: ttl is the DNS TTL of DNS-only load balancing, and Switchyard always proxies; ignored');

  noteUnknownFields(value, OVERRIDE_FIELDS, path, note);
  return Object.keys(out).length > 0 ? out : undefined;
}
