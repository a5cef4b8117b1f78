/** Move a node under another parent (or to the top level). */
import { Form, Typography } from 'antd';
import { api, seg } from '../../api.ts';
import { FormModal } from '../../components/FormModal.tsx';
import { useSession } from '../../session.ts';
import type { NodeView } from '../../types.ts';
import { NodePicker, TOP_LEVEL } from './NodePicker.tsx';

/** Modal for POST /nodes/:path/move. */
export function MoveModal({ node, open, onClose, onMoved }: { node: NodeView; open: boolean; onClose: () => void; onMoved: (n: NodeView) => void }) {
  const { user } = useSession();
  const inSubtree = (p: string) => p === node.path || p.startsWith(`${node.path}.`) || p === node.parentPath;

  async function move(v: { parentPath: string }): Promise<void> {
    const parentPath = v.parentPath === TOP_LEVEL ? null : v.parentPath;
    onMoved(await api.post<NodeView>(`/nodes/${seg(node.path)}/move`, { parentPath }));
  }
  return (
    <FormModal<{ parentPath: string }> title={`Move ${node.path}`} open={open} onClose={onClose} onSubmit={move} fields={['parentPath']} okText="Move">
      <Typography.Paragraph type="secondary">
        The node keeps its name, subtree, machines and grants; only its place in the tree changes.
      </Typography.Paragraph>
      <Form.Item name="parentPath" label="New parent" rules={[{ required: true, message: 'pick the new parent' }]}>
        <NodePicker exclude={inSubtree} needs="tree.write" allowTopLevel={user.superuser && node.parentPath !== null} />
      </Form.Item>
    </FormModal>
  );
}
