/** Jobs tab: the batch jobs run over this node's machines, a dialog to start one, and each job followed live. */
import { useState } from 'react';
import { Alert, App, Button, Space, Table, Tag, Typography } from 'antd';
import { CodeOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { api } from '../../api.ts';
import { PagerBar } from '../../components/PagerBar.tsx';
import { useAccess } from '../../components/permissions.tsx';
import { useCursorPages } from '../../components/useCursorPages.ts';
import type { NodeTab, NodeTabProps } from '../types.ts';
import { JobDetail } from './JobDetail.tsx';
import { countsText, JOB_STATE_COLOR, whatOf, type JobView } from './model.ts';
import { NewJobModal } from './NewJobModal.tsx';

const PAGE_SIZE = 20;

function Jobs({ node }: NodeTabProps) {
  const { message } = App.useApp();
  const access = useAccess();
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<number>();
  const mayRun = access.can('machine.exec') || access.can('machine.root');
  // The list pages by id: `before` is the last id of the page on screen.
  const pages = useCursorPages<JobView>(node.path, async (cursor) => {
    const p = await api.get<{ items: JobView[]; nextCursor: string | null }>('/jobs', { under: node.path, limit: PAGE_SIZE, before: cursor });
    return p.nextCursor ? { items: p.items, nextCursor: p.nextCursor } : { items: p.items };
  });

  if (shown !== undefined) {
    return (
      <JobDetail
        id={shown}
        onBack={() => {
          setShown(undefined);
          pages.reload();
        }}
      />
    );
  }

  const columns = [
    { title: 'Job', dataIndex: 'id', render: (id: number) => <a onClick={() => setShown(id)}>#{id}</a> },
    { title: 'State', dataIndex: 'state', render: (s: JobView['state']) => <Tag color={JOB_STATE_COLOR[s]}>{s}</Tag> },
    { title: 'Kind', dataIndex: 'kind' },
    { title: 'Runs', key: 'what', render: (_: unknown, j: JobView) => <Typography.Text code ellipsis style={{ maxWidth: 320 }}>{whatOf(j)}</Typography.Text> },
    { title: 'Hosts', key: 'counts', render: (_: unknown, j: JobView) => `${j.counts['total'] ?? 0}: ${countsText(j.counts)}` },
    { title: 'Created by', dataIndex: 'createdBy' },
    { title: 'Created', dataIndex: 'createdAt', render: (t: string) => new Date(t).toLocaleString() },
  ];

  return (
    <Space orientation="vertical" size={12} style={{ width: '100%' }}>
      <Space wrap style={{ width: '100%', justifyContent: 'space-between' }}>
        <Typography.Text type="secondary">Commands and scripts run over the machines under {node.path}, in batches.</Typography.Text>
        <Space>
          <Button icon={<ReloadOutlined />} onClick={pages.reload}>
            Reload
          </Button>
          {mayRun && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
              New job
            </Button>
          )}
        </Space>
      </Space>
      {!mayRun && <Alert type="info" showIcon data-testid="read-only-note" title={`Read-only here: running a job ${access.needs('machine.exec')} (or machine.root).`} style={{ padding: '4px 12px' }} />}
      {pages.error && <Alert type="error" showIcon title={pages.error} />}
      <Table<JobView>
        size="middle"
        rowKey="id"
        loading={pages.loading}
        dataSource={pages.page?.items ?? []}
        columns={columns}
        pagination={false}
        onRow={(j) => ({ onDoubleClick: () => setShown(j.id) })}
      />
      <PagerBar pages={pages} pageSize={PAGE_SIZE} />
      <NewJobModal
        nodePath={node.path}
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(j) => {
          void message.success(`Job #${j.id} started on ${j.counts['total'] ?? 0} hosts`);
          setShown(j.id);
        }}
      />
    </Space>
  );
}

/** The Jobs tab descriptor. */
export const jobsTab: NodeTab = { key: 'jobs', needs: 'machine.read', label: 'Jobs', icon: <CodeOutlined />, Component: Jobs };
