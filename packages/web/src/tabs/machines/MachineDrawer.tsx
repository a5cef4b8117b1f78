/**
 * One machine in a side drawer: what Canopy records of it, and its agent — connection state, last
 * heartbeat, version, and the facts it read off the machine — re-read every few seconds while open.
 */
import { useEffect, useState } from 'react';
import { Alert, Descriptions, Drawer, Space, Tag, Typography } from 'antd';
import { api, messageOf, seg } from '../../api.ts';
import type { MachineView } from '../../types.ts';
import { AgentCell, agentOf, FactList, HeartbeatCell } from '../jobs/agents.tsx';
import { STATUS_COLOR } from './statuses.ts';

const REFRESH_MS = 5_000;

/** The detail drawer of `hostname`; `hostname` undefined closes it. */
export function MachineDrawer({ hostname, onClose }: { hostname: string | undefined; onClose: () => void }) {
  return (
    <Drawer title={hostname ?? ''} open={hostname !== undefined} onClose={onClose} size={760} destroyOnHidden>
      {hostname && <MachineDetail hostname={hostname} />}
    </Drawer>
  );
}

function MachineDetail({ hostname }: { hostname: string }) {
  const [m, setM] = useState<MachineView>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    let stale = false;
    const load = () =>
      api.get<MachineView>(`/machines/${seg(hostname)}`).then(
        (v) => {
          if (stale) return;
          setM(v);
          setError(undefined);
        },
        (err: unknown) => !stale && setError(messageOf(err)),
      );
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      stale = true;
      clearInterval(timer);
    };
  }, [hostname]);

  if (error && !m) return <Alert type="error" showIcon title={error} />;
  if (!m) return <Typography.Text type="secondary">Loading…</Typography.Text>;
  const agent = agentOf(m.hostname, m.agent);
  return (
    <Space orientation="vertical" size={16} style={{ width: '100%' }} data-testid="machine-detail">
      {error && <Alert type="warning" showIcon title={`Showing the last answer: ${error}`} />}
      <Descriptions size="small" column={2} bordered>
        <Descriptions.Item label="Status">
          <Tag color={STATUS_COLOR[m.status]}>{m.status}</Tag>
        </Descriptions.Item>
        <Descriptions.Item label="IPs">{m.ips.join(', ') || '—'}</Descriptions.Item>
        <Descriptions.Item label="Zone / IDC">{`${m.zone || '—'} / ${m.idc || '—'}`}</Descriptions.Item>
        <Descriptions.Item label="Kind">{m.kind}</Descriptions.Item>
        <Descriptions.Item label="Nodes" span={2}>
          {m.nodes.map((n) => <Tag key={n}>{n}</Tag>)}
          {m.hiddenNodeCount ? <Typography.Text type="secondary">{` and ${m.hiddenNodeCount} hidden`}</Typography.Text> : null}
        </Descriptions.Item>
      </Descriptions>
      <Typography.Title level={5} style={{ margin: 0 }}>
        Agent
      </Typography.Title>
      <Descriptions size="small" column={2} bordered data-testid="machine-agent">
        <Descriptions.Item label="State">
          <AgentCell agent={agent} />
        </Descriptions.Item>
        <Descriptions.Item label="Version">{m.agent?.version ?? '—'}</Descriptions.Item>
        <Descriptions.Item label="Last heartbeat">
          <HeartbeatCell agent={agent} />
        </Descriptions.Item>
        <Descriptions.Item label="Connected at">{m.agent?.connectedAt ? new Date(m.agent.connectedAt).toLocaleString() : '—'}</Descriptions.Item>
      </Descriptions>
      {m.agent?.state === 'never' ? (
        <Typography.Text type="secondary">No agent has connected for this machine: issue it a credential and run `canopy-agent` on it.</Typography.Text>
      ) : (
        <>
          <Typography.Title level={5} style={{ margin: 0 }}>
            Facts
          </Typography.Title>
          <FactList facts={m.agent?.facts ?? null} />
        </>
      )}
    </Space>
  );
}
