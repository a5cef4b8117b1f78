/**
 * What a node ends up with after inheritance, one line per environment, class, class parameter and
 * top-scope parameter, each naming the node whose record supplied it.
 */
import { Alert, Table, Tag, Typography } from 'antd';
import { effectiveRows, type EffectiveRow, type NodePuppet } from './model.ts';
import { NodeLink } from './NodeLink.tsx';

const MONO = { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace', fontSize: 13 };

const WHAT_COLOR: Record<EffectiveRow['what'], string | undefined> = {
  environment: 'purple',
  class: 'blue',
  'class parameter': 'geekblue',
  parameter: 'cyan',
  note: undefined,
};

/** The effective result of `view`, with the catalog's warnings about it. */
export function EffectiveTable({ view }: { view: NodePuppet }) {
  const here = view.nodePath;
  const columns = [
    { title: 'What', dataIndex: 'what', width: 130, render: (w: EffectiveRow['what']) => (w === 'note' ? null : <Tag color={WHAT_COLOR[w]}>{w}</Tag>) },
    {
      title: 'Name',
      dataIndex: 'name',
      render: (name: string, r: EffectiveRow) =>
        r.what === 'note' ? (
          <Typography.Text type="secondary">{name}</Typography.Text>
        ) : r.owner ? (
          <span style={{ ...MONO, paddingLeft: 12 }}>
            <Typography.Text type="secondary">↳ </Typography.Text>
            {name}
          </span>
        ) : (
          <Typography.Text strong={r.what === 'class'} style={MONO}>
            {name}
          </Typography.Text>
        ),
    },
    {
      title: 'Value',
      dataIndex: 'value',
      render: (v: string | null) => (v === null ? null : <span style={{ ...MONO, whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>{v}</span>),
    },
    {
      title: 'From',
      dataIndex: 'from',
      render: (from: string | null, r: EffectiveRow) =>
        from !== null ? <NodeLink path={from} here={here} /> : <Typography.Text type="secondary">{r.what === 'environment' ? "Puppet's default" : '—'}</Typography.Text>,
    },
  ];

  return (
    <div>
      {view.catalogIssues.length > 0 && (
        <Alert
          type="warning"
          showIcon
          data-testid="catalog-issues"
          style={{ marginBottom: 12 }}
          title="The classes catalog no longer offers part of this configuration"
          description={
            <ul style={{ margin: 0, paddingLeft: 18 }}>
              {view.catalogIssues.map((i) => (
                <li key={i.path.join('.')}>{i.message}</li>
              ))}
            </ul>
          }
        />
      )}
      <Table<EffectiveRow> size="small" rowKey="key" dataSource={effectiveRows(view.effective)} columns={columns} pagination={false} data-testid="effective-table" />
    </div>
  );
}
