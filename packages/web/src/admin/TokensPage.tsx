/**
 * API tokens: one's own (create, with an expiry or explicitly none, and revoke); a superuser can
 * switch to everyone's tokens and revoke any of them. A new token's secret is shown once.
 */
import { useState } from 'react';
import { Alert, App, Button, Checkbox, Form, Input, InputNumber, Modal, Popconfirm, Segmented, Space, Table, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { api, messageOf } from '../api.ts';
import { FormModal } from '../components/FormModal.tsx';
import { PagerBar } from '../components/PagerBar.tsx';
import { useCursorPages } from '../components/useCursorPages.ts';
import { useSession } from '../session.ts';
import type { Page } from '../types.ts';
import { shownTime, type NewToken, type Token } from './types.ts';

const PAGE_SIZE = 50;
const DEFAULT_DAYS = 90;

function statusOf(t: Token): { label: string; color: string } {
  if (t.revokedAt) return { label: 'revoked', color: 'default' };
  if (t.expiresAt && Date.parse(t.expiresAt) <= Date.now()) return { label: 'expired', color: 'orange' };
  return { label: 'active', color: 'green' };
}

function NewTokenModal({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (t: NewToken) => void }) {
  return (
    <FormModal<{ name: string; days?: number; never?: boolean }>
      title="New API token"
      open={open}
      onClose={onClose}
      okText="Create"
      fields={['name', 'days', 'never']}
      aliases={{ expiresInDays: 'days' }}
      initialValues={{ days: DEFAULT_DAYS, never: false }}
      onSubmit={async (v) => {
        onCreated(await api.post<NewToken>('/tokens', { name: v.name, ...(v.never ? { never: true } : { expiresInDays: v.days ?? DEFAULT_DAYS }) }));
      }}
    >
      {(form) => (
        <>
          <Form.Item name="name" label="Name" rules={[{ required: true, message: 'say what it is for' }]}>
            <Input autoFocus placeholder="e.g. ci-deploy" />
          </Form.Item>
          <Form.Item noStyle shouldUpdate={(a, b) => a.never !== b.never}>
            {() => (
              <Form.Item name="days" label="Expires after (days)">
                <InputNumber min={1} max={3650} disabled={form.getFieldValue('never') === true} />
              </Form.Item>
            )}
          </Form.Item>
          <Form.Item name="never" valuePropName="checked">
            <Checkbox>Never expires</Checkbox>
          </Form.Item>
        </>
      )}
    </FormModal>
  );
}

/** The API tokens admin page. */
export function TokensPage() {
  const { message } = App.useApp();
  const { user: me } = useSession();
  const [scope, setScope] = useState<'mine' | 'all'>('mine');
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<NewToken>();
  const pages = useCursorPages<Token>(scope, (cursor) => api.get<Page<Token>>('/tokens', { limit: PAGE_SIZE, cursor, all: scope === 'all' ? true : undefined }));

  async function revoke(t: Token): Promise<void> {
    try {
      await api.del(`/tokens/${t.id}`);
      void message.success(`Revoked ${t.name}`);
      pages.reload();
    } catch (err) {
      void message.error(messageOf(err));
    }
  }

  const columns = [
    { title: 'Name', dataIndex: 'name', render: (n: string) => <strong>{n}</strong> },
    ...(scope === 'all' ? [{ title: 'User', dataIndex: 'username' }] : []),
    { title: 'Prefix', dataIndex: 'prefix', render: (p: string) => <code>{p}…</code> },
    { title: 'Created', dataIndex: 'createdAt', render: shownTime },
    { title: 'Expires', dataIndex: 'expiresAt', render: (e: string | null) => (e ? shownTime(e) : <Tag color="orange">never</Tag>) },
    {
      title: 'Status',
      key: 'status',
      render: (_: unknown, t: Token) => {
        const s = statusOf(t);
        return <Tag color={s.color}>{s.label}</Tag>;
      },
    },
    {
      title: '',
      key: 'actions',
      render: (_: unknown, t: Token) =>
        !t.revokedAt && (
          <Popconfirm title={`Revoke ${t.name}${t.username !== me.username ? ` of ${t.username}` : ''}? Programs using it lose access at once.`} okText="Revoke" okButtonProps={{ danger: true }} onConfirm={() => revoke(t)}>
            <Button size="small" danger data-testid={`revoke-${t.id}`}>
              Revoke
            </Button>
          </Popconfirm>
        ),
    },
  ];

  return (
    <Space orientation="vertical" size={12} style={{ width: '100%' }}>
      <Space style={{ width: '100%', justifyContent: 'space-between' }}>
        <Space>
          {me.superuser && <Segmented<'mine' | 'all'> value={scope} onChange={setScope} options={[{ value: 'mine', label: 'Mine' }, { value: 'all', label: 'Everyone’s' }]} />}
          <Typography.Text type="secondary">Tokens let programs call the API as their user (Authorization: Bearer …).</Typography.Text>
        </Space>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
          New token
        </Button>
      </Space>
      {pages.error && <Alert type="error" showIcon title={pages.error} />}
      <Table<Token> size="middle" rowKey="id" loading={pages.loading} dataSource={pages.page?.items ?? []} columns={columns} pagination={false} />
      <PagerBar pages={pages} pageSize={PAGE_SIZE} />
      <NewTokenModal
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(t) => {
          setSecret(t);
          pages.reload();
        }}
      />
      <Modal title={`Token ${secret?.name ?? ''} created`} open={secret !== undefined} onOk={() => setSecret(undefined)} onCancel={() => setSecret(undefined)} cancelButtonProps={{ style: { display: 'none' } }} okText="Done" destroyOnHidden>
        <Typography.Paragraph>Copy it now: it is not shown again.</Typography.Paragraph>
        <Typography.Paragraph copyable={{ text: secret?.token ?? '' }} data-testid="new-token-secret">
          <code>{secret?.token}</code>
        </Typography.Paragraph>
        <Typography.Text type="secondary">{secret?.expiresAt ? `Expires ${shownTime(secret.expiresAt)}.` : 'It never expires.'}</Typography.Text>
      </Modal>
    </Space>
  );
}
