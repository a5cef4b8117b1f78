/**
 * The audit log across every node (superusers), or under one node the caller may audit, filtered
 * by user, node, operation and time; each entry expands to its before/after diff.
 */
import { useState } from 'react';
import { Alert, Button, Form, Input, Space, Table, Tag, Typography } from 'antd';
import { api } from '../api.ts';
import { PagerBar } from '../components/PagerBar.tsx';
import { useCursorPages } from '../components/useCursorPages.ts';
import { useSession } from '../session.ts';
import { AuditDiff } from '../tabs/audit/AuditDiff.tsx';
import { colorOf } from '../tabs/audit/AuditTab.tsx';
import type { AuditEntry, Page } from '../types.ts';
import { shownTime } from './types.ts';

const PAGE_SIZE = 50;

interface Filters {
  user?: string;
  under?: string;
  operation?: string;
  /** `datetime-local` values: the viewer's local time. */
  since?: string;
  until?: string;
}

const trimmed = (s: string | undefined): string | undefined => s?.trim() || undefined;
const isoOf = (local: string | undefined): string | undefined => (local ? new Date(local).toISOString() : undefined);

/** The Audit log admin page. */
export function AuditLogPage() {
  const { user: me } = useSession();
  const [form] = Form.useForm<Filters>();
  const [filters, setFilters] = useState<Filters>({});
  const needsNode = !me.superuser && !filters.under;
  const pages = useCursorPages<AuditEntry>(JSON.stringify(filters), (cursor) =>
    needsNode
      ? Promise.resolve({ items: [] })
      : api.get<Page<AuditEntry>>('/audit', {
          limit: PAGE_SIZE,
          cursor,
          user: trimmed(filters.user),
          under: trimmed(filters.under),
          operation: trimmed(filters.operation),
          since: isoOf(filters.since),
          until: isoOf(filters.until),
        }),
  );

  const columns = [
    { title: 'Time', dataIndex: 'at', width: 190, render: shownTime },
    { title: 'Actor', dataIndex: 'actor', width: 120 },
    { title: 'Operation', dataIndex: 'operation', width: 170, render: (op: string) => <Tag color={colorOf(op)}>{op}</Tag> },
    {
      title: 'Target',
      key: 'target',
      render: (_: unknown, e: AuditEntry) => (
        <Space size={4} wrap>
          <Typography.Text type="secondary">{e.targetKind}</Typography.Text>
          <code>{e.target}</code>
          {e.nodePath && e.nodePath !== e.target && <Typography.Text type="secondary">on {e.nodePath}</Typography.Text>}
        </Space>
      ),
    },
  ];

  return (
    <Space orientation="vertical" size={12} style={{ width: '100%' }}>
      <Form<Filters> form={form} layout="inline" onFinish={(v) => setFilters({ ...v })} style={{ rowGap: 8 }}>
        <Form.Item name="user" label="User">
          <Input allowClear style={{ width: 140 }} />
        </Form.Item>
        <Form.Item name="under" label="Node" tooltip="This node and everything beneath it">
          <Input allowClear placeholder="e.g. corp.pay" style={{ width: 180 }} />
        </Form.Item>
        <Form.Item name="operation" label="Operation">
          <Input allowClear placeholder="e.g. tree.create" style={{ width: 170 }} />
        </Form.Item>
        <Form.Item name="since" label="From">
          <Input type="datetime-local" style={{ width: 200 }} />
        </Form.Item>
        <Form.Item name="until" label="To">
          <Input type="datetime-local" style={{ width: 200 }} />
        </Form.Item>
        <Form.Item>
          <Space>
            <Button type="primary" htmlType="submit">
              Filter
            </Button>
            <Button
              onClick={() => {
                form.resetFields();
                setFilters({});
              }}
            >
              Clear
            </Button>
          </Space>
        </Form.Item>
      </Form>
      {needsNode && <Alert type="info" showIcon title="Name a node: you can read the audit log of nodes where you hold audit.read; the whole log is for superusers." />}
      {pages.error && <Alert type="error" showIcon title={pages.error} />}
      <Table<AuditEntry>
        size="middle"
        rowKey="id"
        loading={pages.loading}
        dataSource={pages.page?.items ?? []}
        columns={columns}
        pagination={false}
        expandable={{ expandedRowRender: (e) => <AuditDiff before={e.before} after={e.after} />, rowExpandable: (e) => e.before != null || e.after != null }}
      />
      <PagerBar pages={pages} pageSize={PAGE_SIZE} />
    </Space>
  );
}
