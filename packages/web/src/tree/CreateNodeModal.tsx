/** Create a root node (parent null) or a child of `parent`. */
import { Form, Input, Typography } from 'antd';
import { api } from '../api.ts';
import { FormModal } from '../components/FormModal.tsx';
import { textToLabels } from '../components/labels.ts';
import type { NodeView } from '../types.ts';

interface Values {
  name: string;
  description?: string;
  labels?: string;
}

export interface CreateNodeModalProps {
  /** The parent's path, or null for a new root; undefined keeps the modal closed. */
  parent: string | null | undefined;
  onClose: () => void;
  onCreated: (node: NodeView) => void;
}

/** Modal form for POST /nodes. */
export function CreateNodeModal({ parent, onClose, onCreated }: CreateNodeModalProps) {
  async function create(v: Values): Promise<void> {
    const node = await api.post<NodeView>('/nodes', {
      parentPath: parent ?? null,
      name: v.name.trim(),
      description: v.description ?? '',
      labels: textToLabels(v.labels),
    });
    onCreated(node);
  }

  return (
    <FormModal<Values>
      title={parent ? 'New child node' : 'New root node'}
      open={parent !== undefined}
      onClose={onClose}
      onSubmit={create}
      fields={['name', 'description', 'labels']}
      okText="Create"
    >
      <Typography.Paragraph type="secondary">
        {parent ? (
          <>
            Under <Typography.Text code>{parent}</Typography.Text>
          </>
        ) : (
          'A new top-level node of the service tree.'
        )}
      </Typography.Paragraph>
      <Form.Item name="name" label="Name" rules={[{ required: true, message: 'a node needs a name' }]} extra="A DNS label: lower-case letters, digits and inner hyphens.">
        <Input placeholder="web" autoFocus />
      </Form.Item>
      <Form.Item name="description" label="Description">
        <Input.TextArea rows={2} />
      </Form.Item>
      <Form.Item name="labels" label="Labels" extra="One key=value per line.">
        <Input.TextArea rows={2} placeholder="team=web" />
      </Form.Item>
    </FormModal>
  );
}
