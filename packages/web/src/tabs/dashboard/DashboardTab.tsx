/**
 * Dashboard tab: the node's machines by status and agent state, CPU, memory, disk, load and
 * network aggregated over the subtree (avg, max or p95 across machines), the top machines by CPU
 * and memory, and the same panels for one machine once it is picked. A time range picker sets
 * every panel; the charts refresh every 30 s.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Alert, Button, Card, Col, Empty, Row, Segmented, Space, Statistic, Table, Tag, Tooltip, Typography } from 'antd';
import { DashboardOutlined, ReloadOutlined } from '@ant-design/icons';
import { DASHBOARD_AGGREGATIONS, type MonitorOverview, type MonitorQueryResult, type MonitorTopResult } from '@canopy/core';
import { api, messageOf } from '../../api.ts';
import type { NodeTab, NodeTabProps } from '../types.ts';
import { Chart } from './Chart.tsx';
import { chartOption, formatValue, PANELS, RANGES } from './model.ts';

const CPU = 'instance:node_cpu_utilisation:rate1m';
const MEM = 'instance:node_memory_utilisation:ratio';

function Panel({ under, metric, title, unit, agg, from, machine, tick }: { under: string; metric: string; title: string; unit: (typeof PANELS)[number]['unit']; agg: string; from: string; machine: string | undefined; tick: number }) {
  const [result, setResult] = useState<MonitorQueryResult>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let gone = false;
    api
      .get<MonitorQueryResult>('/monitor/query', { under, metric, agg, from, ...(machine ? { machine } : {}) })
      .then((r) => !gone && (setResult(r), setError(undefined)))
      .catch((err: unknown) => !gone && setError(messageOf(err)));
    return () => {
      gone = true;
    };
  }, [under, metric, agg, from, machine, tick]);
  const option = useMemo(() => (result ? chartOption(result, unit, `${agg} ${title}`) : undefined), [result, unit, agg, title]);
  return (
    <Card
      size="small"
      title={title}
      data-testid={`panel-${metric}`}
      extra={
        result?.recorded && (
          <Tooltip title={`Prometheus recording rule ${result.recorded.series}, since ${new Date(result.recorded.since).toLocaleString()}`}>
            <Tag>recorded</Tag>
          </Tooltip>
        )
      }
    >
      {error ? <Alert type="error" showIcon message={error} /> : result && result.series.length === 0 ? <Empty description="no data in this range" /> : option ? <Chart option={option} testId={`chart-${metric}`} /> : <div style={{ height: 220 }} />}
    </Card>
  );
}

function TopTable({ under, metric, title, tick, onPick }: { under: string; metric: string; title: string; tick: number; onPick: (host: string) => void }) {
  const [top, setTop] = useState<MonitorTopResult>();
  useEffect(() => {
    api.get<MonitorTopResult>('/monitor/top', { under, metric, n: 10 }).then(setTop, () => setTop(undefined));
  }, [under, metric, tick]);
  return (
    <Card size="small" title={`Top 10 by ${title}`} data-testid={`top-${metric}`}>
      <Table
        size="small"
        pagination={false}
        rowKey="hostname"
        dataSource={top?.items ?? []}
        columns={[
          { title: 'Machine', dataIndex: 'hostname', render: (h: string) => <Typography.Link onClick={() => onPick(h)}>{h}</Typography.Link> },
          { title, dataIndex: 'value', align: 'right', render: (v: number) => formatValue(v, 'ratio') },
        ]}
      />
    </Card>
  );
}

function Dashboard({ node }: NodeTabProps) {
  const [from, setFrom] = useState<string>('-1h');
  const [agg, setAgg] = useState<string>('avg');
  const [machine, setMachine] = useState<string>();
  const [overview, setOverview] = useState<MonitorOverview>();
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);

  const load = useCallback(async () => {
    try {
      setOverview(await api.get<MonitorOverview>('/monitor/overview', { under: node.path }));
      setError(undefined);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [node.path]);
  useEffect(() => {
    void load();
    const t = setInterval(() => {
      setTick((n) => n + 1);
      void load();
    }, 30_000);
    return () => clearInterval(t);
  }, [load]);
  useEffect(() => setMachine(undefined), [node.path]);

  if (error && !overview) return <Alert type="error" showIcon message={error} />;
  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Row gutter={16}>
        <Col span={6}><Statistic title="Machines" value={overview?.machines ?? 0} /></Col>
        <Col span={6}><Statistic title="Agents connected" value={overview?.byAgent['connected'] ?? 0} suffix={`/ ${overview?.machines ?? 0}`} /></Col>
        <Col span={6}><Statistic title="Reporting metrics" value={overview?.reporting ?? 0} /></Col>
        <Col span={6}>
          <Typography.Text type="secondary">By status</Typography.Text>
          <div data-testid="by-status">{Object.entries(overview?.byStatus ?? {}).map(([k, v]) => <Tag key={k}>{k} {v}</Tag>)}{(overview?.byAgent['unreachable'] ?? 0) > 0 && <Tag color="red">unreachable {overview?.byAgent['unreachable']}</Tag>}</div>
        </Col>
      </Row>
      <Space wrap>
        <Segmented options={RANGES.map((r) => ({ label: r.label, value: r.from }))} value={from} onChange={(v) => setFrom(String(v))} />
        {!machine && <Segmented options={DASHBOARD_AGGREGATIONS.map((a) => ({ label: a, value: a }))} value={agg} onChange={(v) => setAgg(String(v))} />}
        {machine && <Tag closable onClose={() => setMachine(undefined)} color="blue">machine {machine}</Tag>}
        <Button icon={<ReloadOutlined />} onClick={() => (setTick((n) => n + 1), void load())}>Refresh</Button>
      </Space>
      <Row gutter={[16, 16]}>
        {PANELS.map((p) => (
          <Col key={p.name} xs={24} lg={12} xxl={8}>
            <Panel under={node.path} metric={p.name} title={p.title} unit={p.unit} agg={agg} from={from} machine={machine} tick={tick} />
          </Col>
        ))}
      </Row>
      {!machine && (
        <Row gutter={[16, 16]}>
          <Col xs={24} lg={12}><TopTable under={node.path} metric={CPU} title="CPU" tick={tick} onPick={setMachine} /></Col>
          <Col xs={24} lg={12}><TopTable under={node.path} metric={MEM} title="memory" tick={tick} onPick={setMachine} /></Col>
        </Row>
      )}
    </Space>
  );
}

export const dashboardTab: NodeTab = { key: 'dashboard', label: 'Dashboard', icon: <DashboardOutlined />, needs: 'monitor.read', Component: Dashboard };
