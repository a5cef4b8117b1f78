/** The auth log: login attempts (success, failure, rate-limited) with address and user agent; others see only their own. */
import { useState } from 'react';
import { Alert, Button, Form, Input, Select, Space, Table, Tag, Typography } from 'antd';
import { api } from '../api.ts';
import { PagerBar } from '../components/PagerBar.tsx';
import { useCursorPages } from '../components/useCursorPages.ts';
import { useSession } from '../session.ts';
import type { Page } from '../types.ts';
import { shownTime, type AuthLogEntry } from './types.ts';

const PAGE_SIZE = 50;
const OUTCOME: Record<AuthLogEntry['outcome'], { label: string; color: string }> = {
  success: { label: 'success', color: 'green' },
  failure: { label: 'failure', color: 'red' },
  rate_limited: { label: 'rate-limited', color: 'orange' },
};

interface Filters {
  user?: string;
  outcome?: AuthLogEntry['outcome'];
}

/** The Auth log admin page. */
export function AuthLogPage() {
  const { user: me } = useSession();
  const [form] = Form.useForm<Filters>();
  const [filters, setFilters] = useState<Filters>({});
  const pages = useCursorPages<AuthLogEntry>(JSON.stringify(filters), (cursor) =>
    api.get<Page<AuthLogEntry>>('/auth/log', { limit: PAGE_SIZE, cursor, user: filters.user?.trim() || undefined, outcome: filters.outcome }),
  );

  const columns = [
    { title: 'Time', dataIndex: 'at', width: 190, render: shownTime },
    { title: 'User name', dataIndex: 'username', render: (u: string) => <code>{u}</code> },
    {
      title: 'Outcome',
      dataIndex: 'outcome',
      render: (o: AuthLogEntry['outcome'], e: AuthLogEntry) => (
        <Space size={4}>
          <Tag color={OUTCOME[o]?.color}>{OUTCOME[o]?.label ?? o}</Tag>
          {e.attempts > 1 && <Typography.Text type="secondary">×{e.attempts}</Typography.Text>}
        </Space>
      ),
    },
    { title: 'Address', dataIndex: 'address', render: (a: string) => <code>{a}</code> },
    { title: 'User agent', dataIndex: 'userAgent', ellipsis: true },
  ];

  return (
    <Space orientation="vertical" size={12} style={{ width: '100%' }}>
      <Form<Filters> form={form} layout="inline" onFinish={(v) => setFilters({ ...v })}>
        {me.superuser && (
          <Form.Item name="user" label="User name">
            <Input allowClear style={{ width: 160 }} />
          </Form.Item>
        )}
        <Form.Item name="outcome" label="Outcome">
          <Select allowClear style={{ width: 160 }} options={Object.entries(OUTCOME).map(([value, o]) => ({ value, label: o.label }))} />
        </Form.Item>
        <Form.Item>
          <Button type="primary" htmlType="submit">
            Filter
          </Button>
        </Form.Item>
      </Form>
      {!me.superuser && <Typography.Text type="secondary">Logins under your own user name; superusers see everyone’s.</Typography.Text>}
      {pages.error && <Alert type="error" showIcon title={pages.error} />}
      <Table<AuthLogEntry> size="middle" rowKey="id" loading={pages.loading} dataSource={pages.page?.items ?? []} columns={columns} pagination={false} />
      <PagerBar pages={pages} pageSize={PAGE_SIZE} />
    </Space>
  );
}
