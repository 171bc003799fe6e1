// The syntax tree the parser builds and the compiler reads. Every node keeps the
// offset where it starts in the condition, so a problem found after parsing still
// points at a column.

/** A problem with a condition, at `offset` (0-based) in its text. */
export class ConditionError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'ConditionError';
  }
}

/** A field, or a function of one: what the left side of a comparison reads. */
export type ValueNode =
  | { kind: 'field'; name: string; key: StringNode | undefined; index: LiteralNode | undefined; at: number; end: number }
  | { kind: 'function'; name: 'lower' | 'len'; arg: ValueNode; at: number; end: number };

/** A string literal: `text` is what stood between the delimiters, escapes not yet applied. */
export interface StringNode {
  kind: 'string';
  text: string;
  raw: boolean;
  at: number;
}

export interface NumberNode {
  kind: 'number';
  text: string;
  at: number;
}

/** An IPv4 or IPv6 address, or a CIDR range, as written. */
export interface IpNode {
  kind: 'ip';
  text: string;
  at: number;
}

export type LiteralNode = StringNode | NumberNode | IpNode;

export interface RangeNode {
  kind: 'range';
  from: LiteralNode;
  to: LiteralNode;
  at: number;
}

export type SetItemNode = LiteralNode | RangeNode;

/** The comparison operators, by their English names (`==` is `eq`, `~` is `matches`). */
export type Operator = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'contains' | 'matches' | 'wildcard' | 'strict wildcard';

export type ConditionNode =
  | { kind: 'or' | 'xor' | 'and'; items: ConditionNode[] }
  | { kind: 'not'; item: ConditionNode }
  | { kind: 'const'; value: boolean; at: number }
  | { kind: 'compare'; value: ValueNode; operator: Operator; operand: LiteralNode; at: number }
  | { kind: 'in'; value: ValueNode; items: SetItemNode[]; at: number }
  | { kind: 'call'; name: 'starts_with' | 'ends_with'; value: ValueNode; arg: StringNode; at: number };
