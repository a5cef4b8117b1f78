/**
 * Every domain (they are global: a name means one thing on every cluster): ports, log files,
 * certificate, and which clusters serve it; create, edit, delete.
 */
import { useState } from 'react';
import { App, Button, Card, Popconfirm, Space, Table, Tag, Typography } from 'antd';
import { DeleteOutlined, EditOutlined, LockOutlined, PlusOutlined } from '@ant-design/icons';
import { api, messageOf, seg } from '../../api.ts';
import { Allowed } from '../../components/permissions.tsx';
import { DomainModal } from './DomainModal.tsx';
import { domainDraftOf, NEW_DOMAIN, ownerLabel, type DomainView } from './model.ts';

const muted = (s: string) => <Typography.Text type="secondary">{s}</Typography.Text>;

/** The Domains panel; `onChanged` re-reads the list. */
export function DomainsCard({ domains, onChanged }: { domains: DomainView[] | undefined; onChanged: () => void }) {
  const { message } = App.useApp();
  const [dialog, setDialog] = useState<{ editing: DomainView | undefined } | undefined>();

  async function remove(d: DomainView): Promise<void> {
    try {
      await api.del(`/domains/${seg(d.domain)}`);
      void message.success(`Deleted ${d.domain}`);
      onChanged();
    } catch (err) {
      void message.error(messageOf(err));
    }
  }

  const columns = [
    { title: 'Domain', dataIndex: 'domain', render: (d: string) => <Typography.Text code>{d}</Typography.Text> },
    {
      title: 'Ports',
      key: 'ports',
      render: (_: unknown, d: DomainView) => (
        <Space size={4} wrap>
          {d.ports.map((p) => (
            <Tag key={p.port} color={p.ssl ? 'blue' : undefined} icon={p.ssl ? <LockOutlined /> : undefined}>
              {p.port}
              {p.ssl ? ' ssl' : ''}
            </Tag>
          ))}
        </Space>
      ),
    },
    {
      title: 'Logs',
      key: 'logs',
      render: (_: unknown, d: DomainView) => (
        <Space orientation="vertical" size={0} style={{ fontSize: 12 }}>
          {d.accessLogPath ?? muted(`${d.domain}_access.log`)}
          {d.errorLogPath ?? muted(`${d.domain}_error.log`)}
        </Space>
      ),
    },
    {
      title: 'Certificate',
      key: 'cert',
      render: (_: unknown, d: DomainView) =>
        d.sslCertPath ? (
          <Space orientation="vertical" size={0} style={{ fontSize: 12 }}>
            <code>{d.sslCertPath}</code>
            <code>{d.sslCertKeyPath}</code>
          </Space>
        ) : (
          muted('—')
        ),
    },
    {
      title: 'Owner',
      key: 'owner',
      render: (_: unknown, d: DomainView) => (
        <Space orientation="vertical" size={0} style={{ fontSize: 12 }} data-testid={`owner-${d.domain}`}>
          {d.owner ? <Typography.Text code>{d.owner}</Typography.Text> : muted(ownerLabel(d))}
          {d.delegations.map((x) => (
            <span key={x.id} title={`delegated by ${x.by} at ${x.at}`}>
              <code>{x.uriPrefix}</code> → <code>{x.node}</code>
            </span>
          ))}
          {d.hiddenDelegations > 0 && muted(`${d.hiddenDelegations} hidden delegation(s)`)}
        </Space>
      ),
    },
    { title: 'Served by', dataIndex: 'clusters', render: (cs: string[]) => (cs.length ? cs.map((c) => <Tag key={c}>{c}</Tag>) : muted('no cluster')) },
    {
      title: '',
      key: 'actions',
      width: 90,
      // Domains are global; nginx.write here is the console's cue, the server checks the domain's owners.
      render: (_: unknown, d: DomainView) => (
        <Allowed op="nginx.write">
          <Space size={0}>
            <Button size="small" type="text" icon={<EditOutlined />} aria-label={`Edit ${d.domain}`} onClick={() => setDialog({ editing: d })} />
            <Popconfirm title={`Delete ${d.domain}?`} description="Refused while a service or a cluster still uses it." okText="Delete" okButtonProps={{ danger: true }} onConfirm={() => remove(d)}>
              <Button size="small" type="text" danger icon={<DeleteOutlined />} aria-label={`Delete ${d.domain}`} />
            </Popconfirm>
          </Space>
        </Allowed>
      ),
    },
  ];

  return (
    <Card
      size="small"
      title="Domains"
      extra={
        <Allowed op="nginx.write">
          <Button size="small" icon={<PlusOutlined />} onClick={() => setDialog({ editing: undefined })}>
            New domain
          </Button>
        </Allowed>
      }
    >
      <Table<DomainView>
        size="small"
        rowKey="domain"
        loading={domains === undefined}
        dataSource={domains ?? []}
        columns={columns}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        locale={{ emptyText: 'No domains yet' }}
      />
      <DomainModal
        open={dialog !== undefined}
        editing={dialog?.editing}
        initial={dialog?.editing ? domainDraftOf(dialog.editing) : NEW_DOMAIN}
        onClose={() => setDialog(undefined)}
        onSaved={(d) => {
          void message.success(dialog?.editing ? `Saved ${d.domain}` : `Created ${d.domain}`);
          onChanged();
        }}
      />
    </Card>
  );
}
