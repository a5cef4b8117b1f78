/**
 * Issue a machine credential, then show its secret once. The server keeps only a hash, so the
 * box that shows the secret says so plainly and offers a copy button; closing it forgets the secret.
 */
import { useRef } from 'react';
import { Alert, App, Button, Form, Input, Modal, Space, Typography, type InputRef } from 'antd';
import { CopyOutlined } from '@ant-design/icons';
import { FormModal } from '../../components/FormModal.tsx';
import { DEFAULT_CREDENTIAL_NAME, credentialsApi, type IssuedCredential } from './credentials.ts';

interface IssueProps {
  hostname: string;
  open: boolean;
  onClose: () => void;
  onIssued: (c: IssuedCredential) => void;
}

/** Modal form naming a new credential for `hostname`; the server's refusal shows in the form. */
export function IssueCredentialModal({ hostname, open, onClose, onIssued }: IssueProps) {
  async function issue(v: { name: string }): Promise<void> {
    onIssued(await credentialsApi.issue(hostname, v.name.trim()));
  }
  return (
    <FormModal<{ name: string }>
      title={`Issue a credential for ${hostname}`}
      open={open}
      onClose={onClose}
      onSubmit={issue}
      fields={['name']}
      okText="Issue"
      initialValues={{ name: DEFAULT_CREDENTIAL_NAME }}
    >
      <Typography.Paragraph type="secondary">
        The agent on {hostname} sends it as its Bearer token to register, heartbeat and deregister this machine&apos;s instances and to read services. Give each
        holder its own name, so that one can be revoked alone.
      </Typography.Paragraph>
      <Form.Item name="name" label="Name" rules={[{ required: true, message: 'a credential needs a name' }]} extra="Unique on this machine, e.g. agent or deploy-2026.">
        <Input autoFocus />
      </Form.Item>
    </FormModal>
  );
}

/** The secret of the credential just issued; `issued` undefined closes it for good. */
export function IssuedSecretModal({ issued, onClose }: { issued: IssuedCredential | undefined; onClose: () => void }) {
  const { message } = App.useApp();
  const input = useRef<InputRef>(null);

  async function copy(secret: string): Promise<void> {
    // Selected first, so that when the browser refuses the clipboard, Ctrl+C is all that is left to do.
    input.current?.select();
    try {
      await navigator.clipboard.writeText(secret);
      void message.success('Secret copied to the clipboard');
    } catch {
      void message.warning('The browser refused the clipboard: press Ctrl+C to copy the selected secret');
    }
  }

  return (
    <Modal
      title="Credential issued"
      open={issued !== undefined}
      onCancel={onClose}
      maskClosable={false}
      destroyOnHidden
      width={640}
      footer={
        <Button type="primary" onClick={onClose}>
          Done
        </Button>
      }
    >
      {issued && (
        <Space orientation="vertical" size={12} style={{ width: '100%' }}>
          <Alert
            type="warning"
            showIcon
            title="Copy this secret now: it will not be shown again."
            description="Canopy keeps only its hash. If it is lost, revoke the credential and issue a new one."
          />
          <Typography.Text>
            Credential <strong>{issued.name}</strong> of <strong>{issued.hostname}</strong>:
          </Typography.Text>
          <Space.Compact style={{ width: '100%' }}>
            <Input ref={input} readOnly value={issued.token} aria-label="Secret" data-testid="issued-secret" style={{ fontFamily: 'monospace' }} onFocus={(e) => e.target.select()} />
            <Button icon={<CopyOutlined />} onClick={() => void copy(issued.token)}>
              Copy
            </Button>
          </Space.Compact>
          <Typography.Text type="secondary">
            Give it to the agent as its token, e.g. <Typography.Text code>CANOPY_TOKEN</Typography.Text> or an <Typography.Text code>Authorization: Bearer …</Typography.Text> header.
          </Typography.Text>
        </Space>
      )}
    </Modal>
  );
}
