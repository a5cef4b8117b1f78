/**
 * Cron tab: the scheduled jobs in effect at the node (its own and those inherited from above, with
 * where each comes from), the next run and the last one, each entry's runs with their output; and,
 * with cron.write, new entries, overrides of inherited ones, disabling them here, removal.
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Popconfirm, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { FieldTimeOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import type { CronTableView } from '@canopy/core';
import { api, messageOf, seg } from '../../api.ts';
import { useAccess } from '../../components/permissions.tsx';
import type { NodeTab, NodeTabProps } from '../types.ts';
import { CronEntryModal } from './CronEntryModal.tsx';
import { originOf, RUN_STATE_COLOR, valuesOf, type CronEntry, type CronFormValues } from './model.ts';
import { RunsPanel } from './RunsPanel.tsx';

function Cron({ node }: NodeTabProps) {
  const { message } = App.useApp();
  const access = useAccess();
  const mayWrite = access.can('cron.write');
  const base = `/nodes/${seg(node.path)}/cron`;
  const [view, setView] = useState<CronTableView>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [editing, setEditing] = useState<{ title: string; initial: CronFormValues | undefined }>();
  const [runsOf, setRunsOf] = useState<string>();

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setView(await api.get<CronTableView>(base));
      setError(undefined);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setLoading(false);
    }
  }, [base]);
  useEffect(() => void load(), [load]);

  const act = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
      void message.success(what);
      await load();
    } catch (err) {
      setError(messageOf(err));
    }
  };

  const columns = [
    { title: 'Name', dataIndex: 'name', render: (n: string) => <a onClick={() => setRunsOf(n)}>{n}</a> },
    {
      title: 'Schedule',
      key: 'schedule',
      render: (_: unknown, e: CronEntry) => (
        <Tooltip title={e.spec.description || undefined}>
          <code>{e.spec.schedule}</code> <Typography.Text type="secondary">{e.spec.timezone}</Typography.Text>
        </Tooltip>
      ),
    },
    { title: 'Runs', key: 'what', render: (_: unknown, e: CronEntry) => <Typography.Text code ellipsis style={{ maxWidth: 260 }}>{e.spec.argv ? e.spec.argv.join(' ') : e.spec.script?.split('\n')[0]}</Typography.Text> },
    { title: 'As', key: 'user', render: (_: unknown, e: CronEntry) => e.spec.user },
    { title: 'If running', key: 'overlap', render: (_: unknown, e: CronEntry) => e.spec.overlap },
    { title: 'From', key: 'from', render: (_: unknown, e: CronEntry) => <Tag color={e.own ? 'blue' : 'default'}>{originOf(e)}</Tag> },
    { title: 'Next run', key: 'next', render: (_: unknown, e: CronEntry) => (e.nextRuns[0] ? new Date(e.nextRuns[0]).toLocaleString() : '') },
    {
      title: 'Last run',
      key: 'last',
      render: (_: unknown, e: CronEntry) =>
        e.lastRun ? (
          <a onClick={() => setRunsOf(e.name)}>
            <Tag color={RUN_STATE_COLOR[e.lastRun.state]}>{e.lastRun.state}</Tag>
            {new Date(e.lastRun.scheduledAt).toLocaleString()} on {e.lastRun.hostname}
          </a>
        ) : (
          <Typography.Text type="secondary">none yet</Typography.Text>
        ),
    },
    ...(mayWrite
      ? [
          {
            title: '',
            key: 'actions',
            render: (_: unknown, e: CronEntry) => (
              <Space size={4}>
                <Button size="small" onClick={() => setEditing({ title: e.own ? `Edit ${e.name} on ${node.path}` : `Override ${e.name} on ${node.path}`, initial: valuesOf(e) })}>
                  {e.own ? 'Edit' : 'Override'}
                </Button>
                {e.own ? (
                  <Popconfirm title={e.overrides ? `Remove the override? ${e.overrides}'s entry applies again.` : `Remove ${e.name} from ${node.path} and below?`} onConfirm={() => act(`Removed ${e.name}`, () => api.del(`${base}/${seg(e.name)}`))}>
                    <Button size="small" danger>Remove</Button>
                  </Popconfirm>
                ) : (
                  <Popconfirm title={`Disable ${e.name} on ${node.path} and below?`} onConfirm={() => act(`Disabled ${e.name} here`, () => api.put(`${base}/${seg(e.name)}`, { disabled: true }))}>
                    <Button size="small">Disable here</Button>
                  </Popconfirm>
                )}
              </Space>
            ),
          },
        ]
      : []),
  ];

  return (
    <Space orientation="vertical" size={12} style={{ width: '100%' }}>
      <Space wrap style={{ width: '100%', justifyContent: 'space-between' }}>
        <Typography.Text type="secondary">Scheduled jobs run by the agent of every machine under {node.path}, also while the control center is away.</Typography.Text>
        <Space>
          <Button icon={<ReloadOutlined />} onClick={() => void load()}>Reload</Button>
          {mayWrite && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing({ title: `New scheduled job on ${node.path}`, initial: undefined })}>
              New entry
            </Button>
          )}
        </Space>
      </Space>
      {!mayWrite && <Alert type="info" showIcon data-testid="read-only-note" title={`Read-only here: changing scheduled jobs ${access.needs('cron.write')}.`} style={{ padding: '4px 12px' }} />}
      {error && <Alert type="error" showIcon title={error} closable onClose={() => setError(undefined)} />}
      <Table<CronEntry> size="middle" rowKey="name" loading={loading} dataSource={view?.entries ?? []} columns={columns} pagination={false} locale={{ emptyText: 'No scheduled jobs here' }} data-testid="cron-entries" />
      {view && view.disabled.length > 0 && (
        <Space orientation="vertical" size={4} data-testid="cron-disabled">
          {view.disabled.map((d) => (
            <Space key={d.name}>
              <Tag>disabled</Tag>
              <span>
                {d.name}
                {d.from ? ` (from ${d.from})` : ''} at {d.disabledAt}
              </span>
              {mayWrite && d.own && (
                <Button size="small" onClick={() => act(`Enabled ${d.name} again`, () => api.del(`${base}/${seg(d.name)}`))}>
                  Enable again
                </Button>
              )}
            </Space>
          ))}
        </Space>
      )}
      <CronEntryModal
        nodePath={node.path}
        open={editing !== undefined}
        title={editing?.title ?? ''}
        initial={editing?.initial}
        onClose={() => setEditing(undefined)}
        onSaved={() => {
          void message.success('Saved');
          void load();
        }}
      />
      {runsOf !== undefined && <RunsPanel nodePath={node.path} name={runsOf} onClose={() => setRunsOf(undefined)} />}
    </Space>
  );
}

/** The Cron tab descriptor. */
export const cronTab: NodeTab = { key: 'cron', needs: 'cron.read', label: 'Cron', icon: <FieldTimeOutlined />, Component: Cron };
