/** One job, live: its batches progressing, the controls, the grouped output and every host. */
import { useState } from 'react';
import { Alert, App, Button, Card, Descriptions, Progress, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { ArrowLeftOutlined, CaretRightOutlined, PauseOutlined, RedoOutlined, StopOutlined } from '@ant-design/icons';
import { api, messageOf } from '../../api.ts';
import { useAccess } from '../../components/permissions.tsx';
import { batchProgress, countsText, durationText, HOST_STATE_COLOR, isFinished, JOB_STATE_COLOR, whatOf, type JobDetailView, type JobHostView } from './model.ts';
import { OutputGroups } from './OutputGroups.tsx';
import { useJobFollow, type FeedState } from './useJobFollow.ts';

type Action = 'pause' | 'resume' | 'stop' | 'retry';
const FEED_TEXT: Record<FeedState, [string, string]> = {
  connecting: ['default', 'connecting…'],
  live: ['processing', 'live'],
  reconnecting: ['warning', 'reconnecting…'],
  done: ['default', 'finished'],
};

/** The detail of job `id`, followed live; `onBack` returns to the list. */
export function JobDetail({ id, onBack }: { id: number; onBack: () => void }) {
  const { detail, feed, refollow } = useJobFollow(id);
  return (
    <Space orientation="vertical" size={12} style={{ width: '100%' }} data-testid="job-detail">
      <Space>
        <Button icon={<ArrowLeftOutlined />} onClick={onBack}>
          All jobs
        </Button>
        <Typography.Title level={5} style={{ margin: 0 }}>
          Job #{id}
        </Typography.Title>
        {detail && (
          <Tag color={JOB_STATE_COLOR[detail.state]} data-testid="job-state">
            {detail.state}
          </Tag>
        )}
        <Tag color={FEED_TEXT[feed][0]}>{FEED_TEXT[feed][1]}</Tag>
      </Space>
      {detail ? <Body detail={detail} refollow={refollow} /> : <Typography.Text type="secondary">Loading…</Typography.Text>}
    </Space>
  );
}

const SKIPPABLE = new Set<JobHostView['state']>(['pending', 'running', 'failed']);
const SKIP_WHY: Partial<Record<JobHostView['state'], string>> = {
  pending: 'Do not run this host',
  running: 'Stop this host (SIGTERM, then SIGKILL) and go on without it',
  failed: 'Stop counting this host against the failure tolerance',
};

function Body({ detail, refollow }: { detail: JobDetailView; refollow: () => void }) {
  const { message } = App.useApp();
  const access = useAccess();
  const [busy, setBusy] = useState<Action | `skip:${string}`>();
  const mayControl = access.can('machine.exec') || access.can('machine.root');
  const finished = isFinished(detail.state);

  async function skip(hostname: string): Promise<void> {
    setBusy(`skip:${hostname}`);
    try {
      await api.post(`/jobs/${detail.id}/skip`, { hosts: [hostname] });
      void message.success(`Job #${detail.id}: ${hostname} skipped`);
      refollow();
    } catch (err) {
      void message.error(messageOf(err));
    } finally {
      setBusy(undefined);
    }
  }

  async function act(action: Action): Promise<void> {
    setBusy(action);
    try {
      await api.post(`/jobs/${detail.id}/${action}`);
      void message.success(`Job #${detail.id}: ${action} requested`);
      refollow();
    } catch (err) {
      void message.error(messageOf(err));
    } finally {
      setBusy(undefined);
    }
  }

  const hostColumns = [
    { title: 'Host', dataIndex: 'hostname', render: (h: string) => <strong>{h}</strong> },
    { title: 'Batch', dataIndex: 'batch', render: (b: number) => b + 1 },
    { title: 'State', dataIndex: 'state', render: (s: JobHostView['state'], h: JobHostView) => <Tooltip title={h.taskState ?? 'no task yet'}><Tag color={HOST_STATE_COLOR[s]}>{s}</Tag></Tooltip> },
    { title: 'Exit code', dataIndex: 'exitCode', render: (c: number | null) => c ?? '—' },
    { title: 'Duration', dataIndex: 'durationMs', render: durationText },
    ...(detail.kind === 'reboot'
      ? [{ title: 'Downtime', dataIndex: 'downtimeSeconds', render: (d: number | null) => (d === null ? '—' : <span data-testid="host-downtime">{`${d} s`}</span>) }]
      : []),
    { title: 'Attempt', dataIndex: 'attempt' },
    { title: 'Error', dataIndex: 'error', render: (e: string | null) => (e ? <Typography.Text type="danger">{e}</Typography.Text> : '—') },
    ...(mayControl && !finished && detail.state !== 'stopping'
      ? [{
          title: '',
          key: 'skip',
          render: (_: unknown, h: JobHostView) =>
            SKIPPABLE.has(h.state) && (
              <Tooltip title={SKIP_WHY[h.state]}>
                <Button size="small" loading={busy === `skip:${h.hostname}`} onClick={() => void skip(h.hostname)}>
                  Skip
                </Button>
              </Tooltip>
            ),
        }]
      : []),
  ];

  return (
    <>
      <Descriptions size="small" column={3} bordered>
        <Descriptions.Item label="Runs" span={3}>
          <Typography.Text code>{whatOf(detail)}</Typography.Text>
        </Descriptions.Item>
        <Descriptions.Item label="As user">{String(detail.spec['user'] ?? '—')}</Descriptions.Item>
        <Descriptions.Item label="Created">{`${new Date(detail.createdAt).toLocaleString()} by ${detail.createdBy}`}</Descriptions.Item>
        <Descriptions.Item label="Hosts" >
          <span data-testid="job-counts">{countsText(detail.counts)}</span>
        </Descriptions.Item>
      </Descriptions>
      {detail.pausedBecause && detail.state === 'paused' && <Alert type="warning" showIcon title={`Paused: ${detail.pausedBecause}`} />}
      {mayControl && (
        <Space wrap>
          <Button icon={<PauseOutlined />} disabled={detail.state !== 'running'} loading={busy === 'pause'} onClick={() => void act('pause')}>
            Pause
          </Button>
          <Button icon={<CaretRightOutlined />} disabled={detail.state !== 'paused'} loading={busy === 'resume'} onClick={() => void act('resume')}>
            Resume
          </Button>
          <Button danger icon={<StopOutlined />} disabled={finished || detail.state === 'stopping'} loading={busy === 'stop'} onClick={() => void act('stop')}>
            Stop
          </Button>
          <Button icon={<RedoOutlined />} disabled={!detail.counts['failed'] || detail.state === 'stopping'} loading={busy === 'retry'} onClick={() => void act('retry')}>
            Retry failed
          </Button>
        </Space>
      )}
      <Card size="small" title="Batches">
        {batchProgress(detail).map((b) => (
          <div key={b.index} data-testid={`batch-${b.index + 1}`} style={{ display: 'flex', gap: 12, alignItems: 'center' }}>
            <Typography.Text style={{ width: 200, flex: 'none' }}>
              Batch {b.index + 1}
              {b.index === detail.currentBatch && !finished ? ' (current)' : ''}: {b.done}/{b.total} done
            </Typography.Text>
            <Progress
              percent={b.total ? Math.round((b.done / b.total) * 100) : 100}
              success={{ percent: b.total ? Math.round((b.succeeded / b.total) * 100) : 0 }}
              status={b.failed ? 'exception' : b.running ? 'active' : 'normal'}
            />
          </div>
        ))}
      </Card>
      <OutputGroups groups={detail.groups} />
      <Table<JobHostView> size="small" rowKey="hostname" dataSource={detail.hosts} columns={hostColumns} pagination={detail.hosts.length > 50 ? { pageSize: 50 } : false} />
    </>
  );
}
