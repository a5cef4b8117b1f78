/** The allow-listed custom attributes of a service, one field each, under `attributes.*`. */
import { Button, Col, Form, Input, InputNumber, Row, Select, Space, Typography } from 'antd';
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { ATTRIBUTE_GROUPS, NEXT_UPSTREAM, type AttributeSpec } from './model.ts';

function HeaderRows({ spec }: { spec: AttributeSpec }) {
  return (
    <Form.List name={['attributes', spec.name]}>
      {(rows, { add, remove }) => (
        <>
          {rows.map((row, n) => (
            <Space key={row.key} align="baseline" style={{ display: 'flex' }}>
              <Form.Item name={[row.name, 'name']} style={{ marginBottom: 8 }}>
                <Input placeholder="X-Request-Id" aria-label={`${spec.name} ${n + 1} name`} style={{ width: 200 }} />
              </Form.Item>
              <Form.Item name={[row.name, 'value']} style={{ marginBottom: 8 }}>
                <Input placeholder="$request_id" aria-label={`${spec.name} ${n + 1} value`} style={{ width: 280 }} />
              </Form.Item>
              <MinusCircleOutlined aria-label={`Remove ${spec.name} ${n + 1}`} onClick={() => remove(row.name)} />
            </Space>
          ))}
          <Button size="small" icon={<PlusOutlined />} onClick={() => add({ name: '', value: '' })}>
            Add header
          </Button>
        </>
      )}
    </Form.List>
  );
}

function Field({ spec }: { spec: AttributeSpec }) {
  const label = <Typography.Text code>{spec.name}</Typography.Text>;
  const name = ['attributes', spec.name];
  if (spec.kind === 'headers') {
    return (
      <Form.Item label={label} tooltip={spec.hint} style={{ marginBottom: 12 }}>
        <HeaderRows spec={spec} />
      </Form.Item>
    );
  }
  let input;
  switch (spec.kind) {
    case 'int':
      input = <InputNumber min={spec.min} max={spec.max} precision={0} placeholder={spec.placeholder} aria-label={spec.name} style={{ width: '100%' }} />;
      break;
    case 'bool':
      input = <Select allowClear placeholder="nginx default" aria-label={spec.name} options={[{ value: 'on', label: 'on' }, { value: 'off', label: 'off' }]} />;
      break;
    case 'conditions':
      input = <Select mode="multiple" allowClear placeholder="error timeout (nginx default)" aria-label={spec.name} options={NEXT_UPSTREAM.map((c) => ({ value: c, label: c }))} />;
      break;
    default:
      input = <Input placeholder={spec.placeholder} aria-label={spec.name} />;
  }
  return (
    <Form.Item name={name} label={label} tooltip={spec.hint} style={{ marginBottom: 12 }}>
      {input}
    </Form.Item>
  );
}

/** Every attribute group as a titled grid of fields. */
export function AttributesFields() {
  return (
    <>
      {ATTRIBUTE_GROUPS.map((g) => (
        <div key={g.title} style={{ marginBottom: 8 }}>
          <Typography.Text type="secondary" strong style={{ display: 'block', marginBottom: 8 }}>
            {g.title}
          </Typography.Text>
          <Row gutter={16}>
            {g.items.map((spec) => (
              <Col key={spec.name} xs={24} md={spec.kind === 'headers' || spec.kind === 'conditions' ? 24 : 12} xl={spec.kind === 'headers' ? 12 : spec.kind === 'conditions' ? 16 : 8}>
                <Field spec={spec} />
              </Col>
            ))}
          </Row>
        </div>
      ))}
    </>
  );
}
