/** The service's instances: health, weight (edited in place), zone, status with drain/undrain. */
import { useEffect, useRef, useState } from 'react';
import { App, Button, InputNumber, Popconfirm, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { DeleteOutlined, PauseCircleOutlined, PlayCircleOutlined, WarningOutlined } from '@ant-design/icons';
import { api, messageOf, seg } from '../../api.ts';
import { useAccess } from '../../components/permissions.tsx';
import { HEALTH_COLOR, instanceKey, STATUS_COLOR, type InstanceStatus, type InstanceView } from './model.ts';

export interface InstancesTableProps {
  path: string;
  instances: InstanceView[] | undefined;
  /** Called after this table changed an instance; the watch brings the new answer anyway. */
  onChanged: () => void;
}

/** A weight that saves on Enter or when the field loses focus, and only when it changed. */
function WeightInput({ instance, save, readOnly }: { instance: InstanceView; save: (weight: number) => Promise<void>; readOnly: boolean }) {
  const [value, setValue] = useState<number | null>(instance.weight);
  const [busy, setBusy] = useState(false);
  // Enter saves, and so does leaving the field (which disabling it while saving does): save once.
  const saving = useRef(false);
  // A pushed change (another operator, the agent) replaces what is shown unless the user is mid-edit.
  useEffect(() => setValue(instance.weight), [instance.weight]);

  async function commit(): Promise<void> {
    if (saving.current) return;
    if (value === null || value === instance.weight) {
      setValue(instance.weight);
      return;
    }
    saving.current = true;
    setBusy(true);
    try {
      await save(value);
    } catch {
      setValue(instance.weight);
    } finally {
      saving.current = false;
      setBusy(false);
    }
  }

  return (
    <InputNumber
      size="small"
      min={1}
      max={1000}
      precision={0}
      value={value}
      disabled={busy || readOnly}
      aria-label={`Weight of ${instanceKey(instance)}`}
      onChange={setValue}
      onPressEnter={() => void commit()}
      onBlur={() => void commit()}
      style={{ width: 80 }}
    />
  );
}

/** Instances of the service at `path`, sorted as the server answers them (hostname, port). */
export function InstancesTable({ path, instances, onChanged }: InstancesTableProps) {
  const { message } = App.useApp();
  const mayWrite = useAccess().can('discovery.write');
  const url = (i: InstanceView) => `/services/${seg(path)}/instances/${seg(i.hostname)}/${i.port}`;

  async function put(i: InstanceView, body: { weight?: number; status?: InstanceStatus }, done: string): Promise<void> {
    try {
      await api.put(url(i), body);
      void message.success(done);
      onChanged();
    } catch (err) {
      void message.error(messageOf(err));
      throw err;
    }
  }

  async function deregister(i: InstanceView): Promise<void> {
    try {
      await api.del(url(i));
      void message.success(`Deregistered ${instanceKey(i)}`);
      onChanged();
    } catch (err) {
      void message.error(messageOf(err));
    }
  }

  const columns = [
    {
      title: 'Instance',
      key: 'instance',
      render: (_: unknown, i: InstanceView) => (
        <Space orientation="vertical" size={0}>
          <strong>{i.hostname}</strong>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {i.ip}:{i.port} · {i.portName}
          </Typography.Text>
        </Space>
      ),
    },
    {
      title: 'Health',
      dataIndex: 'health',
      render: (h: InstanceView['health'], i: InstanceView) => (
        <Space size={4}>
          <Tag color={HEALTH_COLOR[h]} data-testid={`health-${instanceKey(i)}`}>
            {h}
          </Tag>
          {i.agentUnreachable && (
            <Tooltip title="The machine's agent is unreachable: the instance gets no traffic until it is back">
              <Tag color="red" icon={<WarningOutlined />} data-testid={`agent-unreachable-${instanceKey(i)}`}>
                agent unreachable
              </Tag>
            </Tooltip>
          )}
          {!i.bound && (
            <Tooltip title="The machine is no longer bound to this node, retired or without an address: never answered">
              <Tag color="red" icon={<WarningOutlined />}>
                unbound
              </Tag>
            </Tooltip>
          )}
        </Space>
      ),
    },
    { title: 'Weight', key: 'weight', width: 110, render: (_: unknown, i: InstanceView) => <WeightInput instance={i} readOnly={!mayWrite} save={(weight) => put(i, { weight }, `Weight of ${instanceKey(i)} is now ${weight}`)} /> },
    { title: 'Zone', dataIndex: 'zone', render: (z: string) => z || <Typography.Text type="secondary">—</Typography.Text> },
    {
      title: 'Status',
      key: 'status',
      render: (_: unknown, i: InstanceView) => (
        <Space size={8}>
          <Tag color={STATUS_COLOR[i.status]} data-testid={`status-${instanceKey(i)}`}>
            {i.status}
          </Tag>
          {!mayWrite ? null : i.status === 'up' ? (
            <Tooltip title="Stop sending new traffic here; the instance stays registered">
              <Button size="small" icon={<PauseCircleOutlined />} onClick={() => void put(i, { status: 'draining' }, `Draining ${instanceKey(i)}`).catch(() => undefined)}>
                Drain
              </Button>
            </Tooltip>
          ) : (
            <Button size="small" icon={<PlayCircleOutlined />} onClick={() => void put(i, { status: 'up' }, `${instanceKey(i)} is back up`).catch(() => undefined)}>
              Undrain
            </Button>
          )}
        </Space>
      ),
    },
    { title: 'TTL', dataIndex: 'ttlSeconds', render: (t: number | null) => (t === null ? <Typography.Text type="secondary">static</Typography.Text> : `${t} s`) },
    {
      title: '',
      key: 'actions',
      width: 60,
      render: (_: unknown, i: InstanceView) =>
        mayWrite && (
          <Popconfirm title={`Deregister ${instanceKey(i)}?`} description="Clients stop getting it at once." okText="Deregister" okButtonProps={{ danger: true }} onConfirm={() => deregister(i)}>
            <Button size="small" type="text" danger icon={<DeleteOutlined />} aria-label={`Deregister ${instanceKey(i)}`} />
          </Popconfirm>
        ),
    },
  ];

  return (
    <Table<InstanceView>
      size="middle"
      rowKey={(i) => i.id}
      loading={instances === undefined}
      dataSource={instances ?? []}
      columns={columns}
      pagination={{ pageSize: 50, hideOnSinglePage: true }}
      locale={{ emptyText: 'No instances registered yet' }}
    />
  );
}
