/**
 * The node's LVS virtual services (`PUT /nodes/{path}/lvs`) as a table; each row is edited in a
 * dialog and every change saves the whole list, which the server validates as one.
 */
import { useState } from 'react';
import { App, Button, Card, Empty, Popconfirm, Space, Table, Tag, Typography } from 'antd';
import { DeleteOutlined, EditOutlined, NodeIndexOutlined, PlusOutlined } from '@ant-design/icons';
import { api, messageOf, seg } from '../../api.ts';
import { useAccess } from '../../components/permissions.tsx';
import { checkLabel, NEW_VS, vipLabel, vsBodyOf, vsDraftOf, type LvsServiceView, type VirtualService, type VsDraft } from './model.ts';
import { issuesOfEntry, VsModal } from './VsModal.tsx';

export interface VirtualServicesCardProps {
  path: string;
  view: LvsServiceView | null;
  /** Show a one-line invitation instead of the full empty card (on a cluster node). */
  compact?: boolean;
  onSaved: (v: LvsServiceView | null) => void;
}

/** The Virtual services card. */
export function VirtualServicesCard({ path, view, compact = false, onSaved }: VirtualServicesCardProps) {
  const { message } = App.useApp();
  const [dialog, setDialog] = useState<{ index: number | undefined; initial: VsDraft }>();
  const list = view?.virtualServices ?? [];
  const url = `/nodes/${seg(path)}/lvs`;
  const mayWrite = useAccess().can('lvs.write');

  async function put(next: VsDraft[]): Promise<void> {
    const body = { virtualServices: next.map(vsBodyOf) };
    onSaved(await api.put<LvsServiceView>(url, body));
  }

  async function submit(draft: VsDraft): Promise<void> {
    const index = dialog?.index ?? list.length;
    const next: VsDraft[] = list.map(vsDraftOf);
    next[index] = draft;
    try {
      await put(next);
    } catch (err) {
      throw issuesOfEntry(err, index);
    }
    void message.success(dialog?.index === undefined ? `Added ${vipLabel({ vip: draft.vip ?? '', port: draft.port ?? 0, protocol: draft.protocol })}` : 'Saved the virtual service');
  }

  async function remove(index: number): Promise<void> {
    try {
      if (list.length === 1) {
        await api.del(url);
        onSaved(null);
      } else await put(list.filter((_, i) => i !== index).map(vsDraftOf));
      void message.success('Removed the virtual service');
    } catch (err) {
      void message.error(messageOf(err));
    }
  }

  const columns = [
    { title: 'Virtual service', key: 'vip', render: (_: unknown, vs: VirtualService) => <Typography.Text code>{vipLabel(vs)}</Typography.Text> },
    { title: 'Real port', key: 'realPort', width: 90, render: (_: unknown, vs: VirtualService) => vs.realPort ?? vs.port },
    { title: 'Scheduler', dataIndex: 'scheduler', width: 90 },
    {
      title: 'Forwarding',
      key: 'forwarding',
      render: (_: unknown, vs: VirtualService) => (
        <Space size={4} wrap>
          <Tag color={vs.forwarding === 'FNAT' ? 'purple' : 'blue'}>{vs.forwarding}</Tag>
          {vs.synProxy && <Tag color="volcano">syn_proxy</Tag>}
          {vs.localAddressGroup && <Typography.Text type="secondary" style={{ fontSize: 12 }}>via {vs.localAddressGroup}</Typography.Text>}
        </Space>
      ),
    },
    { title: 'Persistence', dataIndex: 'persistenceTimeout', render: (t: number | undefined) => (t ? `${t} s` : <Typography.Text type="secondary">none</Typography.Text>) },
    { title: 'Health check', key: 'check', render: (_: unknown, vs: VirtualService) => checkLabel(vs.healthCheck) },
    {
      title: '',
      key: 'actions',
      width: 90,
      render: (_: unknown, vs: VirtualService, index: number) =>
        mayWrite && (
          <Space size={0}>
            <Button size="small" type="text" icon={<EditOutlined />} aria-label={`Edit ${vipLabel(vs)}`} onClick={() => setDialog({ index, initial: vsDraftOf(vs) })} />
            <Popconfirm title={`Remove ${vipLabel(vs)}?`} description={list.length === 1 ? 'It is the last one: the node loses its LVS settings.' : 'The directors drop it at the next apply.'} okText="Remove" okButtonProps={{ danger: true }} onConfirm={() => remove(index)}>
              <Button size="small" type="text" danger icon={<DeleteOutlined />} aria-label={`Remove ${vipLabel(vs)}`} />
            </Popconfirm>
          </Space>
        ),
    },
  ];

  const modal = <VsModal open={dialog !== undefined} index={dialog?.index} initial={dialog?.initial ?? NEW_VS} onClose={() => setDialog(undefined)} onSubmit={submit} />;
  // On a director node (usually no service itself) the invitation is one quiet line.
  if (!view && compact) {
    return (
      <Card size="small">
        <Space style={{ width: '100%', justifyContent: 'space-between' }}>
          <Typography.Text type="secondary">This node's service has no LVS virtual service.</Typography.Text>
          {mayWrite && (
            <Button size="small" icon={<PlusOutlined />} onClick={() => setDialog({ index: undefined, initial: NEW_VS })}>
              Add a virtual service
            </Button>
          )}
        </Space>
        {modal}
      </Card>
    );
  }

  return (
    <Card
      size="small"
      title="Virtual services"
      extra={
        <Space>
          {view && view.clusters.length > 0 && (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              balanced by {view.clusters.join(', ')}
            </Typography.Text>
          )}
          {view && mayWrite && (
            <Button size="small" type="primary" icon={<PlusOutlined />} onClick={() => setDialog({ index: undefined, initial: NEW_VS })}>
              Add virtual service
            </Button>
          )}
        </Space>
      }
    >
      {view ? (
        <Table<VirtualService> size="small" rowKey={(vs) => vipLabel(vs)} dataSource={list} columns={columns} pagination={false} />
      ) : (
        <Empty image={<NodeIndexOutlined style={{ fontSize: 40, color: '#bfbfbf' }} />} description="This node's service has no LVS virtual service. Add one to put its machines behind a VIP.">
          {mayWrite && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setDialog({ index: undefined, initial: NEW_VS })}>
              Add a virtual service
            </Button>
          )}
        </Empty>
      )}
      {modal}
    </Card>
  );
}
