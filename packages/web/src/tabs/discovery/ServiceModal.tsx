/** The service definition form (`PUT /services/{path}`): ports, policy, protect threshold, zones, damping. */
import { Button, Col, Form, Input, InputNumber, Row, Select, Space, Switch, Typography } from 'antd';
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { api, seg } from '../../api.ts';
import { FormModal } from '../../components/FormModal.tsx';
import { ALGORITHMS, isHashing, type ServiceDraft, type ServiceView } from './model.ts';

const FIELDS = ['ports', 'lb', 'protectThreshold', 'zoneAware', 'zoneMinHealthy', 'passesBeforePassing', 'failuresBeforeCritical'] as const;

export interface ServiceModalProps {
  path: string;
  open: boolean;
  /** The current definition, or the defaults of a new service. */
  initial: ServiceDraft;
  creating: boolean;
  onClose: () => void;
  onSaved: (s: ServiceView) => void;
}

/** Create or edit the service at `path`. */
export function ServiceModal({ path, open, initial, creating, onClose, onSaved }: ServiceModalProps) {
  async function save(v: ServiceDraft): Promise<void> {
    // The form drops a cleared hash key as undefined; the server wants it absent, not null.
    const lb = isHashing(v.lb?.algorithm) && v.lb?.hashKey ? { algorithm: v.lb.algorithm, hashKey: v.lb.hashKey } : { algorithm: v.lb?.algorithm ?? 'wrr' };
    onSaved(await api.put<ServiceView>(`/services/${seg(path)}`, { ...v, lb }));
  }

  return (
    <FormModal<ServiceDraft>
      title={creating ? `Make ${path} a service` : `Service settings of ${path}`}
      open={open}
      onClose={onClose}
      onSubmit={save}
      fields={FIELDS}
      initialValues={initial}
      okText={creating ? 'Create service' : 'Save'}
      width={620}
    >
      {(form) => (
        <>
          <Typography.Text strong>Ports</Typography.Text>
          <Form.List name="ports">
            {(items, { add, remove }) => (
              <div style={{ margin: '8px 0 16px' }}>
                {items.map((item, n) => (
                  <Space key={item.key} align="baseline" style={{ display: 'flex' }}>
                    <Form.Item name={[item.name, 'name']} rules={[{ required: true, pattern: /^[a-z]([a-z0-9-]{0,13}[a-z0-9])?$/, message: '1-15 lower-case letters, digits, -' }]}>
                      <Input placeholder="http" aria-label={`Port ${n + 1} name`} style={{ width: 160 }} />
                    </Form.Item>
                    <Form.Item name={[item.name, 'port']} rules={[{ required: true, message: 'a port number' }]}>
                      <InputNumber min={1} max={65535} placeholder="8080" aria-label={`Port ${n + 1} number`} style={{ width: 120 }} />
                    </Form.Item>
                    {items.length > 1 && <MinusCircleOutlined aria-label={`Remove port ${n + 1}`} onClick={() => remove(item.name)} />}
                  </Space>
                ))}
                <Button size="small" icon={<PlusOutlined />} onClick={() => add({ name: '', port: undefined })}>
                  Add port
                </Button>
              </div>
            )}
          </Form.List>
          <Row gutter={16}>
            <Col span={14}>
              <Form.Item name={['lb', 'algorithm']} label="Load balancing" rules={[{ required: true }]}>
                <Select options={ALGORITHMS.map((a) => ({ value: a.value, label: a.label, title: a.hint }))} />
              </Form.Item>
            </Col>
            <Col span={10}>
              <Form.Item noStyle shouldUpdate={(a: ServiceDraft, b: ServiceDraft) => a.lb?.algorithm !== b.lb?.algorithm}>
                {() => (
                  <Form.Item name={['lb', 'hashKey']} label="Hash key" tooltip="What is hashed, e.g. $request_uri or x-user-id">
                    <Input placeholder="$request_uri" disabled={!isHashing(form.getFieldValue(['lb', 'algorithm']))} />
                  </Form.Item>
                )}
              </Form.Item>
            </Col>
          </Row>
          <Row gutter={16}>
            <Col span={8}>
              <Form.Item name="protectThreshold" label="Protect threshold" tooltip="Below this share of healthy instances, answer with all of them rather than overload the survivors">
                <InputNumber min={0} max={1} step={0.05} style={{ width: '100%' }} />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="zoneAware" label="Zone-aware" valuePropName="checked" tooltip="Answer same-zone healthy instances first">
                <Switch />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="zoneMinHealthy" label="Min. healthy in zone" tooltip="Fewer than this in the caller's zone and the answer spans every zone">
                <InputNumber min={1} max={1000} style={{ width: '100%' }} />
              </Form.Item>
            </Col>
          </Row>
          <Row gutter={16}>
            <Col span={12}>
              <Form.Item name="passesBeforePassing" label="Passes before passing" tooltip="Flap damping: consecutive passing checks before a critical instance serves again">
                <InputNumber min={1} max={100} style={{ width: '100%' }} />
              </Form.Item>
            </Col>
            <Col span={12}>
              <Form.Item name="failuresBeforeCritical" label="Failures before critical" tooltip="Flap damping: consecutive failing checks before an instance is taken out">
                <InputNumber min={1} max={100} style={{ width: '100%' }} />
              </Form.Item>
            </Col>
          </Row>
        </>
      )}
    </FormModal>
  );
}
