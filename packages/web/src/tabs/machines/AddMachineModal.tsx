/** Add a new machine bound to this node (POST /machines). */
import { Col, Form, Input, Row, Select } from 'antd';
import type { MachineView } from '../../types.ts';
import { api } from '../../api.ts';
import { FormModal } from '../../components/FormModal.tsx';
import { textToLabels } from '../../components/labels.ts';
import { KINDS, STATUSES } from './statuses.ts';

interface Values {
  hostname: string;
  ips?: string;
  zone?: string;
  idc?: string;
  kind: MachineView['kind'];
  status: MachineView['status'];
  os?: string;
  serial?: string;
  labels?: string;
}

const FIELDS = ['hostname', 'ips', 'zone', 'idc', 'kind', 'status', 'os', 'serial', 'labels'] as const;

/** Modal form creating a machine in `nodePath`. */
export function AddMachineModal({ nodePath, open, onClose, onAdded }: { nodePath: string; open: boolean; onClose: () => void; onAdded: (m: MachineView) => void }) {
  async function add(v: Values): Promise<void> {
    const m = await api.post<MachineView>('/machines', {
      hostname: v.hostname.trim(),
      ips: (v.ips ?? '').split(/[\s,;]+/).filter(Boolean),
      zone: v.zone?.trim() ?? '',
      idc: v.idc?.trim() ?? '',
      kind: v.kind,
      status: v.status,
      os: v.os?.trim() ?? '',
      serial: v.serial?.trim() ?? '',
      labels: textToLabels(v.labels),
      nodes: [nodePath],
    });
    onAdded(m);
  }

  return (
    <FormModal<Values> title={`Add a machine to ${nodePath}`} open={open} onClose={onClose} onSubmit={add} fields={FIELDS} okText="Add" width={640} initialValues={{ kind: 'vm', status: 'installing' }}>
      <Row gutter={12}>
        <Col span={12}>
          <Form.Item name="hostname" label="Hostname" rules={[{ required: true, message: 'a machine needs a hostname' }]}>
            <Input placeholder="web-01.example.net" autoFocus />
          </Form.Item>
        </Col>
        <Col span={12}>
          <Form.Item name="ips" label="IP addresses" extra="Separate several with spaces or commas.">
            <Input placeholder="10.0.0.11" />
          </Form.Item>
        </Col>
        <Col span={8}>
          <Form.Item name="zone" label="Zone">
            <Input placeholder="az1" />
          </Form.Item>
        </Col>
        <Col span={8}>
          <Form.Item name="idc" label="IDC">
            <Input placeholder="dc1" />
          </Form.Item>
        </Col>
        <Col span={8}>
          <Form.Item name="os" label="OS">
            <Input placeholder="debian 13" />
          </Form.Item>
        </Col>
        <Col span={8}>
          <Form.Item name="kind" label="Kind">
            <Select options={KINDS.map((k) => ({ value: k, label: k }))} />
          </Form.Item>
        </Col>
        <Col span={8}>
          <Form.Item name="status" label="Status">
            <Select options={STATUSES.map((s) => ({ value: s, label: s }))} />
          </Form.Item>
        </Col>
        <Col span={8}>
          <Form.Item name="serial" label="Serial">
            <Input />
          </Form.Item>
        </Col>
        <Col span={24}>
          <Form.Item name="labels" label="Labels" extra="One key=value per line.">
            <Input.TextArea rows={2} />
          </Form.Item>
        </Col>
      </Row>
    </FormModal>
  );
}
