/** Rename a node; the server re-paths its whole subtree. */
import { Form, Input, Typography } from 'antd';
import { api, seg } from '../../api.ts';
import { FormModal } from '../../components/FormModal.tsx';
import type { NodeView } from '../../types.ts';

/** Modal to PATCH a node's name. */
export function RenameModal({ node, open, onClose, onRenamed }: { node: NodeView; open: boolean; onClose: () => void; onRenamed: (n: NodeView) => void }) {
  async function rename(v: { name: string }): Promise<void> {
    onRenamed(await api.patch<NodeView>(`/nodes/${seg(node.path)}`, { name: v.name.trim() }));
  }
  return (
    <FormModal<{ name: string }> title={`Rename ${node.path}`} open={open} onClose={onClose} onSubmit={rename} fields={['name']} okText="Rename" initialValues={{ name: node.name }}>
      <Typography.Paragraph type="secondary">
        Every node beneath it moves to the new path; references by id (grants, bindings) follow.
      </Typography.Paragraph>
      <Form.Item name="name" label="New name" rules={[{ required: true, message: 'enter a name' }]}>
        <Input autoFocus />
      </Form.Item>
    </FormModal>
  );
}
