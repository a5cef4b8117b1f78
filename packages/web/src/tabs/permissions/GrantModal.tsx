/** Grant a role on this node to a user or a group (POST /grants). */
import { useEffect, useState } from 'react';
import { AutoComplete, DatePicker, Form, Radio, Select } from 'antd';
import { api } from '../../api.ts';
import { FormModal } from '../../components/FormModal.tsx';
import type { Role, User } from '../../types.ts';

interface Values {
  kind: 'user' | 'group';
  subject: string;
  role: string;
  /** A dayjs value from the date picker; only its ISO form is needed. */
  expiresAt?: { toISOString(): string } | null;
}

/** Modal form creating a grant on `nodePath`. */
export function GrantModal({ nodePath, open, onClose, onGranted }: { nodePath: string; open: boolean; onClose: () => void; onGranted: () => void }) {
  const [roles, setRoles] = useState<Role[]>([]);
  const [users, setUsers] = useState<string[]>([]);
  const [groups, setGroups] = useState<string[]>([]);

  useEffect(() => {
    if (!open) return;
    api.get<{ items: Role[] }>('/roles').then((r) => setRoles(r.items), () => setRoles([]));
    api.get<{ items: User[] }>('/users').then((r) => setUsers(r.items.map((u) => u.username)), () => setUsers([]));
    api.get<{ items: { name: string }[] }>('/groups').then((r) => setGroups(r.items.map((g) => g.name)), () => setGroups([]));
  }, [open]);

  async function grant(v: Values): Promise<void> {
    await api.post('/grants', {
      [v.kind]: v.subject.trim(),
      role: v.role,
      nodePath,
      ...(v.expiresAt ? { expiresAt: v.expiresAt.toISOString() } : {}),
    });
    onGranted();
  }

  return (
    <FormModal<Values> title={`Grant a role on ${nodePath}`} open={open} onClose={onClose} onSubmit={grant} fields={['subject', 'role', 'expiresAt']}
      aliases={{ user: 'subject', group: 'subject' }} okText="Grant" initialValues={{ kind: 'user' }}>
      {(form) => (
        <>
          <Form.Item name="kind" label="Grant to">
            <Radio.Group optionType="button" options={[{ value: 'user', label: 'User' }, { value: 'group', label: 'Group' }]} onChange={() => form.setFieldValue('subject', undefined)} />
          </Form.Item>
          <Form.Item noStyle dependencies={['kind']}>
            {() => {
              const kind = form.getFieldValue('kind') as Values['kind'];
              const names = kind === 'group' ? groups : users;
              return (
                <Form.Item name="subject" label={kind === 'group' ? 'Group' : 'User'} rules={[{ required: true, message: `name a ${kind}` }]}>
                  <AutoComplete options={names.map((n) => ({ value: n }))} showSearch={{ filterOption: (input, o) => String(o?.value ?? '').includes(input) }} placeholder={kind === 'group' ? 'ops-team' : 'alice'} />
                </Form.Item>
              );
            }}
          </Form.Item>
          <Form.Item name="role" label="Role" rules={[{ required: true, message: 'pick a role' }]}>
            <Select
              placeholder="Pick a role"
              options={roles.map((r) => ({ value: r.name, label: r.description ? `${r.name} — ${r.description}` : r.name }))}
            />
          </Form.Item>
          <Form.Item name="expiresAt" label="Expires" extra="Leave empty for a grant that does not expire.">
            <DatePicker showTime style={{ width: '100%' }} />
          </Form.Item>
        </>
      )}
    </FormModal>
  );
}
