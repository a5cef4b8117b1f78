/**
 * The servers behind a proxy: the service node's discovery instances, read-only here, with how
 * each lands in the config (weight, no new traffic, or left out and why). Weights and drains are
 * changed in the Discovery tab, where the instances live.
 */
import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { Alert, Button, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import type { Answer } from '@canopy/core';
import { api, ApiError, messageOf, seg } from '../../api.ts';
import { navigate, nodeUrl } from '../../router.ts';
import { backendStandings, type BackendStanding, type InstanceView } from './model.ts';

/** The instances of the service at `path`; null when the node is not a discovery service. */
export function useInstances(path: string) {
  const [instances, setInstances] = useState<InstanceView[] | null>();
  const [error, setError] = useState<string>();
  const reload = useCallback(async () => {
    try {
      setInstances((await api.get<Answer>(`/services/${seg(path)}/instances`, { healthy: false })).instances);
      setError(undefined);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) setInstances(null);
      else setError(messageOf(err));
    }
  }, [path]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { instances, error, reload };
}

/** A link to the node's Discovery tab. */
export function DiscoveryLink({ path, children }: { path: string; children: ReactNode }) {
  const url = nodeUrl(path, 'discovery');
  return (
    <a
      href={url}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(url);
      }}
    >
      {children}
    </a>
  );
}

export interface BackendsTableProps {
  path: string;
  /** The port the proxy sends to. */
  port: number;
  /** How a serving instance and one given no traffic read in this proxy's terms. */
  describe: (s: BackendStanding) => ReactNode;
  instances: InstanceView[] | null | undefined;
  error: string | undefined;
  onReload: () => void;
}

/** Instances of `path` as servers on `port`. */
export function BackendsTable({ path, port, describe, instances, error, onReload }: BackendsTableProps) {
  const standings = useMemo(() => backendStandings(instances ?? [], port), [instances, port]);
  if (error) return <Alert type="error" showIcon title={error} />;
  if (instances === null) {
    return (
      <Alert
        type="info"
        showIcon
        title="No servers: this node is not a discovery service"
        description={
          <span>
            The servers come from the node's discovery instances. <DiscoveryLink path={path}>Make it a service in the Discovery tab</DiscoveryLink>, then register instances on port {port}.
          </span>
        }
      />
    );
  }
  const columns = [
    {
      title: 'Instance',
      key: 'instance',
      render: (_: unknown, i: InstanceView) => (
        <Space orientation="vertical" size={0}>
          <strong>{i.hostname}</strong>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {i.ip || 'no address'}:{i.port}
          </Typography.Text>
        </Space>
      ),
    },
    { title: 'Weight', dataIndex: 'weight', width: 80 },
    {
      title: 'Status',
      key: 'status',
      width: 170,
      render: (_: unknown, i: InstanceView) => (
        <Space size={4}>
          <Tag color={i.status === 'up' ? 'green' : i.status === 'draining' ? 'orange' : 'default'}>{i.status}</Tag>
          <Tag color={i.health === 'passing' ? 'green' : i.health === 'warning' ? 'gold' : 'red'}>{i.health}</Tag>
        </Space>
      ),
    },
    {
      title: 'In the config',
      key: 'config',
      render: (_: unknown, i: InstanceView) => {
        const s = standings.get(i.id);
        if (!s) return null;
        if (s.state === 'absent') {
          return (
            <Tooltip title={s.why}>
              <Typography.Text type="secondary">left out: {s.why}</Typography.Text>
            </Tooltip>
          );
        }
        return <span data-testid={`backend-${i.hostname}`}>{describe(s)}</span>;
      },
    },
  ];
  return (
    <Space orientation="vertical" size={8} style={{ width: '100%' }}>
      <Table<InstanceView>
        size="small"
        rowKey="id"
        loading={instances === undefined}
        dataSource={instances ?? []}
        columns={columns}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        locale={{ emptyText: 'No instances registered on this service yet' }}
      />
      <Space size={12}>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          Weights and drains are changed in the <DiscoveryLink path={path}>Discovery tab</DiscoveryLink>; published configs follow within a second.
        </Typography.Text>
        <Button size="small" type="text" icon={<ReloadOutlined />} onClick={onReload}>
          Refresh
        </Button>
      </Space>
    </Space>
  );
}
