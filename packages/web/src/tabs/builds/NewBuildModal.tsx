/** The "New build" dialog: a git source, the build command and the output directory (POST /builds). */
import { Col, Form, Input, Row } from 'antd';
import { api } from '../../api.ts';
import { FormModal } from '../../components/FormModal.tsx';
import { buildInputOf, type BuildFormValues, type BuildView } from './model.ts';

const FIELDS = ['repo', 'ref', 'command', 'outputPath', 'version', 'env'] as const;

/** Modal form starting a build of `nodePath`. */
export function NewBuildModal({ nodePath, pool, open, onClose, onCreated }: { nodePath: string; pool: string | null; open: boolean; onClose: () => void; onCreated: (b: BuildView) => void }) {
  async function create(v: BuildFormValues): Promise<void> {
    onCreated(await api.post<BuildView>('/builds', buildInputOf(nodePath, v)));
  }
  return (
    <FormModal<BuildFormValues> title={`New build of ${nodePath}`} open={open} onClose={onClose} onSubmit={create} fields={FIELDS} okText="Build" width={720} initialValues={{ ref: 'main' }}>
      <Form.Item name="repo" label="Git repository" rules={[{ required: true, message: 'name the repository' }]} extra={`Fetched by a machine of the build pool${pool ? ` (${pool})` : ''}: https://, ssh://, git://, file:/// or user@host:path.`}>
        <Input style={{ fontFamily: 'monospace' }} placeholder="https://git.example.com/corp/app.git" autoFocus />
      </Form.Item>
      <Row gutter={12}>
        <Col span={12}>
          <Form.Item name="ref" label="Ref" extra="A branch, tag or commit.">
            <Input style={{ fontFamily: 'monospace' }} placeholder="main" />
          </Form.Item>
        </Col>
        <Col span={12}>
          <Form.Item name="version" label="Version" extra="Default: <ref>-<commit, 12 hex digits>.">
            <Input style={{ fontFamily: 'monospace' }} placeholder="1.4.2" />
          </Form.Item>
        </Col>
      </Row>
      <Form.Item name="command" label="Build command" rules={[{ required: true, message: 'give the build command' }]} extra="Run by /bin/sh -c in the checkout.">
        <Input.TextArea rows={3} style={{ fontFamily: 'monospace' }} placeholder="npm ci && npm run build" />
      </Form.Item>
      <Form.Item name="outputPath" label="Output directory" rules={[{ required: true, message: 'name the directory to package' }]} extra="Relative to the checkout; packaged as tar.gz into the artifact repository.">
        <Input style={{ fontFamily: 'monospace' }} placeholder="dist" />
      </Form.Item>
      <Form.Item name="env" label="Environment" extra="One NAME=value per line.">
        <Input.TextArea rows={2} style={{ fontFamily: 'monospace' }} placeholder="NODE_ENV=production" />
      </Form.Item>
    </FormModal>
  );
}
