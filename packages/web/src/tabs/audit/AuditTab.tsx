/** Audit tab: who changed what in this subtree, newest first, with a before/after diff per entry. */
import { useState } from 'react';
import { Alert, Input, Space, Table, Tag, Typography } from 'antd';
import { HistoryOutlined } from '@ant-design/icons';
import { api } from '../../api.ts';
import { PagerBar } from '../../components/PagerBar.tsx';
import { useCursorPages } from '../../components/useCursorPages.ts';
import type { AuditEntry, Page } from '../../types.ts';
import type { NodeTab, NodeTabProps } from '../types.ts';
import { AuditDiff } from './AuditDiff.tsx';

const PAGE_SIZE = 25;

/** The tag colour of an audit operation: red for removals, green for additions, blue otherwise. */
export function colorOf(operation: string): string {
  if (/\.(delete|unbind|revoke|retire)$/.test(operation)) return 'red';
  if (/\.(create|bind|import|restore)$/.test(operation)) return 'green';
  return 'blue';
}

function Audit({ node }: NodeTabProps) {
  const [user, setUser] = useState<string>();
  const [operation, setOperation] = useState<string>();
  const pages = useCursorPages<AuditEntry>(JSON.stringify([node.path, user, operation]), (cursor) =>
    api.get<Page<AuditEntry>>('/audit', { under: node.path, limit: PAGE_SIZE, cursor, user, operation }),
  );

  const columns = [
    { title: 'Time', dataIndex: 'at', width: 190, render: (at: string) => new Date(at).toLocaleString() },
    { title: 'Actor', dataIndex: 'actor', width: 120 },
    { title: 'Operation', dataIndex: 'operation', width: 150, render: (op: string) => <Tag color={colorOf(op)}>{op}</Tag> },
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
      <Space wrap>
        <Input.Search allowClear placeholder="User" style={{ width: 160 }} onSearch={(v) => setUser(v.trim() || undefined)} aria-label="Audit user filter" />
        <Input.Search allowClear placeholder="Operation, e.g. tree.create" style={{ width: 240 }} onSearch={(v) => setOperation(v.trim() || undefined)} aria-label="Audit operation filter" />
      </Space>
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

/** The Audit tab descriptor. */
export const auditTab: NodeTab = { key: 'audit', needs: 'audit.read', label: 'Audit', icon: <HistoryOutlined />, Component: Audit };
