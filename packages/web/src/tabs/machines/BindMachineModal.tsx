/** Bind an existing machine to this node by hostname (PUT /nodes/:path/machines/:hostname). */
import { Form, Input, Typography } from 'antd';
import { api, seg } from '../../api.ts';
import { FormModal } from '../../components/FormModal.tsx';
import type { MachineView } from '../../types.ts';

/** Modal that binds a machine already known to Canopy. */
export function BindMachineModal({ nodePath, open, onClose, onBound }: { nodePath: string; open: boolean; onClose: () => void; onBound: (m: MachineView) => void }) {
  async function bind(v: { hostname: string }): Promise<void> {
    onBound(await api.put<MachineView>(`/nodes/${seg(nodePath)}/machines/${seg(v.hostname.trim())}`));
  }
  return (
    <FormModal<{ hostname: string }> title={`Bind a machine to ${nodePath}`} open={open} onClose={onClose} onSubmit={bind} fields={['hostname']} okText="Bind">
      <Typography.Paragraph type="secondary">A machine may belong to several nodes; binding keeps its other nodes.</Typography.Paragraph>
      <Form.Item name="hostname" label="Hostname" rules={[{ required: true, message: 'enter the hostname' }]}>
        <Input placeholder="web-01.example.net" autoFocus />
      </Form.Item>
    </FormModal>
  );
}
