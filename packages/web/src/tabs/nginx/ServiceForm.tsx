/**
 * The service's own Nginx settings (`PUT /nodes/{path}/nginx`): where it is served (domain + URI
 * rows), its upstream name and port, how nginx balances, and the allow-listed attributes. Edited
 * in place; server issues land on the field they name (`domainUris.1.uri`).
 */
import { useEffect, useMemo, useState } from 'react';
import { Alert, App, Button, Col, Collapse, Form, Input, InputNumber, Popconfirm, Row, Select, Space, Switch, Typography } from 'antd';
import { DeleteOutlined, MinusCircleOutlined, PlusOutlined, SaveOutlined, UndoOutlined } from '@ant-design/icons';
import { api, messageOf, seg } from '../../api.ts';
import { useAccess } from '../../components/permissions.tsx';
import { placeIssues } from '../proxy-shared/issues.ts';
import { AttributesFields } from './AttributesFields.tsx';
import { attributesSet, BALANCE_METHODS, serviceBodyOf, serviceDraftOf, type DomainView, type NginxServiceView, type ServiceDraft } from './model.ts';

export interface ServiceFormProps {
  path: string;
  view: NginxServiceView | null;
  domains: DomainView[];
  /** The port of the node's instances, offered for a new service. */
  instancePort: number | undefined;
  onSaved: (v: NginxServiceView) => void;
  onDeleted: () => void;
}

/** The settings form of the service at `path`. */
export function ServiceForm({ path, view, domains, instancePort, onSaved, onDeleted }: ServiceFormProps) {
  const { message } = App.useApp();
  const [form] = Form.useForm<ServiceDraft>();
  const initial = useMemo(() => serviceDraftOf(view, instancePort), [view, instancePort]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [dirty, setDirty] = useState(false);
  // Without nginx.write the settings are shown, not offered for editing.
  const readOnly = !useAccess().can('nginx.write');
  const method = Form.useWatch(['balance', 'method'], form) ?? initial.balance.method;
  const attributes = Form.useWatch('attributes', { form, preserve: true }) as Record<string, unknown> | undefined;
  // The default upstream name the server derives from the path (defaultUpstreamName in core).
  const defaultUpstream = path.replaceAll('.', '_');

  useEffect(() => {
    form.resetFields();
    setDirty(false);
    setError(undefined);
  }, [initial, form]);

  async function save(): Promise<void> {
    try {
      await form.validateFields();
    } catch {
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const saved = await api.put<NginxServiceView>(`/nodes/${seg(path)}/nginx`, serviceBodyOf(form.getFieldsValue(true) as ServiceDraft));
      void message.success(view ? `Saved the Nginx settings of ${path}` : `${path} is now served through Nginx`);
      onSaved(saved);
    } catch (err) {
      setError(placeIssues(form, err) ?? 'Not saved: fix the marked fields.');
    } finally {
      setBusy(false);
    }
  }

  async function remove(): Promise<void> {
    try {
      await api.del(`/nodes/${seg(path)}/nginx`);
      void message.success(`${path} is no longer served through Nginx`);
      onDeleted();
    } catch (err) {
      void message.error(messageOf(err));
    }
  }

  const domainOptions = domains.map((d) => ({ value: d.domain, label: d.domain }));
  const setCount = attributesSet(attributes);

  return (
    <Form form={form} layout="vertical" initialValues={initial} onValuesChange={() => setDirty(true)} onFinish={() => void save()} disabled={readOnly}>
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 16 }} closable onClose={() => setError(undefined)} />}
      <Typography.Text strong>Domains and URIs</Typography.Text>
      <Typography.Paragraph type="secondary" style={{ fontSize: 12, margin: '2px 0 8px' }}>
        Requests for a domain whose path starts with the URI reach this service; the longest matching URI wins.
      </Typography.Paragraph>
      <Form.List name="domainUris">
        {(rows, { add, remove: drop }) => (
          <div style={{ marginBottom: 16 }} data-testid="domain-uris">
            {rows.map((row, n) => (
              <Space key={row.key} align="baseline" style={{ display: 'flex' }}>
                <Form.Item name={[row.name, 'domain']} rules={[{ required: true, message: 'pick a domain' }]} style={{ marginBottom: 8 }}>
                  <Select showSearch options={domainOptions} placeholder="domain" aria-label={`Domain ${n + 1}`} style={{ width: 300 }} notFoundContent="No domains: create one in the Domains panel below" />
                </Form.Item>
                <Form.Item name={[row.name, 'uri']} rules={[{ required: true, message: 'a URI such as /' }]} style={{ marginBottom: 8 }}>
                  <Input placeholder="/api" aria-label={`URI ${n + 1}`} style={{ width: 260 }} />
                </Form.Item>
                {rows.length > 1 && !readOnly && <MinusCircleOutlined aria-label={`Remove domain URI ${n + 1}`} onClick={() => drop(row.name)} />}
              </Space>
            ))}
            {!readOnly && (
              <Button size="small" icon={<PlusOutlined />} onClick={() => add({ uri: '/' })}>
                Add domain URI
              </Button>
            )}
          </div>
        )}
      </Form.List>
      <Row gutter={16}>
        <Col xs={24} md={8} xl={6}>
          <Form.Item name="upstream" label="Upstream name" tooltip="The upstream block's name; leave empty for the default derived from the path">
            <Input placeholder={view?.effectiveUpstream || defaultUpstream} aria-label="Upstream name" />
          </Form.Item>
        </Col>
        <Col xs={12} md={4} xl={3}>
          <Form.Item name="port" label="Port" tooltip="The port the instances serve; only instances on it become servers" rules={[{ required: true, message: 'the instances’ port' }]}>
            <InputNumber min={1} max={65535} precision={0} aria-label="Port" style={{ width: '100%' }} />
          </Form.Item>
        </Col>
        <Col xs={12} md={6} xl={5}>
          <Form.Item name={['balance', 'method']} label="Balancing">
            <Select aria-label="Balancing" options={BALANCE_METHODS.map((m) => ({ value: m.value, label: m.label, title: m.hint }))} />
          </Form.Item>
        </Col>
        {method === 'hash' && (
          <>
            <Col xs={16} md={4} xl={6}>
              <Form.Item name={['balance', 'key']} label="Hash key" tooltip="One or more nginx variables, e.g. $request_uri or $cookie_sid" rules={[{ required: true, message: 'e.g. $request_uri' }]}>
                <Input placeholder="$request_uri" aria-label="Hash key" />
              </Form.Item>
            </Col>
            <Col xs={8} md={2} xl={4}>
              <Form.Item name={['balance', 'consistent']} label="Consistent" valuePropName="checked" tooltip="Ketama consistent hashing: adding or removing a server remaps few keys">
                <Switch />
              </Form.Item>
            </Col>
          </>
        )}
      </Row>
      <Collapse
        size="small"
        style={{ marginBottom: 16 }}
        items={[{ key: 'attrs', forceRender: true, label: `Attributes${setCount ? ` (${setCount} set)` : ' (none set: nginx defaults)'}`, children: <AttributesFields /> }]}
      />
      {!readOnly && (
        <Space>
          <Button type="primary" htmlType="submit" icon={<SaveOutlined />} loading={busy}>
            {view ? 'Save' : 'Serve through Nginx'}
          </Button>
          <Button icon={<UndoOutlined />} disabled={!dirty} onClick={() => (form.resetFields(), setDirty(false), setError(undefined))}>
            Reset
          </Button>
          {view && (
            <Popconfirm title={`Stop serving ${path} through Nginx?`} description="Its locations and upstream leave every cluster's next version." okText="Delete" okButtonProps={{ danger: true }} onConfirm={() => remove()}>
              <Button danger icon={<DeleteOutlined />}>
                Delete Nginx settings
              </Button>
            </Popconfirm>
          )}
        </Space>
      )}
    </Form>
  );
}
