/**
 * Processes tab: every supervised app at or under the node, one row per machine — state, pid,
 * uptime, restarts, health, flapping — refreshed every two seconds; start, stop and (rolling)
 * restart with deploy.run; and a live log tail of any row in the browser.
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Popconfirm, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { DesktopOutlined, ReloadOutlined } from '@ant-design/icons';
import type { ProcessDeclarationView, ProcessView } from '@canopy/core';
import { ApiError, api, messageOf, seg } from '../../api.ts';
import { useAccess } from '../../components/permissions.tsx';
import type { NodeTab, NodeTabProps } from '../types.ts';
import { LogTail } from './LogTail.tsx';
import { HEALTH_COLOR, STATE_COLOR, summary, uptimeText } from './model.ts';

const REFRESH_MS = 2_000;

function Processes({ node }: NodeTabProps) {
  const { message } = App.useApp();
  const access = useAccess();
  const mayRun = access.can('deploy.run');
  const [items, setItems] = useState<ProcessView[]>();
  const [none, setNone] = useState(false);
  const [error, setError] = useState<string>();
  const [tail, setTail] = useState<{ node: string; host: string }>();

  const load = useCallback(async () => {
    try {
      const r = await api.get<{ items: ProcessView[] }>(`/nodes/${seg(node.path)}/processes`);
      setItems(r.items);
      setNone(false);
      setError(undefined);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        setNone(true);
        setItems([]);
      } else setError(messageOf(err));
    }
  }, [node.path]);

  useEffect(() => {
    setItems(undefined);
    setTail(undefined);
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [load]);

  const act = async (action: 'start' | 'stop' | 'restart') => {
    try {
      const r = await api.post<{ items: ProcessDeclarationView[] }>(`/nodes/${seg(node.path)}/processes/${action}`);
      void message.success(`${action}: ${r.items.map((d) => `${d.node} (generation ${d.generation})`).join(', ')}`);
      await load();
    } catch (err) {
      setError(messageOf(err));
    }
  };

  const columns = [
    { title: 'Node', dataIndex: 'node' },
    { title: 'Host', dataIndex: 'hostname' },
    {
      title: 'State',
      key: 'state',
      render: (_: unknown, p: ProcessView) => (
        <Tooltip title={p.message || undefined}>
          <Tag color={STATE_COLOR[p.state] ?? 'default'} data-testid={`state-${p.hostname}`}>
            {p.flapping ? 'FLAPPING' : p.state}
          </Tag>
        </Tooltip>
      ),
    },
    { title: 'PID', dataIndex: 'pid', render: (pid: number | null) => pid ?? '' },
    { title: 'Uptime', dataIndex: 'uptimeSeconds', render: (s: number | null) => uptimeText(s) },
    { title: 'Restarts', dataIndex: 'restarts' },
    { title: 'Health', dataIndex: 'health', render: (h: string) => <Tag color={HEALTH_COLOR[h] ?? 'default'}>{h}</Tag> },
    { title: 'Gen', dataIndex: 'generation', render: (g: number | null) => g ?? '' },
    { title: 'Agent', dataIndex: 'agent', render: (a: string) => (a === 'connected' ? <Tag color="green">connected</Tag> : <Tag color="orange">{a}</Tag>) },
    {
      title: 'Last exit',
      dataIndex: 'lastExit',
      render: (e: ProcessView['lastExit']) => (e ? `${e.code === null ? 'killed' : `status ${e.code}`} at ${new Date(e.at).toLocaleTimeString()}` : ''),
    },
    {
      title: '',
      key: 'log',
      render: (_: unknown, p: ProcessView) => (
        <a data-testid={`log-${p.hostname}`} onClick={() => setTail({ node: p.node, host: p.hostname })}>
          Log
        </a>
      ),
    },
  ];

  const s = summary(items ?? []);
  return (
    <Space orientation="vertical" size={12} style={{ width: '100%' }}>
      <Space wrap style={{ width: '100%', justifyContent: 'space-between' }}>
        <Typography.Text type="secondary" data-testid="process-summary">
          {none ? 'No supervised process is declared at or under this node (canopy proc set --under PATH --file spec.json).' : `${s.running} of ${s.total} running${s.unhealthy ? `, ${s.unhealthy} unhealthy` : ''}${s.flapping ? `, ${s.flapping} flapping` : ''}`}
        </Typography.Text>
        <Space>
          <Button icon={<ReloadOutlined />} onClick={() => void load()}>
            Reload
          </Button>
          {mayRun && !none && (
            <>
              <Button onClick={() => void act('start')}>Start</Button>
              <Popconfirm title="Restart every process here, one machine at a time?" okText="Restart" onConfirm={() => act('restart')}>
                <Button data-testid="restart">Restart</Button>
              </Popconfirm>
              <Popconfirm title="Stop every process here? Each is drained in discovery first." okText="Stop" okButtonProps={{ danger: true }} onConfirm={() => act('stop')}>
                <Button danger>Stop</Button>
              </Popconfirm>
            </>
          )}
        </Space>
      </Space>
      {!mayRun && !none && <Alert type="info" showIcon title={`Read-only here: starting, stopping and restarting ${access.needs('deploy.run')}.`} style={{ padding: '4px 12px' }} />}
      {error && <Alert type="error" showIcon title={error} />}
      <Table<ProcessView> rowKey={(p) => `${p.node}/${p.hostname}`} size="small" loading={items === undefined} dataSource={items ?? []} columns={columns} pagination={false} />
      {tail && <LogTail node={tail.node} host={tail.host} onClose={() => setTail(undefined)} />}
    </Space>
  );
}

export const processesTab: NodeTab = { key: 'processes', label: 'Processes', icon: <DesktopOutlined />, needs: 'deploy.read', Component: Processes };
