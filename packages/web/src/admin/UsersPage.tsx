/**
 * Users: everyone the caller may know of; a superuser also creates users, disables and enables
 * them, resets their password (revoking their API tokens by default) and deletes them.
 */
import { useState } from 'react';
import { Alert, App, Button, Checkbox, Form, Input, Popconfirm, Space, Table, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { api, messageOf, seg } from '../api.ts';
import { FormModal } from '../components/FormModal.tsx';
import { useSession } from '../session.ts';
import { shownTime, type ListedUser } from './types.ts';
import { useList } from './useList.ts';

interface NewUser {
  username: string;
  displayName: string;
  email: string;
  password: string;
  superuser: boolean;
}

function CreateUserModal({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (username: string) => void }) {
  return (
    <FormModal<NewUser>
      title="New user"
      open={open}
      onClose={onClose}
      okText="Create"
      fields={['username', 'displayName', 'email', 'password', 'superuser']}
      initialValues={{ superuser: false }}
      onSubmit={async (v) => {
        await api.post('/users', { username: v.username, displayName: v.displayName ?? '', email: v.email ?? '', superuser: v.superuser === true, ...(v.password ? { password: v.password } : {}) });
        onCreated(v.username);
      }}
    >
      <Form.Item name="username" label="Username" rules={[{ required: true, message: 'a login name' }]}>
        <Input autoFocus autoComplete="off" placeholder="e.g. alice" />
      </Form.Item>
      <Form.Item name="displayName" label="Display name">
        <Input />
      </Form.Item>
      <Form.Item name="email" label="E-mail">
        <Input type="email" />
      </Form.Item>
      <Form.Item name="password" label="Password" extra="At least 8 characters. Without one the user cannot log in until a password is set.">
        <Input.Password autoComplete="new-password" />
      </Form.Item>
      <Form.Item name="superuser" valuePropName="checked">
        <Checkbox>Superuser (every operation everywhere)</Checkbox>
      </Form.Item>
    </FormModal>
  );
}

function ResetPasswordModal({ user, onClose, onDone }: { user: ListedUser | undefined; onClose: () => void; onDone: () => void }) {
  return (
    <FormModal<{ password: string; revokeTokens: boolean }>
      title={`Reset the password of ${user?.username ?? ''}`}
      open={user !== undefined}
      onClose={onClose}
      okText="Reset password"
      fields={['password', 'revokeTokens']}
      initialValues={{ revokeTokens: true }}
      onSubmit={async (v) => {
        if (!user) return;
        await api.patch(`/users/${seg(user.username)}`, { password: v.password, revokeTokens: v.revokeTokens === true });
        onDone();
      }}
    >
      <Form.Item name="password" label="New password" rules={[{ required: true, message: 'the new password' }]}>
        <Input.Password autoFocus autoComplete="new-password" />
      </Form.Item>
      <Form.Item name="revokeTokens" valuePropName="checked" extra="Their login sessions end either way.">
        <Checkbox>Also revoke their API tokens</Checkbox>
      </Form.Item>
    </FormModal>
  );
}

/** The Users admin page. */
export function UsersPage() {
  const { message } = App.useApp();
  const { user: me } = useSession();
  const users = useList<ListedUser>('/users');
  const [creating, setCreating] = useState(false);
  const [resetting, setResetting] = useState<ListedUser>();

  async function change(u: ListedUser, body: object, done: string): Promise<void> {
    try {
      await api.patch(`/users/${seg(u.username)}`, body);
      void message.success(done);
      await users.reload();
    } catch (err) {
      void message.error(messageOf(err));
    }
  }

  async function remove(u: ListedUser): Promise<void> {
    try {
      await api.del(`/users/${seg(u.username)}`);
      void message.success(`Deleted ${u.username}`);
      await users.reload();
    } catch (err) {
      void message.error(messageOf(err));
    }
  }

  const columns = [
    { title: 'Username', dataIndex: 'username', render: (n: string) => <strong>{n}</strong> },
    { title: 'Name', dataIndex: 'displayName' },
    { title: 'E-mail', dataIndex: 'email', render: (e: string | null) => (e === null ? <Typography.Text type="secondary">hidden</Typography.Text> : e) },
    { title: 'Groups', dataIndex: 'groups', render: (gs: string[]) => gs.map((g) => <Tag key={g}>{g}</Tag>) },
    {
      title: 'Status',
      key: 'status',
      render: (_: unknown, u: ListedUser) => (
        <Space size={4}>
          {u.superuser && <Tag color="gold">superuser</Tag>}
          {u.disabled ? <Tag color="red">disabled</Tag> : <Tag color="green">active</Tag>}
        </Space>
      ),
    },
    { title: 'Created', dataIndex: 'createdAt', render: shownTime },
    {
      title: '',
      key: 'actions',
      render: (_: unknown, u: ListedUser) =>
        me.superuser && (
          <Space size={4} data-testid={`user-actions-${u.username}`}>
            <Button size="small" onClick={() => setResetting(u)}>
              Reset password
            </Button>
            {u.username !== me.username && (
              <Button size="small" onClick={() => void change(u, { disabled: !u.disabled }, `${u.disabled ? 'Enabled' : 'Disabled'} ${u.username}`)}>
                {u.disabled ? 'Enable' : 'Disable'}
              </Button>
            )}
            {u.username !== me.username && (
              <Popconfirm title={`Delete ${u.username}? Their grants, group memberships and tokens go with them.`} okText="Delete" okButtonProps={{ danger: true }} onConfirm={() => remove(u)}>
                <Button size="small" danger>
                  Delete
                </Button>
              </Popconfirm>
            )}
          </Space>
        ),
    },
  ];

  return (
    <Space orientation="vertical" size={12} style={{ width: '100%' }}>
      <Space style={{ width: '100%', justifyContent: 'space-between' }}>
        <Typography.Text type="secondary">Everyone who can log in to Canopy. What they may do is granted per node, in a node’s Permissions tab.</Typography.Text>
        {me.superuser && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
            New user
          </Button>
        )}
      </Space>
      {users.error && <Alert type="error" showIcon title={users.error} />}
      <Table<ListedUser> size="middle" rowKey="id" loading={users.items === undefined && !users.error} dataSource={users.items ?? []} columns={columns} pagination={{ pageSize: 50, hideOnSinglePage: true }} />
      <CreateUserModal
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(name) => {
          void message.success(`Created ${name}`);
          void users.reload();
        }}
      />
      <ResetPasswordModal
        user={resetting}
        onClose={() => setResetting(undefined)}
        onDone={() => {
          void message.success(`Password of ${resetting?.username ?? ''} reset`);
          void users.reload();
        }}
      />
    </Space>
  );
}
