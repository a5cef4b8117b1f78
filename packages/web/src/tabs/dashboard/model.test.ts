import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chartOption, formatValue, PANELS, seriesName } from './model.ts';

test('values read in their unit', () => {
  assert.equal(formatValue(0.4567, 'ratio'), '46%');
  assert.equal(formatValue(0.05, 'ratio'), '5.0%');
  assert.equal(formatValue(3 * 1024 * 1024, 'bytes/s'), '3.0 MiB/s');
  assert.equal(formatValue(512, 'bytes/s'), '512 B/s');
  assert.equal(formatValue(1.234, 'ratio/cpu'), '1.23');
});

test('a panel is one line per series, named by machine, with the range as the x axis', () => {
  const opt = chartOption({ source: 'canopy', metric: 'm', agg: 'avg', from: 0, to: 60_000, step: 10, machines: 2, series: [{ labels: { hostname: 'a' }, points: [[0, 0.5]] }, { labels: { hostname: 'b' }, points: [[0, 0.25]] }] }, 'ratio', 'CPU') as {
    series: { name: string; data: unknown }[];
    xAxis: { min: number; max: number };
    yAxis: { max: number };
  };
  assert.deepEqual(opt.series.map((s) => s.name), ['a', 'b']);
  assert.deepEqual([opt.xAxis.min, opt.xAxis.max, opt.yAxis.max], [0, 60_000, 1]);
  assert.equal(seriesName({}, 'avg CPU'), 'avg CPU');
  assert.ok(PANELS.some((p) => p.name === 'instance:node_cpu_utilisation:rate1m'));
});
