/** Overview tab: what the node is, and the actions that change the node itself. */
import { useEffect, useState } from 'react';
import { Alert, App, Button, Descriptions, Space, Tag, Tooltip, type DescriptionsProps } from 'antd';
import { DeleteOutlined, DragOutlined, EditOutlined, FormOutlined, InfoCircleOutlined } from '@ant-design/icons';
import { api, messageOf, seg } from '../../api.ts';
import { accessOf, Allowed, ReadOnlyNote } from '../../components/permissions.tsx';
import { useSession } from '../../session.ts';
import type { NodeView } from '../../types.ts';
import type { NodeTab, NodeTabProps } from '../types.ts';
import { EditNodeModal } from './EditNodeModal.tsx';
import { MoveModal } from './MoveModal.tsx';
import { RenameModal } from './RenameModal.tsx';

type Dialog = 'edit' | 'rename' | 'move' | undefined;

const none = <span style={{ color: '#999' }}>—</span>;

function facts(node: NodeView): DescriptionsProps['items'] {
  const labels = Object.entries(node.labels);
  return [
    { key: 'path', label: 'Path', span: 2, children: <code>{node.path}</code> },
    { key: 'id', label: 'ID', children: node.id },
    { key: 'parent', label: 'Parent', children: node.parentPath ?? <Tag>top level</Tag> },
    { key: 'description', label: 'Description', span: 2, children: node.description || none },
    { key: 'labels', label: 'Labels', span: 2, children: labels.length ? labels.map(([k, v]) => <Tag key={k}>{v ? `${k}=${v}` : k}</Tag>) : none },
    { key: 'here', label: 'Machines bound here', children: node.machineCount },
    { key: 'subtree', label: 'Machines in subtree', children: node.subtreeMachineCount },
    { key: 'children', label: 'Children', children: node.childCount },
    { key: 'version', label: 'Version', children: node.version },
    { key: 'created', label: 'Created', children: new Date(node.createdAt).toLocaleString() },
    { key: 'updated', label: 'Updated', children: new Date(node.updatedAt).toLocaleString() },
  ];
}

/**
 * Why a rename is refused, or undefined when it may go ahead: renaming re-paths the parent's
 * namespace, so it needs tree.write on the parent as well (a root: a superuser).
 */
function useRenameBlock(node: NodeView): string | undefined {
  const { user } = useSession();
  const [parentBlock, setParentBlock] = useState<string>();
  const parent = node.parentPath;
  useEffect(() => {
    let stale = false;
    setParentBlock(undefined);
    if (parent === null) return;
    const refused = `Renaming needs tree.write on the parent ${parent} too`;
    api.get<NodeView>(`/nodes/${seg(parent)}`).then(
      (p) => !stale && setParentBlock(accessOf(p).can('tree.write') ? undefined : refused),
      () => !stale && setParentBlock(refused),
    );
    return () => {
      stale = true;
    };
  }, [parent]);
  if (parent === null && !user.superuser) return 'Only a superuser renames a top-level node';
  return parentBlock;
}

function Overview({ node, onChanged }: NodeTabProps) {
  const { modal, message } = App.useApp();
  const [dialog, setDialog] = useState<Dialog>();
  const [deleteError, setDeleteError] = useState<string>();
  const renameBlock = useRenameBlock(node);

  function confirmDelete(): void {
    setDeleteError(undefined);
    modal.confirm({
      title: `Delete ${node.path}?`,
      content: 'The node goes to the trash, from where a superuser can restore it. A node with children or machines cannot be deleted.',
      okText: 'Delete',
      okButtonProps: { danger: true },
      onOk: async () => {
        try {
          await api.del(`/nodes/${seg(node.path)}`);
          void message.success(`Deleted ${node.path}`);
          onChanged({ kind: 'deleted' });
        } catch (err) {
          // The server says why (children, machines, …): keep it on screen, not in a toast.
          setDeleteError(messageOf(err));
        }
      },
    });
  }

  return (
    <Space orientation="vertical" size={16} style={{ width: '100%' }}>
      <ReadOnlyNote op="tree.write" what="editing, renaming, moving or deleting this node" />
      <Allowed op="tree.write">
        <Space wrap>
          <Button icon={<EditOutlined />} onClick={() => setDialog('edit')}>
            Edit description & labels
          </Button>
          <Tooltip title={renameBlock}>
            <Button icon={<FormOutlined />} disabled={renameBlock !== undefined} onClick={() => setDialog('rename')}>
              Rename
            </Button>
          </Tooltip>
          <Button icon={<DragOutlined />} onClick={() => setDialog('move')}>
            Move
          </Button>
          <Button danger icon={<DeleteOutlined />} onClick={confirmDelete}>
            Delete
          </Button>
        </Space>
      </Allowed>
      {deleteError && <Alert type="error" showIcon title="Cannot delete this node" description={deleteError} closable={{ onClose: () => setDeleteError(undefined) }} />}
      <Descriptions bordered size="small" column={{ xs: 1, md: 2 }} items={facts(node)} />
      <EditNodeModal node={node} open={dialog === 'edit'} onClose={() => setDialog(undefined)} onSaved={() => onChanged({ kind: 'updated' })} />
      <RenameModal node={node} open={dialog === 'rename'} onClose={() => setDialog(undefined)} onRenamed={(n) => onChanged({ kind: 'moved', path: n.path })} />
      <MoveModal node={node} open={dialog === 'move'} onClose={() => setDialog(undefined)} onMoved={(n) => onChanged({ kind: 'moved', path: n.path })} />
    </Space>
  );
}

/** The Overview tab descriptor. */
export const overviewTab: NodeTab = { key: 'overview', needs: 'tree.read', label: 'Overview', icon: <InfoCircleOutlined />, Component: Overview };
