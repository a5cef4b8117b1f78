/** Machines tab: the subtree's machines, paged and filtered, with add, bind, unbind, import and credentials. */
import { useState } from 'react';
import { Alert, App, Button, Popconfirm, Space, Table, Tag, Tooltip } from 'antd';
import { CloudServerOutlined, DisconnectOutlined, ImportOutlined, KeyOutlined, LinkOutlined, PlusOutlined } from '@ant-design/icons';
import { api, messageOf, seg } from '../../api.ts';
import { PagerBar } from '../../components/PagerBar.tsx';
import { Allowed, ReadOnlyNote, useAccess } from '../../components/permissions.tsx';
import { useCursorPages } from '../../components/useCursorPages.ts';
import type { MachineView, Page } from '../../types.ts';
import type { NodeTab, NodeTabProps } from '../types.ts';
import { AddMachineModal } from './AddMachineModal.tsx';
import { BindMachineModal } from './BindMachineModal.tsx';
import { CredentialsDrawer } from './CredentialsDrawer.tsx';
import { ImportModal } from './ImportModal.tsx';
import { MachineFilters, type MachineFilter } from './MachineFilters.tsx';
import { STATUS_COLOR } from './statuses.ts';
import { AgentCell, agentOf, HeartbeatCell, useAgents } from '../jobs/agents.tsx';
import { MachineDrawer } from './MachineDrawer.tsx';

const PAGE_SIZE = 20;
type Dialog = 'add' | 'bind' | 'import' | undefined;

function Machines({ node, onChanged }: NodeTabProps) {
  const { message } = App.useApp();
  const [filter, setFilter] = useState<MachineFilter>({});
  const [dialog, setDialog] = useState<Dialog>();
  const [credentialsOf, setCredentialsOf] = useState<string>();
  const [detailOf, setDetailOf] = useState<string>();
  const mayWrite = useAccess().can('machine.write');
  const pages = useCursorPages<MachineView>(JSON.stringify([node.path, filter]), (cursor) =>
    api.get<Page<MachineView>>('/machines', { under: node.path, limit: PAGE_SIZE, cursor, ...filter }),
  );
  const agents = useAgents(node.path, pages.page);
  // The listing carries each agent; the poll keeps it moving between reloads.
  const agentFor = (m: MachineView) => agents.get(m.hostname) ?? agentOf(m.hostname, m.agent);

  function changed(what: string): void {
    void message.success(what);
    pages.reload();
    onChanged({ kind: 'updated' });
  }

  async function unbind(m: MachineView): Promise<void> {
    try {
      await api.del(`/nodes/${seg(node.path)}/machines/${seg(m.hostname)}`);
      changed(`Unbound ${m.hostname} from ${node.path}`);
    } catch (err) {
      void message.error(messageOf(err));
    }
  }

  const columns = [
    {
      title: 'Hostname',
      dataIndex: 'hostname',
      render: (h: string) => (
        <Button type="link" size="small" style={{ padding: 0, fontWeight: 600 }} onClick={() => setDetailOf(h)}>
          {h}
        </Button>
      ),
    },
    { title: 'IPs', dataIndex: 'ips', render: (ips: string[]) => ips.join(', ') || '—' },
    { title: 'Status', dataIndex: 'status', render: (s: MachineView['status']) => <Tag color={STATUS_COLOR[s]}>{s}</Tag> },
    { title: 'Agent', key: 'agent', render: (_: unknown, m: MachineView) => <AgentCell agent={agentFor(m)} /> },
    { title: 'Last heartbeat', key: 'heartbeat', render: (_: unknown, m: MachineView) => <HeartbeatCell agent={agentFor(m)} /> },
    { title: 'Version', key: 'version', render: (_: unknown, m: MachineView) => agentFor(m)?.agentVersion ?? '—' },
    { title: 'Zone', dataIndex: 'zone', render: (z: string) => z || '—' },
    { title: 'Kind', dataIndex: 'kind' },
    { title: 'Nodes', dataIndex: 'nodes', render: (ns: string[]) => ns.map((n) => <Tag key={n} color={n === node.path ? 'green' : undefined}>{n}</Tag>) },
    {
      title: '',
      key: 'actions',
      width: 230,
      render: (_: unknown, m: MachineView) => (
        <Space>
          <Button size="small" icon={<KeyOutlined />} onClick={() => setCredentialsOf(m.hostname)}>
            Credentials
          </Button>
          {!m.nodes.includes(node.path) ? (
            <Tooltip title="Bound to a node beneath this one; unbind it there">
              <Tag>via child</Tag>
            </Tooltip>
          ) : mayWrite ? (
            <Popconfirm title={`Unbind ${m.hostname} from ${node.path}?`} okText="Unbind" onConfirm={() => unbind(m)}>
              <Button size="small" icon={<DisconnectOutlined />}>
                Unbind
              </Button>
            </Popconfirm>
          ) : null}
        </Space>
      ),
    },
  ];

  return (
    <Space orientation="vertical" size={12} style={{ width: '100%' }}>
      <Space wrap style={{ width: '100%', justifyContent: 'space-between' }}>
        <MachineFilters value={filter} onChange={setFilter} />
        <Allowed op="machine.write">
          <Space wrap>
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setDialog('add')}>
              Add machine
            </Button>
            <Button icon={<LinkOutlined />} onClick={() => setDialog('bind')}>
              Bind existing
            </Button>
            <Button icon={<ImportOutlined />} onClick={() => setDialog('import')}>
              Import
            </Button>
          </Space>
        </Allowed>
      </Space>
      <ReadOnlyNote op="machine.write" what="adding, binding, importing or unbinding machines" />
      {pages.error && <Alert type="error" showIcon title={pages.error} />}
      <Table<MachineView> size="middle" rowKey="hostname" loading={pages.loading} dataSource={pages.page?.items ?? []} columns={columns} pagination={false} />
      <PagerBar pages={pages} pageSize={PAGE_SIZE} />
      <AddMachineModal nodePath={node.path} open={dialog === 'add'} onClose={() => setDialog(undefined)} onAdded={(m) => changed(`Added ${m.hostname}`)} />
      <BindMachineModal nodePath={node.path} open={dialog === 'bind'} onClose={() => setDialog(undefined)} onBound={(m) => changed(`Bound ${m.hostname} to ${node.path}`)} />
      <ImportModal nodePath={node.path} open={dialog === 'import'} onClose={() => setDialog(undefined)} onImported={() => changed('Import finished')} />
      <CredentialsDrawer hostname={credentialsOf} onClose={() => setCredentialsOf(undefined)} />
      <MachineDrawer hostname={detailOf} onClose={() => setDetailOf(undefined)} />
    </Space>
  );
}

/** The Machines tab descriptor. */
export const machinesTab: NodeTab = { key: 'machines', needs: 'machine.read', label: 'Machines', icon: <CloudServerOutlined />, Component: Machines };
