/**
 * A cluster's published versions, newest first: who, why, when; each expands to its diff against
 * the version before it, and any earlier one can be rolled back to (published again as a new
 * version, rendered with today's instances) — unless the server's retention policy pruned its
 * content, which leaves only the row and its diff stats.
 */
import { useEffect, useState } from 'react';
import { App, Button, Popconfirm, Skeleton, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { RollbackOutlined } from '@ant-design/icons';
import { api, ConfigRejectedError, messageOf, request, seg } from '../../api.ts';
import { useAccess } from '../../components/permissions.tsx';
import { DiffView } from './DiffView.tsx';
import { CHECKER, rollbackDivergence, when, type ApplyView, type ProxyKind, type VersionDetail, type VersionView } from './model.ts';
import { ProgramOutput } from './ProgramOutput.tsx';

export interface VersionsTableProps {
  kind: ProxyKind;
  path: string;
  versions: VersionView[] | undefined;
  current: number;
  more: boolean;
  onMore: () => void;
  onRolledBack: (result: ApplyView) => void;
}

function VersionDiff({ url, version }: { url: string; version: number }) {
  const [detail, setDetail] = useState<VersionDetail>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    api.get<VersionDetail>(`${url}/versions/${version}`).then(setDetail, (err: unknown) => setError(messageOf(err)));
  }, [url, version]);
  if (error) return <Typography.Text type="danger">{error}</Typography.Text>;
  if (!detail) return <Skeleton active paragraph={{ rows: 3 }} />;
  return (
    <Space orientation="vertical" size={8} style={{ width: '100%' }}>
      <DiffView diff={detail.diff} empty={`Same files as v${version - 1}.`} />
      {detail.checkOutput.trim() && (
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          Checked: <code>{detail.checkOutput.trim().split('\n').at(-1)}</code>
        </Typography.Text>
      )}
    </Space>
  );
}

/** The versions table of the `kind` cluster at `path`. */
export function VersionsTable({ kind, path, versions, current, more, onMore, onRolledBack }: VersionsTableProps) {
  const { message, modal } = App.useApp();
  const url = `/${kind}/clusters/${seg(path)}`;

  async function rollback(v: VersionView): Promise<void> {
    try {
      const r = await request<ApplyView>('POST', `${url}/rollback`, { body: { version: v.version } });
      void message.success(r.published ? `Rolled back: v${r.version.version} has the settings of v${v.version}` : `Nothing to publish: v${r.version.version} already renders the same`);
      const diverged = rollbackDivergence(r);
      if (diverged.length > 0) {
        modal.warning({ title: `Some settings still differ from v${v.version}`, width: 640, content: <div>The next apply would publish their current settings:<ul>{diverged.map((d) => <li key={d}>{d}</li>)}</ul></div> });
      }
      onRolledBack(r);
    } catch (err) {
      if (err instanceof ConfigRejectedError) {
        modal.error({ title: `Cannot roll back to v${v.version}`, width: 760, content: <ProgramOutput title={`${err.program || CHECKER[kind]} refused it`} output={err.output} /> });
      } else void message.error(messageOf(err));
    }
  }

  const mayWrite = useAccess().can(`${kind}.write`);
  const columns = [
    {
      title: 'Version',
      key: 'version',
      width: 170,
      render: (_: unknown, v: VersionView) => (
        <Space size={4} wrap>
          <strong>v{v.version}</strong>
          {v.version === current && <Tag color="green">current</Tag>}
          {v.rollbackOf !== null && <Tag color="purple">rollback of v{v.rollbackOf}</Tag>}
          {v.contentPruned && (
            <Tooltip title={`Only this row is kept (+${v.added} −${v.removed} lines): its files, settings and diff were pruned, so it can no longer be shown or rolled back to.`}>
              <Tag data-testid="content-pruned">content pruned</Tag>
            </Tooltip>
          )}
        </Space>
      ),
    },
    { title: 'Author', dataIndex: 'author', width: 140 },
    { title: 'Reason', dataIndex: 'reason', render: (r: string) => <Typography.Text style={{ wordBreak: 'break-word' }}>{r}</Typography.Text> },
    { title: 'Published', dataIndex: 'createdAt', width: 190, render: (t: string) => when(t) },
    {
      title: '',
      key: 'actions',
      width: 120,
      render: (_: unknown, v: VersionView) =>
        v.version === current || v.contentPruned || !mayWrite ? null : (
          <Popconfirm
            title={`Roll back to v${v.version}?`}
            description={<span style={{ display: 'inline-block', maxWidth: 320 }}>Its settings are published again as a new version, rendered with the instances registered now.</span>}
            okText="Roll back"
            okButtonProps={{ danger: true }}
            onConfirm={() => rollback(v)}
          >
            <Button size="small" icon={<RollbackOutlined />} aria-label={`Roll back to v${v.version}`} title={`Publish v${v.version}'s settings again`}>
              Rollback
            </Button>
          </Popconfirm>
        ),
    },
  ];

  return (
    <>
      <Table<VersionView>
        size="small"
        rowKey="version"
        loading={versions === undefined}
        dataSource={versions ?? []}
        columns={columns}
        pagination={false}
        expandable={{ expandedRowRender: (v) => <VersionDiff url={url} version={v.version} />, rowExpandable: (v) => !v.contentPruned }}
        locale={{ emptyText: 'No version published yet' }}
        data-testid="versions"
      />
      {more && (
        <Button size="small" style={{ marginTop: 8 }} onClick={onMore}>
          Older versions
        </Button>
      )}
    </>
  );
}
