/** The trash (superusers): deleted nodes, where each would come back, and restore. */
import { Alert, App, Button, Space, Table, Tooltip, Typography } from 'antd';
import { UndoOutlined } from '@ant-design/icons';
import { api, messageOf } from '../api.ts';
import type { NodeView } from '../types.ts';
import { shownTime, type TrashedNode } from './types.ts';
import { useList } from './useList.ts';

/** The Trash admin page; `onRestored` lets the tree show the node again. */
export function TrashPage({ onRestored }: { onRestored: () => void }) {
  const { message } = App.useApp();
  const trash = useList<TrashedNode>('/trash');

  async function restore(t: TrashedNode): Promise<void> {
    try {
      const node = await api.post<NodeView>(`/trash/${t.id}/restore`);
      void message.success(`Restored ${t.path} as ${node.path}`);
      onRestored();
      await trash.reload();
    } catch (err) {
      void message.error(messageOf(err));
    }
  }

  const columns = [
    { title: 'Deleted node', dataIndex: 'path', render: (p: string) => <code>{p}</code> },
    {
      title: 'Restores as',
      dataIndex: 'restoresAs',
      render: (p: string | null) => (p === null ? <Typography.Text type="secondary">its parent is in the trash too: restore that first</Typography.Text> : <code>{p}</code>),
    },
    { title: 'Deleted', dataIndex: 'deletedAt', render: shownTime },
    {
      title: '',
      key: 'actions',
      render: (_: unknown, t: TrashedNode) => (
        <Tooltip title={t.restoresAs === null ? 'Restore its parent first' : undefined}>
          <Button size="small" icon={<UndoOutlined />} disabled={t.restoresAs === null} onClick={() => void restore(t)} data-testid={`restore-${t.id}`}>
            Restore
          </Button>
        </Tooltip>
      ),
    },
  ];

  return (
    <Space orientation="vertical" size={12} style={{ width: '100%' }}>
      <Typography.Text type="secondary">Deleted nodes, with their subtrees, wait here until a superuser restores them.</Typography.Text>
      {trash.error && <Alert type="error" showIcon title={trash.error} />}
      <Table<TrashedNode> size="middle" rowKey="id" loading={trash.items === undefined && !trash.error} dataSource={trash.items ?? []} columns={columns} pagination={{ pageSize: 50, hideOnSinglePage: true }} locale={{ emptyText: 'The trash is empty' }} />
    </Space>
  );
}
