/*
 * Prometheus's text exposition format (version 0.0.4), written by hand: the worker's health server serves
 * a few gauges, and the engine takes no metrics library for that. The dashboard uses prom-client.
 */

export interface MetricSample {
  labels?: Readonly<Record<string, string>>;
  value: number;
}

export interface MetricFamily {
  /** `[a-zA-Z_:][a-zA-Z0-9_:]*` */
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  samples: readonly MetricSample[];
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** The families as exposition text. @throws Error for a malformed metric or label name (a bug, not input) */
export function prometheusText(families: readonly MetricFamily[]): string {
  return families
    .map((family) => {
      if (!METRIC_NAME.test(family.name)) throw new Error(`bad metric name ${family.name}`);
      const lines = [`# HELP ${family.name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${family.name} ${family.type}`];
      for (const sample of family.samples) {
        const labels = Object.entries(sample.labels ?? {}).map(([name, value]) => {
          if (!LABEL_NAME.test(name)) throw new Error(`bad label name ${name}`);
          return `${name}="${escapeLabel(value)}"`;
        });
        lines.push(`${family.name}${labels.length > 0 ? `{${labels.join(',')}}` : ''} ${formatValue(sample.value)}`);
      }
      return lines.join('\n');
    })
    .join('\n')
    .concat('\n');
}
