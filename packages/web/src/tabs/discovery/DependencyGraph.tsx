/**
 * The dependency graph as a picture (`GET /services/{path}/graph?depth=2`): declared edges solid,
 * edges only observed from lookups dashed, each labelled with its observed call count. A node is a
 * link to that node's own Discovery tab.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Alert, Button, Card, Empty, Segmented, Space, Typography } from 'antd';
import { ApartmentOutlined, ReloadOutlined } from '@ant-design/icons';
import { api, messageOf, seg } from '../../api.ts';
import { navigate, nodeUrl } from '../../router.ts';
import { layoutGraph, type LaidEdge, type LaidNode, type Layout } from './graphLayout.ts';
import type { GraphView } from './model.ts';

const INK = '#595959';
const ACCENT = '#1677ff';

/** A column's heading: what it holds, and how it relates to the service. */
function columnTitle(layer: number): [string, string] {
  if (layer === 0) return ['this service', ''];
  const hops = Math.abs(layer) === 1 ? '' : ` · ${Math.abs(layer)} hops`;
  return layer < 0 ? ['upstreams', `what it calls${hops}`] : ['downstreams', `what calls it${hops}`];
}

function NodeBox({ n }: { n: LaidNode }) {
  const fill = n.root ? ACCENT : n.service ? '#f0f5ff' : '#fafafa';
  const stroke = n.root ? ACCENT : n.service ? '#adc6ff' : '#d9d9d9';
  return (
    <g
      data-testid="graph-node"
      data-path={n.path}
      style={{ cursor: n.root ? 'default' : 'pointer' }}
      onClick={() => !n.root && navigate(nodeUrl(n.path, 'discovery'))}
    >
      <title>{n.service ? n.path : `${n.path} (not a service: a caller seen in lookups)`}</title>
      <rect x={n.x} y={n.y} width={n.w} height={n.h} rx={6} fill={fill} stroke={stroke} strokeDasharray={n.service ? undefined : '4 3'} />
      <text x={n.x + n.w / 2} y={n.y + n.h / 2} dominantBaseline="central" textAnchor="middle" fontSize={12.5} fontFamily="ui-monospace, SFMono-Regular, Menlo, monospace" fill={n.root ? '#fff' : '#1f1f1f'} fontWeight={n.root ? 600 : 400}>
        {n.label}
      </text>
    </g>
  );
}

function EdgeLine({ e }: { e: LaidEdge }) {
  const w = e.label.length * 6.4 + 10;
  return (
    <g data-testid="graph-edge" data-from={e.from} data-to={e.to}>
      <path d={e.d} fill="none" stroke={INK} strokeWidth={1.4} strokeDasharray={e.declared ? undefined : '5 4'} markerEnd="url(#canopy-arrow)" />
      <rect x={e.labelX - w / 2} y={e.labelY - 9} width={w} height={18} rx={9} fill="#fff" stroke="#f0f0f0" />
      <text x={e.labelX} y={e.labelY} dominantBaseline="central" textAnchor="middle" fontSize={11} fill={INK}>
        {e.label}
      </text>
    </g>
  );
}

/** The SVG drawing of a laid-out graph. */
export function GraphPicture({ layout }: { layout: Layout }) {
  return (
    <svg role="img" aria-label="Dependency graph" width={layout.width} height={layout.height} viewBox={`0 0 ${layout.width} ${layout.height}`} style={{ maxWidth: '100%', height: 'auto', display: 'block', margin: '0 auto' }}>
      <defs>
        <marker id="canopy-arrow" viewBox="0 0 10 10" refX={9} refY={5} markerWidth={7} markerHeight={7} orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" fill={INK} />
        </marker>
      </defs>
      {layout.columns.map((c) => {
        const [title, sub] = columnTitle(c.layer);
        return (
          <g key={c.layer}>
            <text x={c.x} y={16} textAnchor="middle" fontSize={11} fill="#8c8c8c" style={{ textTransform: 'uppercase', letterSpacing: 0.6 }}>
              {title}
            </text>
            <text x={c.x} y={31} textAnchor="middle" fontSize={11} fill="#bfbfbf">
              {sub}
            </text>
          </g>
        );
      })}
      {layout.edges.map((e) => (
        <EdgeLine key={`${e.from}>${e.to}`} e={e} />
      ))}
      {layout.nodes.map((n) => (
        <NodeBox key={n.path} n={n} />
      ))}
    </svg>
  );
}

/** The graph card for the service at `path`. */
export function DependencyGraph({ path }: { path: string }) {
  const [depth, setDepth] = useState(2);
  const [graph, setGraph] = useState<GraphView>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setGraph(await api.get<GraphView>(`/services/${seg(path)}/graph`, { depth }));
      setError(undefined);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setLoading(false);
    }
  }, [path, depth]);

  useEffect(() => {
    void load();
  }, [load]);

  const layout = useMemo(() => (graph ? layoutGraph(graph) : undefined), [graph]);
  return (
    <Card
      size="small"
      title={
        <Space>
          <ApartmentOutlined />
          Dependency graph
        </Space>
      }
      extra={
        <Space>
          <Segmented size="small" value={depth} onChange={(v) => setDepth(Number(v))} options={[{ value: 1, label: '1 hop' }, { value: 2, label: '2 hops' }, { value: 3, label: '3 hops' }]} />
          <Button size="small" icon={<ReloadOutlined />} loading={loading} onClick={() => void load()} aria-label="Reload graph" />
        </Space>
      }
    >
      {error && <Alert type="error" showIcon title={error} />}
      {layout && graph && graph.edges.length === 0 && (
        <Empty description="No dependencies yet: declare them, or they appear as clients look this service up with ?caller=." />
      )}
      {layout && graph && graph.edges.length > 0 && (
        <Space orientation="vertical" style={{ width: '100%' }}>
          <div style={{ overflowX: 'auto' }}>
            <GraphPicture layout={layout} />
          </div>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            Arrows point from caller to callee. Solid: declared dependency; dashed: only observed in lookups. Counts are lookups observed.
          </Typography.Text>
        </Space>
      )}
    </Card>
  );
}
