/** Apply the cluster's draft: a reason is required; a config the program refuses shows its output. */
import { useEffect, useState } from 'react';
import { Alert, Form, Input, Modal, Typography } from 'antd';
import { ConfigRejectedError, messageOf, request, seg } from '../../api.ts';
import { CHECKER, type ApplyView, type ProxyKind } from './model.ts';
import { ProgramOutput } from './ProgramOutput.tsx';

export interface ApplyModalProps {
  kind: ProxyKind;
  path: string;
  open: boolean;
  /** The version the draft is applied over (0: none yet), for the dialog's wording. */
  baseVersion: number;
  onClose: () => void;
  onApplied: (result: ApplyView) => void;
}

/** The Apply dialog of a cluster. */
export function ApplyModal({ kind, path, open, baseVersion, onClose, onApplied }: ApplyModalProps) {
  const [form] = Form.useForm<{ reason: string }>();
  const [busy, setBusy] = useState(false);
  const [rejected, setRejected] = useState<ConfigRejectedError>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    if (!open) return;
    form.resetFields();
    setRejected(undefined);
    setError(undefined);
  }, [open, form]);

  async function submit(): Promise<void> {
    let reason: string;
    try {
      ({ reason } = await form.validateFields());
    } catch {
      return;
    }
    setBusy(true);
    setRejected(undefined);
    setError(undefined);
    try {
      onApplied(await request<ApplyView>('POST', `/${kind}/clusters/${seg(path)}/apply`, { body: { reason } }));
      onClose();
    } catch (err) {
      if (err instanceof ConfigRejectedError) setRejected(err);
      else setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      title={`Apply the ${kind === 'nginx' ? 'Nginx' : 'LVS'} config of ${path}`}
      open={open}
      onOk={() => void submit()}
      onCancel={onClose}
      okText="Apply"
      confirmLoading={busy}
      width={rejected ? 820 : 560}
      destroyOnHidden
    >
      <Typography.Paragraph type="secondary">
        The current settings are rendered, checked with <Typography.Text code>{CHECKER[kind]}</Typography.Text> and, if it accepts them and they differ from{' '}
        {baseVersion === 0 ? 'nothing (no version yet)' : `v${baseVersion}`}, published as version {baseVersion + 1}.
      </Typography.Paragraph>
      {rejected && <div style={{ marginBottom: 16 }}><ProgramOutput title={`${rejected.program || CHECKER[kind]} refused the config: nothing was published`} output={rejected.output} /></div>}
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 16 }} />}
      <Form form={form} layout="vertical" onFinish={() => void submit()}>
        <Form.Item name="reason" label="Reason" rules={[{ required: true, whitespace: true, message: 'say why, for the version history' }, { max: 2000 }]}>
          <Input placeholder="e.g. serve /pay from the new pay service" autoFocus />
        </Form.Item>
        <button type="submit" hidden />
      </Form>
    </Modal>
  );
}
