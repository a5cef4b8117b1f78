/**
 * A small layered layout for the dependency graph, by hand (no graph library in the bundle): the
 * service sits in the middle column, what it calls (upstreams) to its left, what calls it
 * (downstreams) to its right, each further hop one more column out. Every edge then runs from a
 * caller to a callee one column to its left, so arrows all read the same way.
 */
import type { GraphView } from './model.ts';

export interface LaidNode {
  path: string;
  service: boolean;
  root: boolean;
  /** Column relative to the root: negative = upstream, positive = downstream. */
  layer: number;
  x: number;
  y: number;
  w: number;
  h: number;
  /** The label as drawn (long paths are shortened from the left; the full path is the tooltip). */
  label: string;
}

export interface LaidEdge {
  from: string;
  to: string;
  declared: boolean;
  observedCalls: number;
  /** SVG path data of the curve, ending at the callee. */
  d: string;
  labelX: number;
  labelY: number;
  label: string;
}

export interface Layout {
  width: number;
  height: number;
  nodes: LaidNode[];
  edges: LaidEdge[];
  /** Column headings: x of the column's centre and its layer. */
  columns: { layer: number; x: number }[];
}

const NODE_H = 34;
const ROW_GAP = 22;
const COL_GAP = 170;
const MARGIN = 16;
const HEAD = 40;
/** Wide enough for a two-line column heading. */
const MIN_COL_W = 130;
const MAX_LABEL = 34;
const CHAR_W = 7;

/** `12 calls`, `1.2k calls`; `declared` when nothing was observed. */
export function edgeLabel(observedCalls: number): string {
  if (observedCalls <= 0) return 'declared';
  const n = observedCalls >= 10_000 ? `${(observedCalls / 1000).toFixed(observedCalls >= 100_000 ? 0 : 1)}k` : observedCalls.toLocaleString('en');
  return `${n} call${observedCalls === 1 ? '' : 's'}`;
}

/** Shorten `path` from the left, where the common prefix sits. */
function shorten(path: string): string {
  return path.length <= MAX_LABEL ? path : `…${path.slice(path.length - MAX_LABEL + 1)}`;
}

/** Column of every node: breadth-first from the root, a callee one column left of its caller. */
function layers(g: GraphView): Map<string, number> {
  const out = new Map<string, number>([[g.root, 0]]);
  const queue = [g.root];
  while (queue.length > 0) {
    const cur = queue.shift() as string;
    const at = out.get(cur) as number;
    for (const e of g.edges) {
      const next = e.from === cur ? ([e.to, at - 1] as const) : e.to === cur ? ([e.from, at + 1] as const) : undefined;
      if (next && !out.has(next[0])) {
        out.set(next[0], next[1]);
        queue.push(next[0]);
      }
    }
  }
  for (const n of g.nodes) if (!out.has(n.path)) out.set(n.path, 0);
  return out;
}

/** Order each column by the mean row of its neighbours nearer the root, so edges cross less. */
function order(g: GraphView, layerOf: Map<string, number>): Map<number, string[]> {
  const cols = new Map<number, string[]>();
  for (const n of [...g.nodes].sort((a, b) => a.path.localeCompare(b.path))) {
    const l = layerOf.get(n.path) ?? 0;
    cols.set(l, [...(cols.get(l) ?? []), n.path]);
  }
  const root = cols.get(0) ?? [];
  const others = root.filter((p) => p !== g.root);
  cols.set(0, [...others.slice(0, Math.floor(others.length / 2)), g.root, ...others.slice(Math.floor(others.length / 2))]);
  const row = new Map<string, number>();
  (cols.get(0) ?? []).forEach((p, i) => row.set(p, i));
  const outward = [...cols.keys()].filter((l) => l !== 0).sort((a, b) => Math.abs(a) - Math.abs(b));
  for (const l of outward) {
    const inner = l > 0 ? l - 1 : l + 1;
    const score = (p: string) => {
      const ys = g.edges.flatMap((e) => (e.from === p ? [e.to] : e.to === p ? [e.from] : [])).filter((q) => layerOf.get(q) === inner).map((q) => row.get(q) ?? 0);
      return ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : Number.MAX_SAFE_INTEGER;
    };
    const col = [...(cols.get(l) ?? [])].sort((a, b) => score(a) - score(b) || a.localeCompare(b));
    col.forEach((p, i) => row.set(p, i));
    cols.set(l, col);
  }
  return cols;
}

/**
 * Where each edge meets its two boxes: the edges on one side of a box are spread over its height in
 * the order of their other ends, so arrows into a busy service do not pile onto one point.
 */
function attachments(g: GraphView, nodes: Map<string, LaidNode>): Map<string, number> {
  const sides = new Map<string, { key: string; otherY: number }[]>();
  for (const e of g.edges) {
    const a = nodes.get(e.from);
    const b = nodes.get(e.to);
    if (!a || !b) continue;
    for (const [self, other, end] of [[a, b, 'from'], [b, a, 'to']] as const) {
      const side = `${self.path}|${other.x < self.x ? 'left' : 'right'}`;
      sides.set(side, [...(sides.get(side) ?? []), { key: `${e.from}>${e.to}>${end}`, otherY: other.y }]);
    }
  }
  const out = new Map<string, number>();
  for (const [side, list] of sides) {
    const n = nodes.get(side.slice(0, side.indexOf('|'))) as LaidNode;
    list.sort((p, q) => p.otherY - q.otherY);
    const span = Math.min(n.h - 12, (list.length - 1) * 8);
    list.forEach((p, i) => out.set(p.key, n.y + n.h / 2 - span / 2 + (list.length > 1 ? (i * span) / (list.length - 1) : 0)));
  }
  return out;
}

/** Positions for every node and a curve for every edge. */
export function layoutGraph(g: GraphView): Layout {
  const layerOf = layers(g);
  const cols = order(g, layerOf);
  const keys = [...cols.keys()].sort((a, b) => a - b);
  const info = new Map(g.nodes.map((n) => [n.path, n]));
  const widthOf = (p: string) => Math.min(MAX_LABEL, p.length) * CHAR_W + 28;
  const tallest = Math.max(...keys.map((k) => (cols.get(k) ?? []).length), 1);
  const innerH = tallest * NODE_H + (tallest - 1) * ROW_GAP;

  const nodes = new Map<string, LaidNode>();
  const columns: Layout['columns'] = [];
  let x = MARGIN;
  for (const k of keys) {
    const col = cols.get(k) ?? [];
    const w = Math.max(MIN_COL_W, ...col.map(widthOf));
    const h = col.length * NODE_H + (col.length - 1) * ROW_GAP;
    col.forEach((p, i) => {
      const y = HEAD + MARGIN + (innerH - h) / 2 + i * (NODE_H + ROW_GAP);
      nodes.set(p, { path: p, service: info.get(p)?.service ?? false, root: p === g.root, layer: k, x, y, w, h: NODE_H, label: shorten(p) });
    });
    columns.push({ layer: k, x: x + w / 2 });
    x += w + COL_GAP;
  }

  const ends = attachments(g, nodes);
  const edges: LaidEdge[] = g.edges.flatMap((e) => {
    const a = nodes.get(e.from);
    const b = nodes.get(e.to);
    if (!a || !b) return [];
    const ay = ends.get(`${e.from}>${e.to}>from`) ?? a.y + a.h / 2;
    const by = ends.get(`${e.from}>${e.to}>to`) ?? b.y + b.h / 2;
    // Normally the callee is left of the caller; in a cycle it may share the column or sit right.
    const leftward = b.x + b.w <= a.x;
    const [x0, x3] = leftward ? [a.x, b.x + b.w] : [a.x + a.w, b.x + (b.x >= a.x + a.w ? 0 : b.w)];
    const bend = leftward ? Math.max(40, (x0 - x3) / 2) : 60;
    const [x1, x2] = leftward ? [x0 - bend, x3 + bend] : [x0 + bend, x3 + (b.x >= a.x + a.w ? -bend : bend)];
    const d = `M ${x0} ${ay} C ${x1} ${ay}, ${x2} ${by}, ${x3} ${by}`;
    return [{ from: e.from, to: e.to, declared: e.declared, observedCalls: e.observedCalls, d, labelX: (x0 + 3 * x1 + 3 * x2 + x3) / 8, labelY: (ay + 3 * ay + 3 * by + by) / 8, label: edgeLabel(e.observedCalls) }];
  });

  return { width: Math.max(x - COL_GAP + MARGIN, 320), height: HEAD + innerH + 2 * MARGIN, nodes: [...nodes.values()], edges, columns };
}
