/**
 * One virtual service of the node: VIP, port, protocol, real port, scheduler, forwarding (FNAT
 * with syn_proxy and its local-address group), persistence and health check. Saving puts the
 * node's whole list; the server's issues about this entry land on its fields.
 */
import { Col, Form, Input, InputNumber, Row, Select, Switch, Typography, type FormInstance } from 'antd';
import { ApiError } from '../../api.ts';
import { fieldOf } from '../../components/issues.ts';
import { FormDialog } from '../proxy-shared/FormDialog.tsx';
import { CHECK_TYPES, FORWARDING, SCHEDULERS, type VsDraft } from './model.ts';

const num = (label: string, min: number, max: number, placeholder?: string) => <InputNumber min={min} max={max} precision={0} placeholder={placeholder} aria-label={label} style={{ width: '100%' }} />;

export interface VsModalProps {
  open: boolean;
  /** Which entry of the list is edited (its index), or undefined for a new one. */
  index: number | undefined;
  initial: VsDraft;
  onClose: () => void;
  /** Save the draft at `index` (appended when undefined); throws the server's error. */
  onSubmit: (draft: VsDraft) => Promise<void>;
}

/** The server names fields of the whole list (`virtualServices.2.vip`): make this entry's relative to it. */
export function issuesOfEntry(err: unknown, index: number): unknown {
  if (!(err instanceof ApiError)) return err;
  const issues = err.issues.map((i) => {
    const p = fieldOf(i.path);
    return p[0] === 'virtualServices' && String(p[1]) === String(index) && p.length > 2 ? { ...i, path: p.slice(2) } : i;
  });
  return new ApiError(err.status, err.code, err.message, issues);
}

function Fields({ form }: { form: FormInstance<VsDraft> }) {
  const forwarding = Form.useWatch('forwarding', form);
  const protocol = Form.useWatch('protocol', form);
  const check = Form.useWatch(['healthCheck', 'type'], form);
  const fnat = forwarding === 'FNAT';
  const samePort = forwarding === 'DR' || forwarding === 'TUN';
  return (
    <>
      <Row gutter={16}>
        <Col span={10}>
          <Form.Item name="vip" label="VIP" rules={[{ required: true, message: 'an IPv4 or IPv6 address' }]}>
            <Input placeholder="10.0.0.100" aria-label="VIP" />
          </Form.Item>
        </Col>
        <Col span={5}>
          <Form.Item name="port" label="Port" rules={[{ required: true, message: 'a port' }]}>
            {num('Port', 1, 65535, '80')}
          </Form.Item>
        </Col>
        <Col span={4}>
          <Form.Item name="protocol" label="Protocol">
            <Select aria-label="Protocol" options={[{ value: 'TCP' }, { value: 'UDP' }]} />
          </Form.Item>
        </Col>
        <Col span={5}>
          <Form.Item name="realPort" label="Real port" tooltip={samePort ? `${forwarding} keeps the port: leave empty` : 'The port of the real servers; empty is the same as Port'}>
            {num('Real port', 1, 65535, 'same')}
          </Form.Item>
        </Col>
      </Row>
      <Row gutter={16}>
        <Col span={8}>
          <Form.Item name="scheduler" label="Scheduler">
            <Select aria-label="Scheduler" options={SCHEDULERS.map((s) => ({ value: s.value, label: `${s.value} — ${s.hint}` }))} />
          </Form.Item>
        </Col>
        <Col span={8}>
          <Form.Item name="forwarding" label="Forwarding">
            <Select aria-label="Forwarding" options={FORWARDING.map((f) => ({ value: f.value, label: f.value, title: f.hint }))} />
          </Form.Item>
        </Col>
        <Col span={8}>
          <Form.Item name="persistenceTimeout" label="Persistence (s)" tooltip="Seconds a client sticks to one real server; empty: no persistence">
            {num('Persistence timeout', 1, 2_592_000, 'none')}
          </Form.Item>
        </Col>
      </Row>
      <Row gutter={16}>
        <Col span={8}>
          <Form.Item name="synProxy" label="syn_proxy" valuePropName="checked" tooltip="SYN-flood defence of the FULLNAT fork: FNAT and TCP only">
            <Switch disabled={!fnat || protocol === 'UDP'} aria-label="syn_proxy" />
          </Form.Item>
        </Col>
        <Col span={8}>
          <Form.Item name="localAddressGroup" label="Local-address group" tooltip="The cluster's FULLNAT local_address_group; required for FNAT" rules={[{ required: fnat, message: 'required for FNAT' }]}>
            <Input disabled={!fnat} placeholder={fnat ? 'laddr_g1' : 'FNAT only'} aria-label="Local-address group" />
          </Form.Item>
        </Col>
        <Col span={8}>
          <Form.Item name="delayLoop" label="Check every (s)" tooltip="Seconds between health checks; empty is keepalived's default">
            {num('Check interval', 1, 3600, 'default')}
          </Form.Item>
        </Col>
      </Row>
      <Typography.Text strong>Health check</Typography.Text>
      <Row gutter={16} style={{ marginTop: 8 }}>
        <Col span={8}>
          <Form.Item name={['healthCheck', 'type']} label="Checker">
            <Select aria-label="Checker" options={CHECK_TYPES.map((c) => ({ value: c.value, label: c.label }))} />
          </Form.Item>
        </Col>
        {check === 'HTTP_GET' && (
          <>
            <Col span={10}>
              <Form.Item name={['healthCheck', 'path']} label="Path" rules={[{ required: true, message: 'e.g. /health' }]}>
                <Input placeholder="/health" aria-label="Check path" />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item name={['healthCheck', 'statusCode']} label="Status">
                {num('Expected status', 100, 599, '200')}
              </Form.Item>
            </Col>
          </>
        )}
      </Row>
      {check !== 'none' && check !== undefined && (
        <Row gutter={16}>
          <Col span={6}>
            <Form.Item name={['healthCheck', 'connectTimeout']} label="Timeout (s)">
              {num('Connect timeout', 1, 3600, '3')}
            </Form.Item>
          </Col>
          <Col span={6}>
            <Form.Item name={['healthCheck', 'retry']} label="Retries">
              {num('Retries', 0, 100, 'default')}
            </Form.Item>
          </Col>
          <Col span={6}>
            <Form.Item name={['healthCheck', 'delayBeforeRetry']} label="Retry after (s)">
              {num('Delay before retry', 1, 3600, 'default')}
            </Form.Item>
          </Col>
          <Col span={6}>
            <Form.Item name={['healthCheck', 'connectPort']} label="Check port">
              {num('Check port', 1, 65535, 'real port')}
            </Form.Item>
          </Col>
        </Row>
      )}
    </>
  );
}

/** The virtual-service dialog. */
export function VsModal({ open, index, initial, onClose, onSubmit }: VsModalProps) {
  return (
    <FormDialog<VsDraft> title={index === undefined ? 'New virtual service' : 'Virtual service'} open={open} onClose={onClose} onSubmit={onSubmit} initialValues={initial} okText={index === undefined ? 'Add' : 'Save'} width={720}>
      {(form) => <Fields form={form} />}
    </FormDialog>
  );
}
