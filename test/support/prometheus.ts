// A strict reader of the Prometheus text exposition format (0.0.4), for tests: it
// throws on any line the format does not allow, and checks the rules that make a
// scrape usable (TYPE before samples, one block per family, counters >= 0,
// histogram buckets cumulative with +Inf equal to _count).

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? ([^ ]+)(?: (-?\\d+))?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/;

function parseValue(text: string, line: number): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`line ${line}: bad value "${text}"`);
  return Number(text);
}

function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length > 0) {
    const match = LABEL.exec(rest);
    if (match === null) throw new Error(`line ${line}: bad labels "${text}"`);
    if (match[1]! in labels) throw new Error(`line ${line}: duplicate label ${match[1]}`);
    labels[match[1]!] = match[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(match[0].length);
  }
  return labels;
}

export function parsePrometheus(text: string): MetricFamily[] {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, MetricFamily>();
  let current: MetricFamily | undefined;
  text
    .slice(0, -1)
    .split('\n')
    .forEach((raw, index) => {
      const line = index + 1;
      if (raw.trim() === '') return;
      const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (meta !== null) {
        const [, kind, name, rest] = meta as unknown as [string, 'HELP' | 'TYPE', string, string];
        if (!new RegExp(`^${NAME}$`).test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
        if (current?.name !== name) {
          if (families.has(name)) throw new Error(`line ${line}: ${name} appears in two blocks`);
          current = { name, type: 'untyped', help: '', samples: [] };
          families.set(name, current);
        }
        if (kind === 'HELP') current.help = rest;
        else {
          if (current.samples.length > 0) throw new Error(`line ${line}: TYPE of ${name} after its samples`);
          if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`line ${line}: bad type ${rest}`);
          current.type = rest as MetricFamily['type'];
        }
        return;
      }
      if (raw.startsWith('#')) return;
      const match = SAMPLE.exec(raw);
      if (match === null) throw new Error(`line ${line}: not a sample: ${raw}`);
      const name = match[1]!;
      const base = current?.type === 'histogram' ? name.replace(/_(bucket|sum|count)$/, '') : name;
      if (current === undefined || base !== current.name) throw new Error(`line ${line}: ${name} outside its family's block`);
      const sample = { name, labels: parseLabels(match[2] ?? '', line), value: parseValue(match[3]!, line) };
      if (current.type === 'counter' && !(sample.value >= 0)) throw new Error(`line ${line}: counter ${name} is ${sample.value}`);
      current.samples.push(sample);
    });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return [...families.values()];
}

function checkHistogram(family: MetricFamily): void {
  const series = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(rest);
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (sample.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: bucket without le`);
      entry.buckets.push([parseValue(le, 0), sample.value]);
    } else if (sample.name.endsWith('_count')) entry.count = sample.value;
  }
  for (const [key, { buckets, count }] of series) {
    for (let i = 1; i < buckets.length; i++) {
      if (buckets[i]![0] <= buckets[i - 1]![0] || buckets[i]![1] < buckets[i - 1]![1]) throw new Error(`${family.name}${key}: buckets not cumulative`);
    }
    if (buckets.at(-1)?.[0] !== Infinity || buckets.at(-1)?.[1] !== count) throw new Error(`${family.name}${key}: +Inf bucket must equal _count`);
  }
}

/** The value of the one sample of a family whose labels include `labels`. */
export function valueOf(families: MetricFamily[], name: string, labels: Record<string, string> = {}): number | undefined {
  const family = families.find((f) => f.name === name.replace(/_(bucket|sum|count)$/, '') || f.name === name);
  return family?.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
