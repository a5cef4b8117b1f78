import { test } from 'node:test';
import assert from 'node:assert/strict';
import { edgeLabel, layoutGraph } from './graphLayout.ts';
import type { GraphView } from './model.ts';

const edge = (from: string, to: string, observedCalls = 0) => ({ from, to, declared: observedCalls === 0, observedCalls, lastSeen: null });
const graph = (root: string, paths: string[], edges: ReturnType<typeof edge>[]): GraphView => ({
  root,
  depth: 2,
  nodes: paths.map((path, id) => ({ id, path, service: true })),
  edges,
  upstreams: edges.filter((e) => e.from === root).map((e) => e.to),
  downstreams: edges.filter((e) => e.to === root).map((e) => e.from),
});

test('puts upstreams left of the service and downstreams right of it, a column per hop', () => {
  const g = graph('s.api', ['s.api', 's.db', 's.cache', 's.front', 's.edge'], [edge('s.api', 's.db'), edge('s.db', 's.cache'), edge('s.front', 's.api', 7), edge('s.edge', 's.front')]);
  const at = new Map(layoutGraph(g).nodes.map((n) => [n.path, n]));
  assert.deepEqual(['s.cache', 's.db', 's.api', 's.front', 's.edge'].map((p) => at.get(p)?.layer), [-2, -1, 0, 1, 2]);
  const xs = ['s.cache', 's.db', 's.api', 's.front', 's.edge'].map((p) => at.get(p)?.x ?? NaN);
  assert.deepEqual([...xs].sort((a, b) => a - b), xs, 'columns run left to right');
  assert.equal(at.get('s.api')?.root, true);
});

test('another caller of an upstream shares the service column, and labels carry call counts', () => {
  const g = graph('s.api', ['s.api', 's.db', 's.batch'], [edge('s.api', 's.db', 3), edge('s.batch', 's.db', 1)]);
  const l = layoutGraph(g);
  assert.equal(l.nodes.find((n) => n.path === 's.batch')?.layer, 0);
  assert.deepEqual(l.edges.map((e) => e.label).sort(), ['1 call', '3 calls']);
  for (const e of l.edges) assert.match(e.d, /^M [\d.]+ [\d.]+ C /);
});

test('survives a cycle and a lone root', () => {
  const cyc = layoutGraph(graph('a', ['a', 'b'], [edge('a', 'b'), edge('b', 'a')]));
  assert.equal(cyc.edges.length, 2);
  assert.ok(cyc.edges.every((e) => !e.d.includes('NaN')));
  const lone = layoutGraph(graph('a', ['a'], []));
  assert.equal(lone.nodes.length, 1);
  assert.ok(lone.width >= 320);
});

test('edge labels read as counts', () => {
  assert.deepEqual([0, 1, 1234, 12_345, 250_000].map(edgeLabel), ['declared', '1 call', '1,234 calls', '12.3k calls', '250k calls']);
});
