/**
 * A deployment's hosts: batch, state, why, the version each ran before and its new process task,
 * and, row by row on request, the host's task log (staging progress, hook output) from
 * `GET /deployments/{id}/hosts/{hostname}/log`, read again every few seconds while the host is
 * still staging or switching so the operator watches it grow.
 */
import { useEffect, useRef, useState } from 'react';
import { Alert, Table, Tag, Tooltip, Typography } from 'antd';
import { api, messageOf, seg } from '../../api.ts';
import { HOST_STATE_COLOR, hostBusy, stateLabel, type DeploymentDetailView, type DeploymentHostView } from './model.ts';

const REFRESH_MS = 2_000;

function HostLog({ id, hostname, live }: { id: number; hostname: string; live: boolean }) {
  const [text, setText] = useState<string>();
  const [error, setError] = useState<string>();
  const box = useRef<HTMLPreElement>(null);

  useEffect(() => {
    let stale = false;
    const read = () =>
      api.get<{ text: string }>(`/deployments/${id}/hosts/${seg(hostname)}/log`).then(
        (r) => {
          if (stale) return;
          setText(r.text);
          setError(undefined);
        },
        (err: unknown) => !stale && setError(messageOf(err)),
      );
    void read();
    const timer = live ? setInterval(() => void read(), REFRESH_MS) : undefined;
    return () => {
      stale = true;
      if (timer) clearInterval(timer);
    };
  }, [id, hostname, live]);

  // Follow the newest lines as the log grows.
  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [text]);

  return (
    <div data-testid={`host-log-${hostname}`}>
      {error && <Alert type="warning" showIcon title={error} style={{ marginBottom: 8 }} />}
      {text === undefined && !error ? (
        <Typography.Text type="secondary">Reading the log…</Typography.Text>
      ) : (
        <pre
          ref={box}
          data-testid="host-log-text"
          style={{ background: '#0b0f14', color: '#d6dde6', padding: 12, borderRadius: 6, maxHeight: 320, minHeight: 48, overflow: 'auto', margin: 0, fontSize: 12, whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}
        >
          {text || (live ? '(nothing logged yet)' : '(no log)')}
        </pre>
      )}
    </div>
  );
}

/** The hosts of `d`, each row expandable to its task log. */
export function HostsTable({ d }: { d: DeploymentDetailView }) {
  const canary = d.strategy.canary !== false;
  const columns = [
    { title: 'Host', dataIndex: 'hostname', render: (h: string) => <Typography.Text strong>{h}</Typography.Text> },
    { title: 'Batch', dataIndex: 'batch', render: (b: number) => (canary && b === 0 ? 'canary' : b + 1) },
    {
      title: 'State',
      key: 'state',
      render: (_: unknown, h: DeploymentHostView) => (
        <Tag color={HOST_STATE_COLOR[h.state]} data-testid={`host-state-${h.hostname}`}>
          {stateLabel(h.state)}
        </Tag>
      ),
    },
    { title: 'Reason', key: 'reason', render: (_: unknown, h: DeploymentHostView) => h.reason ?? h.message },
    { title: 'From', dataIndex: 'fromVersion', render: (v: string | null) => v ?? <Typography.Text type="secondary">none</Typography.Text> },
    {
      title: 'Task',
      key: 'task',
      render: (_: unknown, h: DeploymentHostView) =>
        h.task === null ? '' : (
          <Tooltip title={h.taskId ? `task ${h.taskId}` : undefined}>
            <Typography.Text code>{h.task}</Typography.Text>
          </Tooltip>
        ),
    },
    { title: 'Since', dataIndex: 'since', render: (t: string) => <Tooltip title={t}>{new Date(t).toLocaleTimeString()}</Tooltip> },
  ];
  return (
    <Table<DeploymentHostView>
      size="small"
      rowKey="hostname"
      data-testid="deploy-hosts"
      dataSource={d.hosts}
      columns={columns}
      pagination={d.hosts.length > 50 ? { pageSize: 50 } : false}
      expandable={{ expandedRowRender: (h) => <HostLog id={d.id} hostname={h.hostname} live={hostBusy(h.state)} />, expandRowByClick: true }}
    />
  );
}
