/** An entry's runs on the machines of the node, newest first, each opening to its output. */
import { useState } from 'react';
import { Alert, Button, Drawer, Space, Table, Tag, Typography } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import type { CronRunView } from '@canopy/core';
import { api, messageOf, seg } from '../../api.ts';
import { PagerBar } from '../../components/PagerBar.tsx';
import { useCursorPages } from '../../components/useCursorPages.ts';
import type { Page } from '../../types.ts';
import { durationText, RUN_STATE_COLOR, type CronRun } from './model.ts';

const PAGE_SIZE = 20;

/** The drawer listing runs of `name` under `nodePath`. */
export function RunsPanel({ nodePath, name, onClose }: { nodePath: string; name: string; onClose: () => void }) {
  const base = `/nodes/${seg(nodePath)}/cron/${seg(name)}/runs`;
  const runs = useCursorPages<CronRun>(`${nodePath}/${name}`, (cursor) => api.get<Page<CronRun>>(base, { limit: PAGE_SIZE, cursor }));
  const [shown, setShown] = useState<CronRunView>();
  const [error, setError] = useState<string>();

  const open = async (id: string) => {
    try {
      setShown(await api.get<CronRunView>(`${base}/${seg(id)}`));
      setError(undefined);
    } catch (err) {
      setError(messageOf(err));
    }
  };

  const columns = [
    { title: 'Scheduled', dataIndex: 'scheduledAt', width: 180, render: (t: string) => new Date(t).toLocaleString() },
    { title: 'Machine', dataIndex: 'hostname' },
    { title: 'State', dataIndex: 'state', render: (s: CronRun['state']) => <Tag color={RUN_STATE_COLOR[s]}>{s}</Tag> },
    { title: 'Exit', dataIndex: 'exitCode', width: 60 },
    { title: 'Took', dataIndex: 'durationMs', width: 90, render: durationText },
    { title: 'Output', key: 'out', render: (_: unknown, r: CronRun) => <Typography.Text code ellipsis style={{ maxWidth: 360 }}>{r.state === 'succeeded' || !r.reason ? r.lastLine : r.reason}</Typography.Text> },
  ];

  return (
    <Drawer open title={`Runs of ${name}`} size={860} onClose={onClose} extra={<Button icon={<ReloadOutlined />} onClick={runs.reload}>Reload</Button>}>
      <Space orientation="vertical" size={12} style={{ width: '100%' }}>
        {(runs.error ?? error) && <Alert type="error" showIcon title={runs.error ?? error} />}
        <Table<CronRun> size="small" rowKey="id" loading={runs.loading} dataSource={runs.page?.items ?? []} columns={columns} pagination={false} onRow={(r) => ({ onClick: () => void open(r.id), style: { cursor: 'pointer' } })} data-testid="cron-runs" />
        <PagerBar pages={runs} pageSize={PAGE_SIZE} />
        {shown && (
          <div data-testid="cron-run-output">
            <Typography.Title level={5}>
              {shown.hostname}, {new Date(shown.scheduledAt).toLocaleString()}: <Tag color={RUN_STATE_COLOR[shown.state]}>{shown.state}</Tag>
              {shown.reason && <Typography.Text type="secondary">{shown.reason}</Typography.Text>}
            </Typography.Title>
            <pre style={{ maxHeight: 320, overflow: 'auto', background: '#fafafa', padding: 8 }}>{shown.stdout || '(no output)'}</pre>
            {shown.stderr && <pre style={{ maxHeight: 200, overflow: 'auto', background: '#fff1f0', padding: 8 }}>{shown.stderr}</pre>}
            {shown.truncated > 0 && <Typography.Text type="secondary">{shown.truncated} bytes between the head and the tail were not kept.</Typography.Text>}
          </div>
        )}
      </Space>
    </Drawer>
  );
}
