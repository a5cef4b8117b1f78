/** The per-row result of an import: what was created, updated, skipped, and why rows failed. */
import { Space, Statistic, Table, Tag } from 'antd';
import type { ImportReport } from '../../types.ts';

type Row = ImportReport['rows'][number];

/** Summary counts and a row table. */
export function ImportReportView({ report }: { report: ImportReport }) {
  return (
    <div data-testid="import-report">
      <Space size={32} style={{ marginBottom: 12 }}>
        <Statistic title="Created" value={report.created} />
        <Statistic title="Updated" value={report.updated} />
        <Statistic title="Failed" value={report.failed} styles={{ content: { color: report.failed ? '#cf1322' : undefined } }} />
      </Space>
      <Table<Row>
        size="small"
        rowKey="row"
        dataSource={report.rows}
        pagination={{ pageSize: 10, hideOnSinglePage: true }}
        columns={[
          { title: 'Row', dataIndex: 'row', width: 60 },
          { title: 'Hostname', dataIndex: 'hostname', width: 240, render: (h?: string) => <span style={{ whiteSpace: 'nowrap' }}>{h ?? '—'}</span> },
          { title: 'Result', width: 110, render: (_: unknown, r: Row) => (r.ok ? <Tag color="success">{r.action ?? 'ok'}</Tag> : <Tag color="error">failed</Tag>) },
          { title: 'Errors', dataIndex: 'errors', render: (e?: string[]) => (e?.length ? e.join('; ') : '') },
        ]}
      />
    </div>
  );
}
