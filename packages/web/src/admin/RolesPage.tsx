/**
 * Roles: named sets of operations that grants hand out on a node. Built-in roles are fixed; a
 * superuser creates custom ones, edits their operations and description, and deletes them.
 */
import { useState } from 'react';
import { Alert, App, Button, Form, Input, Popconfirm, Select, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { api, seg } from '../api.ts';
import { FormModal } from '../components/FormModal.tsx';
import { useSession } from '../session.ts';
import { deleteWithForce } from './forceDelete.ts';
import type { OperationInfo, RoleItem } from './types.ts';
import { useList } from './useList.ts';

interface RoleForm {
  name: string;
  description?: string;
  operations: string[];
}

function RoleFields({ operations, builtin, naming }: { operations: OperationInfo[] | undefined; builtin: boolean; naming: boolean }) {
  return (
    <>
      {naming && (
        <Form.Item name="name" label="Name" rules={[{ required: true, message: 'a role name' }]}>
          <Input autoFocus placeholder="e.g. deployer" />
        </Form.Item>
      )}
      <Form.Item name="description" label="Description">
        <Input />
      </Form.Item>
      <Form.Item name="operations" label="Operations" rules={[{ required: true, message: 'at least one operation' }]} extra={builtin ? 'A built-in role keeps its operations.' : undefined}>
        <Select
          mode="multiple"
          disabled={builtin}
          placeholder="Pick operations"
          optionFilterProp="label"
          options={(operations ?? []).map((o) => ({ value: o.name, label: `${o.name} — ${o.description}` }))}
        />
      </Form.Item>
    </>
  );
}

/** The Roles admin page. */
export function RolesPage() {
  const app = App.useApp();
  const { user: me } = useSession();
  const roles = useList<RoleItem>('/roles');
  const operations = useList<OperationInfo>('/operations');
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<RoleItem>();

  async function remove(r: RoleItem): Promise<void> {
    if (await deleteWithForce(app, `/roles/${seg(r.name)}`, `role ${r.name}`)) {
      void app.message.success(`Deleted role ${r.name}`);
      await roles.reload();
    }
  }

  const columns = [
    {
      title: 'Role',
      dataIndex: 'name',
      render: (n: string, r: RoleItem) => (
        <Space size={4}>
          <strong>{n}</strong>
          {r.builtin && <Tag>built-in</Tag>}
        </Space>
      ),
    },
    { title: 'Description', dataIndex: 'description' },
    {
      title: 'Operations',
      dataIndex: 'operations',
      render: (ops: string[]) => (
        <Space size={[4, 4]} wrap>
          {ops.map((o) => (
            <Tag key={o} color={o.endsWith('.read') ? 'blue' : 'purple'}>
              {o}
            </Tag>
          ))}
        </Space>
      ),
    },
    {
      title: '',
      key: 'actions',
      width: 160,
      render: (_: unknown, r: RoleItem) =>
        me.superuser && (
          <Space size={4} data-testid={`role-actions-${r.name}`}>
            <Button size="small" onClick={() => setEditing(r)}>
              Edit…
            </Button>
            {r.builtin ? (
              <Tooltip title="Built-in roles cannot be deleted">
                <Button size="small" danger disabled>
                  Delete
                </Button>
              </Tooltip>
            ) : (
              <Popconfirm title={`Delete role ${r.name}?`} okText="Delete" okButtonProps={{ danger: true }} onConfirm={() => void remove(r)}>
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
        <Typography.Text type="secondary">A grant gives a user or group one role on a node and everything beneath it.</Typography.Text>
        {me.superuser && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
            New role
          </Button>
        )}
      </Space>
      {(roles.error ?? operations.error) && <Alert type="error" showIcon title={roles.error ?? operations.error} />}
      <Table<RoleItem> size="middle" rowKey="id" loading={roles.items === undefined && !roles.error} dataSource={roles.items ?? []} columns={columns} pagination={false} />
      <FormModal<RoleForm>
        title="New role"
        open={creating}
        width={640}
        onClose={() => setCreating(false)}
        okText="Create"
        fields={['name', 'description', 'operations']}
        onSubmit={async (v) => {
          await api.post('/roles', { name: v.name, description: v.description ?? '', operations: v.operations });
          void app.message.success(`Created role ${v.name}`);
          await roles.reload();
        }}
      >
        <RoleFields operations={operations.items} builtin={false} naming />
      </FormModal>
      <FormModal<RoleForm>
        title={`Role ${editing?.name ?? ''}`}
        open={editing !== undefined}
        width={640}
        onClose={() => setEditing(undefined)}
        fields={['description', 'operations']}
        initialValues={{ description: editing?.description ?? '', operations: editing?.operations ?? [] }}
        onSubmit={async (v) => {
          if (!editing) return;
          await api.patch(`/roles/${seg(editing.name)}`, editing.builtin ? { description: v.description ?? '' } : { description: v.description ?? '', operations: v.operations });
          void app.message.success(`Role ${editing.name} saved`);
          await roles.reload();
        }}
      >
        <RoleFields operations={operations.items} builtin={editing?.builtin === true} naming={false} />
      </FormModal>
    </Space>
  );
}
