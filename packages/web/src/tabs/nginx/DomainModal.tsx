/** Create or edit a domain (`PUT /domains/{domain}`): ports with ssl, log files, certificate paths. */
import { Button, Col, Form, Input, InputNumber, Row, Space, Switch, Typography, type FormInstance } from 'antd';
import { LockOutlined, MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { api, seg } from '../../api.ts';
import { FormDialog } from '../proxy-shared/FormDialog.tsx';
import { domainBodyOf, type DomainDraft, type DomainView } from './model.ts';

export interface DomainModalProps {
  open: boolean;
  /** The domain edited, or undefined to create one. */
  editing: DomainView | undefined;
  initial: DomainDraft;
  onClose: () => void;
  onSaved: (d: DomainView) => void;
}

function Fields({ form, editing }: { form: FormInstance<DomainDraft>; editing: boolean }) {
  const domain = (Form.useWatch('domain', form) as string | undefined) || 'DOMAIN';
  const ports = (Form.useWatch('ports', { form, preserve: true }) as DomainDraft['ports'] | undefined) ?? [];
  const ssl = ports.some((p) => p?.ssl);
  return (
    <>
      <Form.Item name="domain" label="Domain" rules={[{ required: true, message: 'a lower-case domain name' }]}>
        <Input placeholder="shop.example.com" disabled={editing} />
      </Form.Item>
      <Form.Item name="owner" label="Owner node" tooltip="Attaching a URI of this domain to a service needs nginx.write on the owner, or a URI prefix it delegates. You need nginx.write on the owner.">
        <Input placeholder="corp.pay" />
      </Form.Item>
      <Typography.Text strong>Ports</Typography.Text>
      <Form.List name="ports">
        {(rows, { add, remove }) => (
          <div style={{ margin: '8px 0 16px' }}>
            {rows.map((row, n) => (
              <Space key={row.key} align="baseline" style={{ display: 'flex' }}>
                <Form.Item name={[row.name, 'port']} rules={[{ required: true, message: 'a port' }]} style={{ marginBottom: 8 }}>
                  <InputNumber min={1} max={65535} precision={0} placeholder="443" aria-label={`Port ${n + 1}`} style={{ width: 120 }} />
                </Form.Item>
                <Form.Item name={[row.name, 'ssl']} valuePropName="checked" style={{ marginBottom: 8 }}>
                  <Switch checkedChildren={<LockOutlined />} unCheckedChildren="plain" aria-label={`Port ${n + 1} ssl`} />
                </Form.Item>
                <Typography.Text type="secondary">{ports[n]?.ssl ? 'ssl' : 'http'}</Typography.Text>
                {rows.length > 1 && <MinusCircleOutlined aria-label={`Remove port ${n + 1}`} onClick={() => remove(row.name)} />}
              </Space>
            ))}
            <Button size="small" icon={<PlusOutlined />} onClick={() => add({ port: undefined, ssl: false })}>
              Add port
            </Button>
          </div>
        )}
      </Form.List>
      <Row gutter={16}>
        <Col span={12}>
          <Form.Item name="accessLogPath" label="Access log" tooltip="A file name in the cluster's log directory">
            <Input placeholder={`${domain}_access.log`} />
          </Form.Item>
        </Col>
        <Col span={12}>
          <Form.Item name="errorLogPath" label="Error log" tooltip="A file name in the cluster's log directory">
            <Input placeholder={`${domain}_error.log`} />
          </Form.Item>
        </Col>
      </Row>
      {ssl ? (
        <Row gutter={16}>
          <Col span={12}>
            <Form.Item name="sslCertPath" label="Certificate" rules={[{ required: true, message: 'required when a port uses ssl' }]}>
              <Input placeholder={`/etc/nginx/ssl/${domain}.pem`} />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name="sslCertKeyPath" label="Certificate key" rules={[{ required: true, message: 'required when a port uses ssl' }]}>
              <Input placeholder={`/etc/nginx/ssl/${domain}.key`} />
            </Form.Item>
          </Col>
        </Row>
      ) : (
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          No port uses ssl, so no certificate is needed.
        </Typography.Text>
      )}
    </>
  );
}

/** The domain dialog. */
export function DomainModal({ open, editing, initial, onClose, onSaved }: DomainModalProps) {
  async function save(v: DomainDraft): Promise<void> {
    const name = (v.domain ?? '').trim();
    onSaved(await api.put<DomainView>(`/domains/${seg(name)}`, domainBodyOf(v)));
  }
  return (
    <FormDialog<DomainDraft> title={editing ? `Domain ${editing.domain}` : 'New domain'} open={open} onClose={onClose} onSubmit={save} initialValues={initial} okText={editing ? 'Save' : 'Create domain'} width={620}>
      {(form) => <Fields form={form} editing={editing !== undefined} />}
    </FormDialog>
  );
}
