import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../test-utils/prometheus-parser.js';
import { prometheusText } from './prometheus-text.js';

describe('prometheusText', () => {
  it('writes HELP, TYPE and samples with escaped label values, which a strict reader reads back', () => {
    const text = prometheusText([
      { name: 'tsk_a', help: 'A gauge\nwith a line feed and a \\', type: 'gauge', samples: [{ labels: { worker: 'w "1"\\\nx' }, value: 3 }, { labels: { worker: 'w2' }, value: 0.5 }] },
      { name: 'tsk_b', help: 'B', type: 'counter', samples: [{ value: Infinity }] },
    ]);
    expect(text).toBe(
      '# HELP tsk_a A gauge\\nwith a line feed and a \\\\\n# TYPE tsk_a gauge\ntsk_a{worker="w \\"1\\"\\\\\\nx"} 3\ntsk_a{worker="w2"} 0.5\n# HELP tsk_b B\n# TYPE tsk_b counter\ntsk_b +Inf\n',
    );
    const families = parsePrometheusText(text);
    expect(families.get('tsk_a')?.samples.map((sample) => sample.labels.worker)).toEqual(['w "1"\\\nx', 'w2']);
    expect(families.get('tsk_b')?.samples[0]?.value).toBe(Infinity);
  });

  it('refuses a malformed metric or label name', () => {
    expect(() => prometheusText([{ name: 'tsk-a', help: '', type: 'gauge', samples: [] }])).toThrow(/bad metric name/);
    expect(() => prometheusText([{ name: 'tsk_a', help: '', type: 'gauge', samples: [{ labels: { 'a-b': 'x' }, value: 1 }] }])).toThrow(/bad label name/);
  });
});

describe('the strict test reader', () => {
  const ok = '# HELP x X\n# TYPE x gauge\nx{a="1"} 1\n';
  it('reads good text and refuses what the format forbids', () => {
    expect(parsePrometheusText(ok).get('x')?.samples).toEqual([{ name: 'x', labels: { a: '1' }, value: 1 }]);
    for (const bad of [
      'x 1\n', // no declared family
      '# TYPE x gauge\nx{a="1"} one\n', // value
      '# TYPE x gauge\nx{a=1} 1\n', // unquoted label
      '# TYPE x gauge\nx{a="1"} 1\nx{a="1"} 2\n', // the same series twice
      '# TYPE x gauge\nx{a="\\t"} 1\n', // unknown escape
      '# TYPE x gauge\n# TYPE y gauge\ny 1\nx 1\n', // family split
      '# TYPE x gauge\nx 1', // no final line feed
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', // not cumulative
      '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n', // +Inf is not count
    ]) {
      expect(() => parsePrometheusText(bad), bad).toThrow();
    }
  });
});
