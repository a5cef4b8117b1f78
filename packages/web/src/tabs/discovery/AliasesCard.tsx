/** Aliases that lead to this service (directly or through a chain), with switch and delete. */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Card, Popconfirm, Space, Table, Tag, Typography } from 'antd';
import { BranchesOutlined, DeleteOutlined, SwapOutlined } from '@ant-design/icons';
import { api, messageOf, seg } from '../../api.ts';
import { Allowed } from '../../components/permissions.tsx';
import { AliasModal } from './AliasModal.tsx';
import type { AliasView } from './model.ts';

/** Alias card for the service at `path`. */
export function AliasesCard({ path }: { path: string }) {
  const { message } = App.useApp();
  const [all, setAll] = useState<AliasView[]>();
  const [error, setError] = useState<string>();
  const [editing, setEditing] = useState<{ alias: AliasView | undefined }>();

  const load = useCallback(async () => {
    try {
      setAll((await api.get<{ items: AliasView[] }>('/aliases')).items);
      setError(undefined);
    } catch (err) {
      setError(messageOf(err));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  async function remove(a: AliasView): Promise<void> {
    try {
      await api.del(`/aliases/${seg(a.path)}`);
      void message.success(`Deleted alias ${a.path}`);
      await load();
    } catch (err) {
      void message.error(messageOf(err));
    }
  }

  const here = (all ?? []).filter((a) => a.resolvesTo === path);
  const columns = [
    { title: 'Alias', dataIndex: 'path', render: (p: string) => <Typography.Text code>{p}</Typography.Text> },
    {
      title: 'Resolves',
      key: 'chain',
      render: (_: unknown, a: AliasView) => (
        <Space size={2} wrap>
          {[...a.chain, path].map((p, n) => (
            <span key={`${p}-${n}`}>
              {n > 0 && ' → '}
              <Tag color={p === path ? 'green' : undefined}>{p}</Tag>
            </span>
          ))}
        </Space>
      ),
    },
    {
      title: '',
      key: 'actions',
      width: 190,
      // The alias lives on another node; discovery.write here is the console's cue, the server checks there.
      render: (_: unknown, a: AliasView) => (
        <Allowed op="discovery.write">
          <Space>
            <Button size="small" icon={<SwapOutlined />} onClick={() => setEditing({ alias: a })}>
              Switch…
            </Button>
            <Popconfirm title={`Delete alias ${a.path}?`} description="Clients using it stop resolving." okText="Delete" okButtonProps={{ danger: true }} onConfirm={() => remove(a)}>
              <Button size="small" danger icon={<DeleteOutlined />} aria-label={`Delete alias ${a.path}`} />
            </Popconfirm>
          </Space>
        </Allowed>
      ),
    },
  ];

  return (
    <Card
      size="small"
      title={
        <Space>
          <BranchesOutlined />
          Aliases pointing here
        </Space>
      }
      extra={
        <Allowed op="discovery.write">
          <Button size="small" type="primary" ghost icon={<SwapOutlined />} onClick={() => setEditing({ alias: undefined })}>
            Point an alias here
          </Button>
        </Allowed>
      }
    >
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 8 }} />}
      <Table<AliasView>
        size="small"
        rowKey="path"
        loading={all === undefined && !error}
        dataSource={here}
        columns={columns}
        pagination={false}
        locale={{ emptyText: 'No alias leads here. An alias lets you switch clients between services (blue/green) in one step.' }}
      />
      <AliasModal
        open={editing !== undefined}
        alias={editing?.alias}
        here={path}
        known={all ?? []}
        onClose={() => setEditing(undefined)}
        onSaved={(a) => {
          void message.success(a.resolvesTo === path ? `${a.path} now answers with ${path}` : `${a.path} now answers with ${a.resolvesTo ?? a.target}`);
          void load();
        }}
      />
    </Card>
  );
}
