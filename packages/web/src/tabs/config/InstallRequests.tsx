/**
 * Install requests for the subtree: a machine being installed is not in the tree yet, so the ENC
 * learns its node from the request made here. Lists the open ones and makes new ones.
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Col, Form, Input, Popconfirm, Row, Space, Table, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { api, messageOf } from '../../api.ts';
import { Allowed, ReadOnlyNote, useAccess } from '../../components/permissions.tsx';
import { FormModal } from '../../components/FormModal.tsx';
import type { Page } from '../../types.ts';
import type { InstallRequest } from './model.ts';
import { NodeLink } from './NodeLink.tsx';

interface Values {
  hostname: string;
  nodePath: string;
  zone?: string;
  idc?: string;
  os?: string;
  note?: string;
}

const FIELDS = ['hostname', 'nodePath', 'zone', 'idc', 'os', 'note'] as const;

/** The open install requests under `path`, re-readable. */
export function useInstallRequests(path: string) {
  const [items, setItems] = useState<InstallRequest[]>();
  const [error, setError] = useState<string>();
  const reload = useCallback(async () => {
    try {
      setItems((await api.get<Page<InstallRequest>>('/provisioning', { under: path, state: 'open', limit: 200 })).items);
      setError(undefined);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [path]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { items, error, reload };
}

export interface InstallRequestsProps {
  path: string;
  requests: ReturnType<typeof useInstallRequests>;
}

/** Table of open requests with "Request install" and cancel. */
export function InstallRequests({ path, requests }: InstallRequestsProps) {
  const { message } = App.useApp();
  const [open, setOpen] = useState(false);
  const mayWrite = useAccess().can('machine.write');

  async function create(v: Values): Promise<void> {
    const out = await api.post<InstallRequest>('/provisioning', {
      hostname: v.hostname.trim(),
      nodePath: v.nodePath.trim(),
      zone: v.zone?.trim() ?? '',
      idc: v.idc?.trim() ?? '',
      os: v.os?.trim() ?? '',
      note: v.note ?? '',
    });
    void message.success(`Install of ${out.hostname} requested for ${out.nodePath ?? v.nodePath}`);
    await requests.reload();
  }

  async function cancel(r: InstallRequest): Promise<void> {
    try {
      await api.del(`/provisioning/${r.id}`);
      void message.success(`Cancelled the install request of ${r.hostname}`);
      await requests.reload();
    } catch (err) {
      void message.error(messageOf(err));
    }
  }

  const columns = [
    { title: 'Hostname', dataIndex: 'hostname', render: (h: string) => <strong>{h}</strong> },
    { title: 'Node', dataIndex: 'nodePath', render: (p: string | null) => (p ? <NodeLink path={p} here={path} /> : <Typography.Text type="secondary">deleted</Typography.Text>) },
    { title: 'Zone / IDC', key: 'place', render: (_: unknown, r: InstallRequest) => [r.zone, r.idc].filter(Boolean).join(' / ') || '—' },
    { title: 'Requested by', dataIndex: 'requestedBy' },
    { title: 'Expires', dataIndex: 'expiresAt', render: (t: string) => new Date(t).toLocaleString() },
    {
      title: '',
      key: 'actions',
      width: 90,
      render: (_: unknown, r: InstallRequest) =>
        mayWrite && (
          <Popconfirm title={`Cancel the install request of ${r.hostname}?`} okText="Cancel request" cancelText="Keep" okButtonProps={{ danger: true }} onConfirm={() => cancel(r)}>
            <Button size="small">Cancel</Button>
          </Popconfirm>
        ),
    },
  ];

  return (
    <Space orientation="vertical" size={8} style={{ width: '100%' }}>
      <Space style={{ width: '100%', justifyContent: 'space-between' }}>
        <Typography.Text type="secondary">A machine being installed gets the configuration of the node its request names, until it joins the tree.</Typography.Text>
        <Allowed op="machine.write">
          <Button icon={<PlusOutlined />} onClick={() => setOpen(true)}>
            Request install
          </Button>
        </Allowed>
      </Space>
      <ReadOnlyNote op="machine.write" what="requesting or cancelling installs" />
      {requests.error && <Alert type="error" showIcon title={requests.error} />}
      <Table<InstallRequest>
        size="small"
        rowKey="id"
        loading={requests.items === undefined && !requests.error}
        dataSource={requests.items ?? []}
        columns={columns}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        locale={{ emptyText: 'No open install requests under this node' }}
      />
      <FormModal<Values> title="Request an install" open={open} onClose={() => setOpen(false)} onSubmit={create} fields={FIELDS} okText="Request" initialValues={{ nodePath: path }} width={600}>
        <Row gutter={12}>
          <Col span={12}>
            <Form.Item name="hostname" label="Hostname" rules={[{ required: true, message: 'the host name the new machine will have' }]} extra="Its Puppet certname.">
              <Input placeholder="web-07.example.net" autoFocus />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name="nodePath" label="Node" rules={[{ required: true }]} extra="Where the machine belongs once installed.">
              <Input />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item name="zone" label="Zone">
              <Input placeholder="az1" />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item name="idc" label="IDC">
              <Input />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item name="os" label="OS">
              <Input placeholder="debian-12" />
            </Form.Item>
          </Col>
          <Col span={24}>
            <Form.Item name="note" label="Note">
              <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} />
            </Form.Item>
          </Col>
        </Row>
      </FormModal>
    </Space>
  );
}
