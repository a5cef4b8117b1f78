/** Permissions tab: the grants that apply on and under this node; add and revoke them. */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Popconfirm, Space, Table, Tag, Typography } from 'antd';
import { PlusOutlined, SafetyOutlined, TeamOutlined, UserOutlined } from '@ant-design/icons';
import { api, messageOf } from '../../api.ts';
import { Allowed, ReadOnlyNote, useAccess } from '../../components/permissions.tsx';
import type { Grant } from '../../types.ts';
import type { NodeTab, NodeTabProps } from '../types.ts';
import { GrantModal } from './GrantModal.tsx';

/** Where a grant sits relative to the node on screen. */
function scopeOf(grantPath: string, here: string): { label: string; color: string } {
  if (grantPath === here) return { label: 'this node', color: 'green' };
  if (here.startsWith(`${grantPath}.`)) return { label: 'inherited', color: 'blue' };
  return { label: 'below', color: 'default' };
}

function Permissions({ node }: NodeTabProps) {
  const { message } = App.useApp();
  const [grants, setGrants] = useState<Grant[]>();
  const [error, setError] = useState<string>();
  const [adding, setAdding] = useState(false);
  const mayGrant = useAccess().can('grant.write');

  const load = useCallback(async () => {
    try {
      setGrants((await api.get<{ items: Grant[] }>(`/nodes/${encodeURIComponent(node.path)}/grants`)).items);
      setError(undefined);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [node.path]);

  useEffect(() => {
    void load();
  }, [load]);

  async function revoke(g: Grant): Promise<void> {
    try {
      await api.del(`/grants/${g.id}`);
      void message.success(`Revoked ${g.role} from ${g.subject}`);
      await load();
    } catch (err) {
      void message.error(messageOf(err));
    }
  }

  const columns = [
    {
      title: 'Who',
      key: 'who',
      render: (_: unknown, g: Grant) => (
        <Space>
          {g.subjectKind === 'group' ? <TeamOutlined /> : <UserOutlined />}
          {g.subject}
        </Space>
      ),
    },
    { title: 'Role', dataIndex: 'role', render: (r: string) => <Tag color="purple">{r}</Tag> },
    {
      title: 'On',
      dataIndex: 'nodePath',
      render: (p: string, g: Grant) => {
        const s = scopeOf(p, node.path);
        return (
          <Space>
            <code>{p}</code>
            {g.trashed ? (
              <Tag color="red" title="The node is in the trash: this grant grants nothing until it is restored, and can still be revoked">
                node in trash
              </Tag>
            ) : (
              <Tag color={s.color}>{s.label}</Tag>
            )}
          </Space>
        );
      },
    },
    { title: 'Expires', dataIndex: 'expiresAt', render: (e: string | null) => (e ? new Date(e).toLocaleString() : <Typography.Text type="secondary">never</Typography.Text>) },
    { title: 'Granted', dataIndex: 'createdAt', render: (c: string) => new Date(c).toLocaleString() },
    {
      title: '',
      key: 'actions',
      width: 100,
      // Without grant.write here a Revoke button could only answer 403: show none.
      render: (_: unknown, g: Grant) =>
        mayGrant && (
          <Popconfirm title={`Revoke ${g.role} on ${g.nodePath} from ${g.subject}?`} okText="Revoke" okButtonProps={{ danger: true }} onConfirm={() => revoke(g)}>
            <Button size="small" danger>
              Revoke
            </Button>
          </Popconfirm>
        ),
    },
  ];

  return (
    <Space orientation="vertical" size={12} style={{ width: '100%' }}>
      <Space style={{ width: '100%', justifyContent: 'space-between' }}>
        <Typography.Text type="secondary">Grants on this node, inherited from its ancestors, and on nodes beneath it.</Typography.Text>
        <Allowed op="grant.write">
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setAdding(true)}>
            Add grant
          </Button>
        </Allowed>
      </Space>
      <ReadOnlyNote op="grant.write" what="granting and revoking roles" />
      {error && <Alert type="error" showIcon title={error} />}
      <Table<Grant> size="middle" rowKey="id" loading={grants === undefined && !error} dataSource={grants ?? []} columns={columns} pagination={{ pageSize: 50, hideOnSinglePage: true }} />
      <GrantModal
        nodePath={node.path}
        open={adding}
        onClose={() => setAdding(false)}
        onGranted={() => {
          void message.success('Granted');
          void load();
        }}
      />
    </Space>
  );
}

/** The Permissions tab descriptor. */
export const permissionsTab: NodeTab = { key: 'permissions', needs: 'grant.read', label: 'Permissions', icon: <SafetyOutlined />, Component: Permissions };
