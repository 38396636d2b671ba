/**
 * A strict reader of Prometheus's text exposition format (0.0.4) for tests: it throws on anything a
 * Prometheus server would reject or that the format forbids (a malformed line, name, label or value; a
 * sample before its family's TYPE or of an undeclared family; a family's samples not together; the same
 * series twice; a histogram whose buckets are not cumulative or lack `+Inf` equal to `_count`).
 */

export interface ParsedSample {
  /** The sample's own name (`x_bucket`, `x_sum`… for a histogram). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string | undefined;
  samples: ParsedSample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, line: number): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/.test(text)) throw new Error(`line ${line}: bad value ${JSON.stringify(text)}`);
  return Number(text);
}

/** Label pairs from the text between `{` and `}`; escapes `\\`, `\"`, `\n` only. */
function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  const pair = new RegExp(`^(${LABEL})="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"(,?)`);
  while (rest.length > 0) {
    const match = pair.exec(rest);
    if (!match) throw new Error(`line ${line}: bad labels {${text}}`);
    const [whole, name = '', raw = '', comma] = match;
    if (name in labels) throw new Error(`line ${line}: label ${name} twice`);
    if (name.startsWith('__')) throw new Error(`line ${line}: reserved label ${name}`);
    labels[name] = raw.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(whole.length);
    if (comma === '' && rest.length > 0) throw new Error(`line ${line}: bad labels {${text}}`);
  }
  return labels;
}

function familyOf(sampleName: string, families: Map<string, ParsedFamily>): ParsedFamily | undefined {
  const exact = families.get(sampleName);
  if (exact !== undefined) return exact;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue;
    const family = families.get(sampleName.slice(0, -suffix.length));
    if (family !== undefined && (family.type === 'histogram' || (family.type === 'summary' && suffix !== '_bucket'))) return family;
  }
  return undefined;
}

function checkHistogram(family: ParsedFamily): void {
  const series = new Map<string, { buckets: { le: number; value: number }[]; count?: number; sum?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (sample.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: bucket without le`);
      entry.buckets.push({ le: parseValue(le, 0), value: sample.value });
    } else if (sample.name.endsWith('_count')) entry.count = sample.value;
    else if (sample.name.endsWith('_sum')) entry.sum = sample.value;
    else throw new Error(`${family.name}: sample ${sample.name} in a histogram`);
  }
  for (const [key, entry] of series) {
    const inf = entry.buckets.find((bucket) => bucket.le === Infinity);
    if (inf === undefined || entry.count === undefined || entry.sum === undefined) throw new Error(`${family.name}${key}: needs a +Inf bucket, _sum and _count`);
    if (inf.value !== entry.count) throw new Error(`${family.name}${key}: +Inf bucket ${inf.value} is not _count ${entry.count}`);
    const sorted = [...entry.buckets].sort((a, b) => a.le - b.le);
    sorted.forEach((bucket, i) => {
      if (i > 0 && bucket.value < (sorted[i - 1]?.value ?? 0)) throw new Error(`${family.name}${key}: buckets not cumulative at le=${bucket.le}`);
    });
  }
}

/** The families of `text`, by name. @throws Error naming the first line that breaks the format */
export function parsePrometheusText(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  const seen = new Set<string>();
  let current: ParsedFamily | undefined;
  const closed = new Set<string>();
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the text does not end with a line feed');
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    const meta = new RegExp(`^# (HELP|TYPE) (${NAME}) ?(.*)$`).exec(raw);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      if (closed.has(name)) throw new Error(`line ${line}: family ${name} continues after another family`);
      let family = families.get(name);
      if (family === undefined) {
        if (current !== undefined) closed.add(current.name);
        family = { name, type: 'untyped', help: undefined, samples: [] };
        families.set(name, family);
        current = family;
      }
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`line ${line}: unknown type ${rest}`);
        if (family.samples.length > 0) throw new Error(`line ${line}: TYPE after samples of ${name}`);
        family.type = rest as ParsedFamily['type'];
      } else {
        if (family.help !== undefined) throw new Error(`line ${line}: HELP twice for ${name}`);
        family.help = rest;
      }
      return;
    }
    if (raw.startsWith('#')) return;
    const sample = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`).exec(raw);
    if (!sample) throw new Error(`line ${line}: not a sample: ${JSON.stringify(raw)}`);
    const [, name = '', labelText = '', valueText = ''] = sample;
    const family = familyOf(name, families);
    if (family === undefined) throw new Error(`line ${line}: sample ${name} of no declared family`);
    if (family !== current) throw new Error(`line ${line}: sample ${name} away from its family's other lines`);
    const labels = parseLabels(labelText, line);
    const series = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(series)) throw new Error(`line ${line}: series ${series} twice`);
    seen.add(series);
    family.samples.push({ name, labels, value: parseValue(valueText, line) });
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

/** The values of `family`'s samples named `sampleName` (default: the family's name), summed by the label `by`. */
export function sumBy(families: Map<string, ParsedFamily>, family: string, by: string, sampleName = family): Map<string, number> {
  const sums = new Map<string, number>();
  for (const sample of families.get(family)?.samples ?? []) {
    if (sample.name !== sampleName) continue;
    const key = sample.labels[by] ?? '';
    sums.set(key, (sums.get(key) ?? 0) + sample.value);
  }
  return sums;
}
