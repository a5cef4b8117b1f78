import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkEncoder, decodeChunk, historyValue } from './codec.ts';
import { parseSeriesKey, seriesKey } from './series.ts';
import { parseExposition, renderExposition } from './promtext.ts';
import { bucketise, combine } from './aggregate.ts';
import { effectiveRules, machineRules, type CollectRule } from './rules.ts';

test('a chunk gives back every bucket, gaps included, within history precision', () => {
  const enc = new ChunkEncoder(1_000_000, 60_000);
  const want: [number, number, number, number][] = [];
  let x = 0.37;
  for (let i = 0; i < 360; i++) {
    if (i % 17 === 5) continue; // a missing bucket
    x = i % 3 === 0 ? x : Math.abs(Math.sin(i) * 1e9 + i);
    const p: [number, number, number, number] = i % 4 === 0 ? [1_000_000 + i * 60_000, x, x, x] : [1_000_000 + i * 60_000, x, x * 0.5, x * 2 + 1];
    enc.append(...p);
    want.push(p);
  }
  enc.append(1_000_000 + 400 * 60_000, -0, Number.NEGATIVE_INFINITY, 1e308);
  want.push([1_000_000 + 400 * 60_000, -0, Number.NEGATIVE_INFINITY, 1e308]);
  const got = decodeChunk(enc.bytes(), enc.count, 1_000_000, 60_000);
  assert.equal(got.length, want.length);
  got.forEach((p, i) => {
    const w = want[i]!;
    assert.equal(p[0], w[0]);
    for (let k = 1; k < 4; k++) assert.equal(p[k], historyValue(w[k]!), `point ${i} value ${k}`);
    for (let k = 1; k < 4; k++) if (Number.isFinite(w[k]!) && w[k] !== 0) assert.ok(Math.abs((p[k]! - w[k]!) / w[k]!) < 8e-6);
  });
});

test('a constant series costs about three bits a bucket', () => {
  const enc = new ChunkEncoder(0, 60_000);
  for (let i = 0; i < 360; i++) enc.append(i * 60_000, 8_000_000_000, 8_000_000_000, 8_000_000_000);
  assert.ok(enc.bytes().length < 150, `${enc.bytes().length} bytes`);
});

test('buckets out of order are refused', () => {
  const enc = new ChunkEncoder(0, 60_000);
  enc.append(120_000, 1, 1, 1);
  assert.throws(() => enc.append(60_000, 1, 1, 1), /out of order/);
});

test('series keys round-trip with escaped label values', () => {
  const key = seriesKey('node_filesystem_avail_bytes', { mountpoint: '/a "b"\\c\nd', device: 'sda1', empty: '' });
  assert.equal(key, 'node_filesystem_avail_bytes{device="sda1",mountpoint="/a \\"b\\"\\\\c\\nd"}');
  assert.deepEqual(parseSeriesKey(key), { name: 'node_filesystem_avail_bytes', labels: { device: 'sda1', mountpoint: '/a "b"\\c\nd' } });
  assert.throws(() => parseSeriesKey('9bad'), /bad metric name/);
});

test('exposition text round-trips; bad lines are reported and skipped', () => {
  const text = renderExposition([{ name: 'up', help: 'is up', type: 'gauge', samples: [{ labels: { job: 'x' }, value: 1 }, { labels: {}, value: NaN }] }]);
  assert.match(text, /^# HELP up is up\n# TYPE up gauge\nup\{job="x"\} 1\nup NaN\n$/);
  const parsed = parseExposition(`${text}queue_depth 12 1700000000000\nbroken{ 1\nnovalue\n`);
  assert.deepEqual(parsed.samples.slice(0, 1), [{ name: 'up', labels: { job: 'x' }, value: 1 }]);
  assert.equal(parsed.samples[2]?.value, 12);
  assert.equal(parsed.errors.length, 2);
});

test('aggregation across machines: max keeps a spike, p95 ranks bucket averages', () => {
  const series = Array.from({ length: 20 }, (_, i) => bucketise([[0, i, i, i], [10_000, i, i, i === 3 ? 100 : i]], 60_000, 0, 60_000));
  assert.deepEqual(combine(series, 'max'), [[0, 100]]);
  assert.deepEqual(combine(series, 'avg'), [[0, 9.5]]);
  assert.deepEqual(combine(series, 'sum'), [[0, 190]]);
  assert.deepEqual(combine(series, 'p95'), [[0, 18]]);
});

test('a child rule replaces the inherited one of the same name; disabled removes it', () => {
  const port = (name: string, p: number, disabled?: boolean): CollectRule => ({ name, kind: 'port', port: p, ...(disabled ? { disabled } : {}) });
  const line = [
    { path: 'corp', rules: [port('ssh', 22), port('web', 80)] },
    { path: 'corp.db', rules: [port('web', 0, true), port('pg', 5432)] },
    { path: 'corp.db.main', rules: [port('ssh', 2222)] },
  ];
  const eff = effectiveRules(line);
  assert.deepEqual(eff.map((e) => [e.rule.name, e.from]), [['pg', 'corp.db'], ['ssh', 'corp.db.main']]);
  const other = effectiveRules(line.slice(0, 1));
  assert.deepEqual(machineRules([eff, other]).map((r) => r.name === 'ssh' && r.kind === 'port' ? r.port : r.name), ['pg', 2222, 'web']);
});
