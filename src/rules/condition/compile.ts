import { addressSpan, inSpan, requestAddress, singleAddress, type Address } from './addresses';
import { fieldNamed, isMapField, type FieldName, type RequestView } from './fields';
import { CONDITION_LIMITS } from './limits';
import { compileRegex } from './regex';
import { ConditionError, type ConditionNode, type LiteralNode, type Operator, type SetItemNode, type StringNode, type ValueNode } from './syntax';
import { asciiLower, compareText, plainText, utf8Length } from './text';
import { compileWildcard } from './wildcard';

// From the syntax tree to closures, checking types on the way: text compares with
// strings, len() with numbers, ip.src with addresses. A missing value (an absent
// header or cookie, an unknown country) makes every comparison false, `ne` included,
// as on Cloudflare; `not` still inverts that false.

export type Test = (request: RequestView) => boolean;

type Read<T> = (request: RequestView) => T | undefined;
type TypedValue = { type: 'text'; read: Read<string> } | { type: 'number'; read: Read<number> } | { type: 'ip'; read: Read<Address> };

/** Header names as Cloudflare's map keys them: RFC 9110 tokens, lower-case. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
/** Cookie names: RFC 6265 tokens, case kept. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const always: Test = () => true;
const never: Test = () => false;

export class ConditionCompiler {
  /** The fields the compiled condition reads. */
  readonly fields = new Set<FieldName>();

  constructor(private readonly source: string) {}

  condition(node: ConditionNode): Test {
    switch (node.kind) {
      case 'or': {
        const items = node.items.map((item) => this.condition(item));
        return (request) => items.some((test) => test(request));
      }
      case 'and': {
        const items = node.items.map((item) => this.condition(item));
        return (request) => items.every((test) => test(request));
      }
      case 'xor': {
        const items = node.items.map((item) => this.condition(item));
        return (request) => items.reduce((odd, test) => odd !== test(request), false);
      }
      case 'not': {
        const item = this.condition(node.item);
        return (request) => !item(request);
      }
      case 'const':
        return node.value ? always : never;
      case 'call':
        return this.call(node.name, node.value, node.arg);
      case 'compare':
        return this.compare(node.value, node.operator, node.operand, node.at);
      case 'in':
        return this.membership(node.value, node.items);
    }
  }

  private call(name: 'starts_with' | 'ends_with', valueNode: ValueNode, arg: StringNode): Test {
    const read = this.text(valueNode, `${name}()`);
    const affix = plainText(arg);
    return name === 'starts_with'
      ? (request) => read(request)?.startsWith(affix) ?? false
      : (request) => read(request)?.endsWith(affix) ?? false;
  }

  private compare(valueNode: ValueNode, operator: Operator, operand: LiteralNode, at: number): Test {
    const value = this.value(valueNode);
    if (value.type === 'ip') {
      if (operator !== 'eq' && operator !== 'ne') throw this.notFor(operator, at, valueNode, 'eq, ne and in');
      const address = singleAddress(operand.kind === 'ip' ? operand : this.wrongOperand(valueNode, operand, 'an IP address'));
      const same = (a: Address) => a.family === address.family && a.value === address.value;
      return operator === 'eq' ? defined(value.read, same) : defined(value.read, (a) => !same(a));
    }
    if (value.type === 'number') {
      const order = ORDERS[operator];
      if (order === undefined) throw this.notFor(operator, at, valueNode, 'eq, ne, lt, le, gt, ge and in');
      if (operand.kind !== 'number') throw this.wrongOperand(valueNode, operand, 'a number');
      const n = this.number(operand);
      return defined(value.read, (v) => order(v - n));
    }
    if (operand.kind !== 'string') throw this.wrongOperand(valueNode, operand, 'a string ("…")');
    switch (operator) {
      case 'matches':
        return defined(value.read, compileRegex(operand));
      case 'wildcard':
      case 'strict wildcard':
        return defined(value.read, compileWildcard(operand, operator === 'strict wildcard'));
      case 'contains': {
        const part = plainText(operand);
        return defined(value.read, (v) => v.includes(part));
      }
      default: {
        const text = plainText(operand);
        const order = ORDERS[operator]!;
        return defined(value.read, (v) => order(v === text ? 0 : compareText(v, text)));
      }
    }
  }

  private membership(valueNode: ValueNode, items: SetItemNode[]): Test {
    const excess = items[CONDITION_LIMITS.setItems];
    if (excess !== undefined) {
      throw new ConditionError(`a set holds at most ${CONDITION_LIMITS.setItems} values (column ${excess.at + 1})`, excess.at);
    }
    const value = this.value(valueNode);
    if (value.type === 'ip') {
      const spans = items.map((item) => (item.kind === 'range' ? addressSpan(item.from, item.to) : addressSpan(item)));
      return defined(value.read, (a) => spans.some((span) => inSpan(a, span)));
    }
    if (value.type === 'number') {
      const singles = new Set<number>();
      const ranges: [number, number][] = [];
      for (const item of items) {
        if (item.kind !== 'range') singles.add(this.number(item.kind === 'number' ? item : this.wrongOperand(valueNode, item, 'numbers')));
        else ranges.push(this.numberRange(valueNode, item.from, item.to));
      }
      return defined(value.read, (n) => singles.has(n) || ranges.some(([low, high]) => n >= low && n <= high));
    }
    const strings = new Set<string>();
    for (const item of items) {
      if (item.kind === 'range') throw new ConditionError(`ranges (a..b) are for numbers and IP addresses, not text (column ${item.at + 1})`, item.at);
      strings.add(plainText(item.kind === 'string' ? item : this.wrongOperand(valueNode, item, 'strings ("…")')));
    }
    return defined(value.read, (v) => strings.has(v));
  }

  private value(node: ValueNode): TypedValue {
    if (node.kind === 'function') {
      const read = this.text(node.arg, `${node.name}()`);
      if (node.name === 'lower') return { type: 'text', read: (request) => mapDefined(read(request), asciiLower) };
      return { type: 'number', read: (request) => mapDefined(read(request), utf8Length) };
    }
    const field = fieldNamed(node.name);
    if (field === undefined) throw new ConditionError(`unknown field ${node.name} at column ${node.at + 1}`, node.at);
    this.fields.add(node.name as FieldName);
    if (!isMapField(field)) {
      if (node.key !== undefined) throw new ConditionError(`${node.name} takes no ["…"] (column ${node.key.at + 1})`, node.key.at);
      if (field.type === 'ip') return { type: 'ip', read: (request) => requestAddress(field.read(request) ?? '') };
      return { type: 'text', read: field.read };
    }
    if (node.key === undefined) {
      throw new ConditionError(`${node.name} needs a ${field.keyName} name: ${node.name}["name"] (column ${node.at + 1})`, node.at);
    }
    const key = plainText(node.key);
    const valid = field.keyName === 'header' ? HEADER_NAME : COOKIE_NAME;
    if (!valid.test(key)) {
      const hint = field.keyName === 'header' && HEADER_NAME.test(key.toLowerCase()) ? `; header names are lower-case: ${node.name}["${key.toLowerCase()}"]` : '';
      throw new ConditionError(`${JSON.stringify(key)} at column ${node.key.at + 1} is not a ${field.keyName} name${hint}`, node.key.at);
    }
    // [0] is Cloudflare's first value of the field; the view gives that value already.
    if (node.index !== undefined && !(node.index.kind === 'number' && Number(node.index.text) === 0)) {
      throw new ConditionError(`only [0] (the first value) can follow ${node.name}["${key}"] (column ${node.index.at + 1})`, node.index.at);
    }
    return { type: 'text', read: (request) => field.read(request, key) };
  }

  /** A value that must be text, for a function's argument. */
  private text(node: ValueNode, user: string): Read<string> {
    const value = this.value(node);
    if (value.type !== 'text') {
      throw new ConditionError(`${user} takes text; ${this.quote(node)} is ${value.type === 'ip' ? 'an IP address' : 'a number'} (column ${node.at + 1})`, node.at);
    }
    return value.read;
  }

  private number(node: LiteralNode): number {
    const n = Number(node.text);
    if (!Number.isSafeInteger(n)) throw new ConditionError(`the number at column ${node.at + 1} is too large`, node.at);
    return n;
  }

  private numberRange(valueNode: ValueNode, from: LiteralNode, to: LiteralNode): [number, number] {
    const low = this.number(from.kind === 'number' ? from : this.wrongOperand(valueNode, from, 'numbers'));
    const high = this.number(to.kind === 'number' ? to : this.wrongOperand(valueNode, to, 'numbers'));
    if (low > high) throw new ConditionError(`the range at column ${from.at + 1} ends before it starts`, from.at);
    return [low, high];
  }

  private wrongOperand(valueNode: ValueNode, operand: LiteralNode, wanted: string): never {
    const found = operand.kind === 'string' ? 'a string' : operand.kind === 'number' ? 'a number' : 'an IP address';
    throw new ConditionError(`${this.quote(valueNode)} compares with ${wanted}, not ${found} (column ${operand.at + 1})`, operand.at);
  }

  private notFor(operator: Operator, at: number, valueNode: ValueNode, allowed: string): ConditionError {
    return new ConditionError(`${operator} does not apply to ${this.quote(valueNode)}, which compares with ${allowed} (column ${at + 1})`, at);
  }

  private quote(node: ValueNode): string {
    return this.source.slice(node.at, node.end);
  }
}

/** How each ordering operator reads a comparison's sign. */
const ORDERS: Partial<Record<Operator, (sign: number) => boolean>> = {
  eq: (sign) => sign === 0,
  ne: (sign) => sign !== 0,
  lt: (sign) => sign < 0,
  le: (sign) => sign <= 0,
  gt: (sign) => sign > 0,
  ge: (sign) => sign >= 0,
};

/** A test that is false on a missing value and asks `test` otherwise. */
function defined<T>(read: Read<T>, test: (value: T) => boolean): Test {
  return (request) => {
    const value = read(request);
    return value !== undefined && test(value);
  };
}

function mapDefined<T, U>(value: T | undefined, map: (value: T) => U): U | undefined {
  return value === undefined ? undefined : map(value);
}
