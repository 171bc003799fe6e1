// What a PromQL expression (as Grafana stores it, with $variables) names: the metrics
// it selects with their label matchers, the labels it groups by, the functions it
// calls. Enough of the grammar to check a dashboard against the metrics exported, not
// an evaluator: it throws on what it cannot read, so a query it does not understand
// fails the test instead of passing unchecked.

export interface Selector {
  metric: string;
  /** Label names of the matchers inside {…}. */
  labels: string[];
}

export interface QueryNames {
  selectors: Selector[];
  /** Labels after by, without, on, ignoring, group_left and group_right. */
  grouping: string[];
  functions: string[];
}

/** PromQL's functions and aggregation operators. */
export const PROMQL_FUNCTIONS = new Set([
  'abs', 'absent', 'absent_over_time', 'acos', 'asin', 'atan', 'avg', 'avg_over_time', 'bottomk', 'ceil', 'changes', 'clamp', 'clamp_max',
  'clamp_min', 'cos', 'count', 'count_over_time', 'count_values', 'day_of_month', 'day_of_week', 'days_in_month', 'delta', 'deriv', 'exp',
  'floor', 'group', 'histogram_avg', 'histogram_count', 'histogram_fraction', 'histogram_quantile', 'histogram_sum', 'holt_winters', 'hour',
  'idelta', 'increase', 'irate', 'label_join', 'label_replace', 'last_over_time', 'ln', 'log10', 'log2', 'max', 'max_over_time', 'min',
  'min_over_time', 'minute', 'month', 'predict_linear', 'present_over_time', 'quantile', 'quantile_over_time', 'rate', 'resets', 'round',
  'scalar', 'sgn', 'sort', 'sort_desc', 'sqrt', 'stddev', 'stddev_over_time', 'stdvar', 'stdvar_over_time', 'sum', 'sum_over_time', 'time',
  'timestamp', 'topk', 'vector', 'year',
]);
/** The aggregation operators, which may take by/without before their parentheses. */
const AGGREGATIONS = new Set(['sum', 'avg', 'min', 'max', 'count', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values']);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

const TOKEN =
  /\s+|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\[[^\]]*\]|[A-Za-z_:][A-Za-z0-9_:]*|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|=~|!~|!=|==|>=|<=|[-+*/%^(){},=<>@]/y;

type Token = { kind: 'ident' | 'string' | 'punct' | 'other'; text: string };

function tokens(expr: string): Token[] {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expr.length) {
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(expr);
    if (match === null) throw new Error(`cannot read "${expr.slice(at, at + 20)}" in ${expr}`);
    const text = match[0];
    if (/^\s/.test(text)) continue;
    if (/^[A-Za-z_:]/.test(text)) out.push({ kind: 'ident', text });
    else if (/^["'`]/.test(text)) out.push({ kind: 'string', text });
    else if (/^[-+*/%^(){},=<>@!]/.test(text)) out.push({ kind: 'punct', text });
    else out.push({ kind: 'other', text });
  }
  return out;
}

export function queryNames(expr: string): QueryNames {
  const list = tokens(expr);
  const names: QueryNames = { selectors: [], grouping: [], functions: [] };
  let depth = 0;
  const matchers = (i: number, selector: Selector): number => {
    // list[i] is "{": name op "value" [, …] "}"
    let j = i + 1;
    while (list[j]?.text !== '}') {
      const [label, op, value] = [list[j], list[j + 1], list[j + 2]];
      if (label?.kind !== 'ident' || !['=', '!=', '=~', '!~'].includes(op?.text ?? '') || value?.kind !== 'string') throw new Error(`bad label matcher in ${expr}`);
      selector.labels.push(label.text);
      j += 3;
      if (list[j]?.text === ',') j++;
    }
    return j;
  };
  for (let i = 0; i < list.length; i++) {
    const token = list[i]!;
    const next = list[i + 1];
    if (token.text === '(') depth++;
    else if (token.text === ')') depth--;
    if (depth < 0) throw new Error(`unbalanced parentheses in ${expr}`);
    if (token.kind === 'punct' && token.text === '{') throw new Error(`a selector without a metric name in ${expr}`);
    if (token.kind !== 'ident') continue;
    const word = token.text;
    if (GROUPING.has(word) && next?.text === '(') {
      let j = i + 2;
      while (list[j]?.text !== ')') {
        if (list[j]?.kind === 'ident') names.grouping.push(list[j]!.text);
        else if (list[j]?.text !== ',') throw new Error(`bad label list after ${word} in ${expr}`);
        j++;
      }
      i = j;
    } else if (GROUPING.has(word) || KEYWORDS.has(word.toLowerCase())) {
      continue;
    } else if (next?.text === '(' || (AGGREGATIONS.has(word) && (next?.text === 'by' || next?.text === 'without'))) {
      if (!PROMQL_FUNCTIONS.has(word)) throw new Error(`unknown function ${word} in ${expr}`);
      names.functions.push(word);
    } else {
      const selector: Selector = { metric: word, labels: [] };
      names.selectors.push(selector);
      if (next?.text === '{') i = matchers(i + 1, selector);
    }
  }
  if (depth !== 0) throw new Error(`unbalanced parentheses in ${expr}`);
  return names;
}

/** Grafana's label_values(metric{…}, label) variable query. */
export function labelValuesQuery(query: string): { selector: Selector; label: string } {
  const match = /^label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(query.trim());
  if (match === null) throw new Error(`not a label_values query: ${query}`);
  const { selectors } = queryNames(match[1]!);
  if (selectors.length !== 1) throw new Error(`label_values needs one selector: ${query}`);
  return { selector: selectors[0]!, label: match[2]! };
}
