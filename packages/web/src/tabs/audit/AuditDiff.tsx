/** Before/after of one audit entry as a field table, changes highlighted. */
import { Table, Typography } from 'antd';
import { diffRows, type DiffRow } from './diff.ts';

const BG: Record<DiffRow['change'], string | undefined> = { added: '#f0faf3', removed: '#fdf1f0', changed: '#fffbe6', same: undefined };

const cell = (v: string | undefined) => (v === undefined ? <Typography.Text type="secondary">—</Typography.Text> : <code style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>{v}</code>);

/** The expanded row of the audit table. */
export function AuditDiff({ before, after }: { before: unknown; after: unknown }) {
  const rows = diffRows(before, after);
  if (rows.length === 0) return <Typography.Text type="secondary">No recorded values.</Typography.Text>;
  return (
    <Table<DiffRow>
      size="small"
      rowKey="field"
      pagination={false}
      dataSource={rows}
      onRow={(r) => ({ style: { background: BG[r.change] } })}
      columns={[
        { title: 'Field', dataIndex: 'field', width: 160, render: (f: string) => <strong>{f}</strong> },
        { title: 'Before', dataIndex: 'before', render: cell },
        { title: 'After', dataIndex: 'after', render: cell },
      ]}
    />
  );
}
