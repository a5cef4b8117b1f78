/** Groups: named sets of users that grants can name; a superuser creates them, sets members and deletes them. */
import { useState } from 'react';
import { Alert, App, Button, Form, Input, Popconfirm, Select, Space, Table, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { api, seg } from '../api.ts';
import { FormModal } from '../components/FormModal.tsx';
import { useSession } from '../session.ts';
import { deleteWithForce } from './forceDelete.ts';
import type { Group, ListedUser } from './types.ts';
import { useList } from './useList.ts';

function MembersField({ users }: { users: ListedUser[] | undefined }) {
  return (
    <Form.Item name="members" label="Members">
      <Select mode="multiple" allowClear placeholder="Pick users" options={(users ?? []).map((u) => ({ value: u.username, label: u.displayName ? `${u.username} (${u.displayName})` : u.username }))} />
    </Form.Item>
  );
}

/** The Groups admin page. */
export function GroupsPage() {
  const app = App.useApp();
  const { user: me } = useSession();
  const groups = useList<Group>('/groups');
  const users = useList<ListedUser>('/users');
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Group>();

  async function remove(g: Group): Promise<void> {
    if (await deleteWithForce(app, `/groups/${seg(g.name)}`, `group ${g.name}`)) {
      void app.message.success(`Deleted group ${g.name}`);
      await groups.reload();
    }
  }

  const columns = [
    { title: 'Group', dataIndex: 'name', render: (n: string) => <strong>{n}</strong> },
    { title: 'Description', dataIndex: 'description' },
    { title: 'Members', dataIndex: 'members', render: (ms: string[]) => (ms.length ? ms.map((m) => <Tag key={m}>{m}</Tag>) : <Typography.Text type="secondary">none</Typography.Text>) },
    {
      title: '',
      key: 'actions',
      render: (_: unknown, g: Group) =>
        me.superuser && (
          <Space size={4} data-testid={`group-actions-${g.name}`}>
            <Button size="small" onClick={() => setEditing(g)}>
              Members…
            </Button>
            <Popconfirm title={`Delete group ${g.name}? Its members stay.`} okText="Delete" okButtonProps={{ danger: true }} onConfirm={() => void remove(g)}>
              <Button size="small" danger>
                Delete
              </Button>
            </Popconfirm>
          </Space>
        ),
    },
  ];

  return (
    <Space orientation="vertical" size={12} style={{ width: '100%' }}>
      <Space style={{ width: '100%', justifyContent: 'space-between' }}>
        <Typography.Text type="secondary">A grant to a group applies to each of its members.</Typography.Text>
        {me.superuser && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
            New group
          </Button>
        )}
      </Space>
      {groups.error && <Alert type="error" showIcon title={groups.error} />}
      <Table<Group> size="middle" rowKey="id" loading={groups.items === undefined && !groups.error} dataSource={groups.items ?? []} columns={columns} pagination={{ pageSize: 50, hideOnSinglePage: true }} />
      <FormModal<{ name: string; description?: string; members?: string[] }>
        title="New group"
        open={creating}
        onClose={() => setCreating(false)}
        okText="Create"
        fields={['name', 'description', 'members']}
        onSubmit={async (v) => {
          await api.post('/groups', { name: v.name, description: v.description ?? '', members: v.members ?? [] });
          void app.message.success(`Created group ${v.name}`);
          await groups.reload();
        }}
      >
        <Form.Item name="name" label="Name" rules={[{ required: true, message: 'a group name' }]}>
          <Input autoFocus placeholder="e.g. pay-oncall" />
        </Form.Item>
        <Form.Item name="description" label="Description">
          <Input />
        </Form.Item>
        <MembersField users={users.items} />
      </FormModal>
      <FormModal<{ members?: string[] }>
        title={`Members of ${editing?.name ?? ''}`}
        open={editing !== undefined}
        onClose={() => setEditing(undefined)}
        fields={['members']}
        initialValues={{ members: editing?.members ?? [] }}
        onSubmit={async (v) => {
          if (!editing) return;
          await api.put(`/groups/${seg(editing.name)}/members`, { members: v.members ?? [] });
          void app.message.success(`Members of ${editing.name} saved`);
          await groups.reload();
        }}
      >
        <MembersField users={users.items} />
      </FormModal>
    </Space>
  );
}
