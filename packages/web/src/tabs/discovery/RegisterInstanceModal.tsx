/**
 * Register an instance: one of the machines bound to this very node, on one of the service's
 * ports. The server holds the same rule (secure registration); the picker only saves a round trip.
 */
import { useEffect, useState } from 'react';
import { Form, InputNumber, Select, Typography } from 'antd';
import { api, seg } from '../../api.ts';
import { FormModal } from '../../components/FormModal.tsx';
import type { MachineView, Page } from '../../types.ts';
import type { InstanceView, ServiceView } from './model.ts';

interface RegisterValues {
  hostname: string;
  port: number;
  weight?: number;
}

export interface RegisterInstanceModalProps {
  service: ServiceView;
  open: boolean;
  onClose: () => void;
  onRegistered: (i: InstanceView) => void;
}

/** Machines bound directly to `path` (the subtree listing also holds machines of child nodes). */
function useBoundMachines(path: string, open: boolean): { machines: MachineView[]; loading: boolean } {
  const [machines, setMachines] = useState<MachineView[]>([]);
  const [loading, setLoading] = useState(false);
  useEffect(() => {
    if (!open) return undefined;
    let stale = false;
    setLoading(true);
    api.get<Page<MachineView>>('/machines', { under: path, limit: 1000 }).then(
      (p) => !stale && setMachines(p.items.filter((m) => m.nodes.includes(path) && m.status !== 'retired')),
      () => !stale && setMachines([]),
    ).finally(() => !stale && setLoading(false));
    return () => {
      stale = true;
    };
  }, [path, open]);
  return { machines, loading };
}

/** The register-an-instance dialog. */
export function RegisterInstanceModal({ service, open, onClose, onRegistered }: RegisterInstanceModalProps) {
  const { machines, loading } = useBoundMachines(service.path, open);

  async function register(v: RegisterValues): Promise<void> {
    const body = v.weight === undefined || v.weight === null ? {} : { weight: v.weight };
    onRegistered(await api.put<InstanceView>(`/services/${seg(service.path)}/instances/${seg(v.hostname)}/${v.port}`, body));
  }

  return (
    <FormModal<RegisterValues>
      title={`Register an instance of ${service.path}`}
      open={open}
      onClose={onClose}
      onSubmit={register}
      fields={['hostname', 'port', 'weight']}
      initialValues={{ port: service.ports[0]?.port ?? 8080 }}
      okText="Register"
    >
      <Typography.Paragraph type="secondary">
        Only machines bound to <code>{service.path}</code> can serve it; bind one in the Machines tab first.
      </Typography.Paragraph>
      <Form.Item name="hostname" label="Machine" rules={[{ required: true, message: 'pick a machine' }]}>
        <Select
          showSearch
          loading={loading}
          placeholder="Pick a machine bound to this node"
          notFoundContent={loading ? 'Loading…' : 'No machine is bound to this node'}
          options={machines.map((m) => ({ value: m.hostname, label: `${m.hostname}  ${m.ips[0] ?? '(no address)'}${m.zone ? `  · ${m.zone}` : ''}`, disabled: m.ips.length === 0 }))}
        />
      </Form.Item>
      <Form.Item name="port" label="Port" rules={[{ required: true, message: 'a port number' }]} extra={`Declared: ${service.ports.map((p) => `${p.name} ${p.port}`).join(', ')}`}>
        <InputNumber min={1} max={65535} style={{ width: 160 }} />
      </Form.Item>
      <Form.Item name="weight" label="Weight" extra="Leave empty for the default (1, equal to the others).">
        <InputNumber min={1} max={1000} precision={0} style={{ width: 160 }} />
      </Form.Item>
    </FormModal>
  );
}
