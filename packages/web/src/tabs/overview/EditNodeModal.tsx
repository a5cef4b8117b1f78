/** Edit a node's description and labels (PATCH /nodes/:path). */
import { Form, Input } from 'antd';
import { api, seg } from '../../api.ts';
import { FormModal } from '../../components/FormModal.tsx';
import { labelsToText, textToLabels } from '../../components/labels.ts';
import type { NodeView } from '../../types.ts';

interface Values {
  description?: string;
  labels?: string;
}

/** Modal to change description and labels. */
export function EditNodeModal({ node, open, onClose, onSaved }: { node: NodeView; open: boolean; onClose: () => void; onSaved: () => void }) {
  async function save(v: Values): Promise<void> {
    await api.patch(`/nodes/${seg(node.path)}`, { description: v.description ?? '', labels: textToLabels(v.labels) });
    onSaved();
  }
  return (
    <FormModal<Values>
      title={`Edit ${node.path}`}
      open={open}
      onClose={onClose}
      onSubmit={save}
      fields={['description', 'labels']}
      initialValues={{ description: node.description, labels: labelsToText(node.labels) }}
    >
      <Form.Item name="description" label="Description">
        <Input.TextArea rows={3} />
      </Form.Item>
      <Form.Item name="labels" label="Labels" extra="One key=value per line; remove a line to remove the label.">
        <Input.TextArea rows={4} placeholder={'team=web\ntier=frontend'} />
      </Form.Item>
    </FormModal>
  );
}
