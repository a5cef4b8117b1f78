/**
 * A machine's credentials in a side drawer: what exists (never the secrets), issue a new one, and
 * revoke one — its agent is refused from its next request on.
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Drawer, Popconfirm, Space, Table, Typography } from 'antd';
import { DeleteOutlined, KeyOutlined } from '@ant-design/icons';
import { messageOf } from '../../api.ts';
import { Allowed, ReadOnlyNote } from '../../components/permissions.tsx';
import { credentialsApi, type Credential, type IssuedCredential } from './credentials.ts';
import { IssueCredentialModal, IssuedSecretModal } from './IssueCredentialModal.tsx';

/** The credentials drawer of `hostname`; `hostname` undefined closes it. */
export function CredentialsDrawer({ hostname, onClose }: { hostname: string | undefined; onClose: () => void }) {
  return (
    <Drawer title={hostname ? `Credentials of ${hostname}` : ''} open={hostname !== undefined} onClose={onClose} size={760} destroyOnHidden>
      {hostname && <Credentials hostname={hostname} />}
    </Drawer>
  );
}

function Credentials({ hostname }: { hostname: string }) {
  const { message } = App.useApp();
  const [items, setItems] = useState<Credential[]>();
  const [error, setError] = useState<string>();
  const [issuing, setIssuing] = useState(false);
  const [issued, setIssued] = useState<IssuedCredential>();

  const load = useCallback(async () => {
    try {
      setItems(await credentialsApi.list(hostname));
      setError(undefined);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [hostname]);

  useEffect(() => {
    void load();
  }, [load]);

  async function revoke(c: Credential): Promise<void> {
    try {
      await credentialsApi.revoke(hostname, c.id);
      void message.success(`Revoked ${c.name}`);
      await load();
    } catch (err) {
      setError(messageOf(err));
    }
  }

  const columns = [
    { title: 'Name', dataIndex: 'name', render: (n: string) => <strong>{n}</strong> },
    { title: 'Prefix', dataIndex: 'prefix', render: (p: string) => <Typography.Text code>{`${p}…`}</Typography.Text> },
    { title: 'Created by', dataIndex: 'createdBy' },
    { title: 'Created', dataIndex: 'createdAt', render: (t: string) => new Date(t).toLocaleString() },
    {
      title: '',
      key: 'actions',
      width: 100,
      render: (_: unknown, c: Credential) => (
        <Allowed op="machine.write">
          <Popconfirm
            title={`Revoke ${c.name}?`}
            description="The agent using it is refused from its next request on."
            okText="Revoke"
            okButtonProps={{ danger: true }}
            onConfirm={() => revoke(c)}
          >
            <Button size="small" danger icon={<DeleteOutlined />}>
              Revoke
            </Button>
          </Popconfirm>
        </Allowed>
      ),
    },
  ];

  return (
    <Space orientation="vertical" size={12} style={{ width: '100%' }}>
      <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>
        The agent on this machine authenticates with one of these: it may register, heartbeat and deregister this machine&apos;s instances and read services,
        nothing else. A secret is shown once, when it is issued.
      </Typography.Paragraph>
      <ReadOnlyNote op="machine.write" what="issuing or revoking credentials" />
      <Allowed op="machine.write">
        <Button type="primary" icon={<KeyOutlined />} onClick={() => setIssuing(true)}>
          Issue credential
        </Button>
      </Allowed>
      {error && <Alert type="error" showIcon title={error} closable={{ onClose: () => setError(undefined) }} />}
      <Table<Credential>
        size="small"
        rowKey="id"
        loading={items === undefined && !error}
        dataSource={items ?? []}
        columns={columns}
        pagination={false}
        locale={{ emptyText: 'No credential yet: issue one for the agent on this machine.' }}
      />
      <IssueCredentialModal
        hostname={hostname}
        open={issuing}
        onClose={() => setIssuing(false)}
        onIssued={(c) => {
          setIssued(c);
          void load();
        }}
      />
      <IssuedSecretModal issued={issued} onClose={() => setIssued(undefined)} />
    </Space>
  );
}
