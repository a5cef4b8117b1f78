/** The "New job" dialog: a command or script run over this node's machines, in batches (POST /jobs). */
import { Checkbox, Col, Form, Input, InputNumber, Radio, Row, Select, type FormInstance } from 'antd';
import { api, ApiError } from '../../api.ts';
import { FormModal } from '../../components/FormModal.tsx';
import { fieldOf } from '../../components/issues.ts';
import { useAccess } from '../../components/permissions.tsx';
import { formFieldOf, jobInputOf, type JobFormValues, type JobView } from './model.ts';

// Server issues that name no field of the dialog stay in the message above the form.
function place(form: FormInstance<JobFormValues>, err: unknown): string | undefined {
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
  const byField = new Map<string, string[]>();
  let unplaced = err.issues.length === 0;
  for (const issue of err.issues) {
    const name = formFieldOf(fieldOf(issue.path));
    if (name === undefined) unplaced = true;
    else byField.set(name, [...(byField.get(name) ?? []), issue.message]);
  }
  form.setFields([...byField].map(([name, errors]) => ({ name: name as keyof JobFormValues, errors })));
  return unplaced ? err.message : undefined;
}

/** Modal form creating a job over the machines of `nodePath`. */
export function NewJobModal({ nodePath, open, onClose, onCreated }: { nodePath: string; open: boolean; onClose: () => void; onCreated: (job: JobView) => void }) {
  const access = useAccess();
  // Running as root needs machine.root; a user holding only machine.exec starts from a plain user.
  const asRoot = access.can('machine.root');
  const initial: Partial<JobFormValues> = { body: 'command', user: asRoot ? 'root' : '', timeoutSeconds: 600, size: '100%', tolerance: 0, canary: false };

  async function create(v: JobFormValues): Promise<void> {
    onCreated(await api.post<JobView>('/jobs', jobInputOf(nodePath, v)));
  }

  return (
    <FormModal<JobFormValues> title={`New job on ${nodePath}`} open={open} onClose={onClose} onSubmit={create} fields={[]} place={place} okText="Run" width={720} initialValues={initial}>
      {(form) => (
        <>
          <Form.Item name="body" label="Run">
            <Radio.Group optionType="button" options={[{ value: 'command', label: 'Command' }, { value: 'script', label: 'Script' }]} />
          </Form.Item>
          <Form.Item noStyle shouldUpdate={(a, b) => a.body !== b.body}>
            {() =>
              form.getFieldValue('body') === 'script' ? (
                <Form.Item name="script" label="Script" rules={[{ required: true, message: 'write the script to run' }]} extra="Run by /bin/sh on each machine; start with #! for another interpreter.">
                  <Input.TextArea rows={6} style={{ fontFamily: 'monospace' }} placeholder={'#!/bin/sh\nuptime'} />
                </Form.Item>
              ) : (
                <Form.Item name="command" label="Command" rules={[{ required: true, message: 'name the command to run' }]} extra="A shell command line, run by /bin/sh -c.">
                  <Input style={{ fontFamily: 'monospace' }} placeholder="uptime" autoFocus />
                </Form.Item>
              )
            }
          </Form.Item>
          <Row gutter={12}>
            <Col span={8}>
              <Form.Item name="user" label="OS user" rules={[{ required: true, message: 'name the OS user' }]} extra={asRoot ? undefined : 'Running as root needs machine.root here.'}>
                <Input placeholder="deploy" />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="timeoutSeconds" label="Timeout (seconds)" rules={[{ required: true, message: 'give a timeout' }]}>
                <InputNumber min={1} style={{ width: '100%' }} />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="description" label="Description">
                <Input placeholder="optional" />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item name="size" label="Batch size" rules={[{ required: true, message: 'give a batch size' }]} extra="10, 10% or 5 *2">
                <Input />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item name="parallelism" label="Parallelism" extra="Default: whole batch">
                <InputNumber min={1} style={{ width: '100%' }} />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item name="tolerance" label="Failures tolerated">
                <InputNumber min={0} style={{ width: '100%' }} />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item name="canary" label="Canary" valuePropName="checked" extra="Pause after the first host">
                <Checkbox>First host first</Checkbox>
              </Form.Item>
            </Col>
          </Row>
          <Form.Item name="hosts" label="Only these hosts" extra={`Default: every machine under ${nodePath}.`}>
            <Select mode="tags" open={false} tokenSeparators={[' ', ',']} placeholder="web-01.example, web-02.example" />
          </Form.Item>
          <Form.Item name="selector" label="Label selector" extra="Only machines whose labels hold every pair.">
            <Input placeholder="env=prod,role=web" />
          </Form.Item>
        </>
      )}
    </FormModal>
  );
}
