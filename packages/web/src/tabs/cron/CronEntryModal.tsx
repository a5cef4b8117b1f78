/** The dialog that sets a cron entry on a node: a new one, an edit, or an override of an inherited one. */
import { Col, Form, Input, InputNumber, Radio, Row, Select, type FormInstance } from 'antd';
import { api, ApiError, seg } from '../../api.ts';
import { FormModal } from '../../components/FormModal.tsx';
import { fieldOf } from '../../components/issues.ts';
import { DEFAULT_VALUES, formFieldOf, inputOf, type CronFormValues } from './model.ts';

function place(form: FormInstance<CronFormValues>, err: unknown): string | undefined {
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
  const byField = new Map<string, string[]>();
  let unplaced = err.issues.length === 0;
  for (const issue of err.issues) {
    const name = formFieldOf(fieldOf(issue.path));
    if (name === undefined) unplaced = true;
    else byField.set(name, [...(byField.get(name) ?? []), issue.message]);
  }
  form.setFields([...byField].map(([name, errors]) => ({ name: name as keyof CronFormValues, errors })));
  return unplaced ? err.message : undefined;
}

/** Modal form for entry `initial.name` on `nodePath` (name editable only for a new entry). */
export function CronEntryModal(props: { nodePath: string; open: boolean; initial: CronFormValues | undefined; title: string; onClose: () => void; onSaved: () => void }) {
  const initial = props.initial ?? DEFAULT_VALUES;
  const isNew = props.initial === undefined;

  async function save(v: CronFormValues): Promise<void> {
    await api.put(`/nodes/${seg(props.nodePath)}/cron/${seg(isNew ? v.name : initial.name)}`, inputOf(v));
    props.onSaved();
  }

  return (
    <FormModal<CronFormValues> title={props.title} open={props.open} onClose={props.onClose} onSubmit={save} fields={[]} place={place} okText="Save" width={720} initialValues={initial}>
      {(form) => (
        <>
          <Row gutter={12}>
            <Col span={8}>
              <Form.Item name="name" label="Name" rules={[{ required: true, pattern: /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, message: 'a DNS label: a-z, 0-9 and inner hyphens' }]}>
                <Input disabled={!isNew} placeholder="logrotate" autoFocus={isNew} />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="schedule" label="Schedule" rules={[{ required: true, message: 'a cron expression' }]} extra="5 fields, or 6 with seconds first">
                <Input style={{ fontFamily: 'monospace' }} placeholder="0 3 * * *" />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="timezone" label="Time zone" extra="IANA name, e.g. Europe/Paris">
                <Input placeholder="UTC" />
              </Form.Item>
            </Col>
          </Row>
          <Form.Item name="body" label="Run">
            <Radio.Group optionType="button" options={[{ value: 'command', label: 'Command' }, { value: 'script', label: 'Script' }]} />
          </Form.Item>
          <Form.Item noStyle shouldUpdate={(a, b) => a.body !== b.body}>
            {() =>
              form.getFieldValue('body') === 'script' ? (
                <Form.Item name="script" label="Script" rules={[{ required: true, message: 'write the script to run' }]} extra="Run by /bin/sh; start with #! for another interpreter.">
                  <Input.TextArea rows={6} style={{ fontFamily: 'monospace' }} placeholder={'#!/bin/sh\nfind /var/log/app -mtime +7 -delete'} />
                </Form.Item>
              ) : (
                <Form.Item name="command" label="Command" rules={[{ required: true, message: 'name the command to run' }]} extra="Words separated by spaces, run without a shell (use a script for quoting, pipes or redirection).">
                  <Input style={{ fontFamily: 'monospace' }} placeholder="/usr/sbin/logrotate /etc/logrotate.conf" />
                </Form.Item>
              )
            }
          </Form.Item>
          <Row gutter={12}>
            <Col span={6}>
              <Form.Item name="overlap" label="If still running">
                <Select options={[{ value: 'skip', label: 'skip the run' }, { value: 'queue-one', label: 'queue one' }, { value: 'allow', label: 'run anyway' }]} />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item name="user" label="OS user" rules={[{ required: true, message: 'name the OS user' }]} extra="root needs machine.root">
                <Input placeholder="root" />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item name="timeoutSeconds" label="Timeout (s)">
                <InputNumber min={1} style={{ width: '100%' }} />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item name="outputLimitKiB" label="Output kept (KiB)">
                <InputNumber min={1} max={1024} style={{ width: '100%' }} />
              </Form.Item>
            </Col>
          </Row>
          <Form.Item name="description" label="Description">
            <Input placeholder="what it is for" />
          </Form.Item>
        </>
      )}
    </FormModal>
  );
}
