/**
 * The "Deploy" dialog: a version from the node's artifact repository (the same listing as the
 * Artifacts tab) and the strategy — batch size, canary, order, failure action and ratio, monitor
 * (with the SLO check), delay and health timeout — starting from the last deployment's strategy. POST /deployments.
 */
import { useEffect, useState } from 'react';
import { Checkbox, Col, Form, Input, InputNumber, Radio, Row, Select, Typography, type FormInstance } from 'antd';
import type { ArtifactList } from '@canopy/core';
import { api, ApiError, messageOf, seg } from '../../api.ts';
import { FormModal } from '../../components/FormModal.tsx';
import { fieldOf } from '../../components/issues.ts';
import { batchPreview, batchProblem, deployInputOf, formFieldOf, formOf, type DeployFormValues, type DeploymentDetailView, type DeployStrategy, type RunningVersion } from './model.ts';

// Server issues that name no field of the dialog (409: one is active already) stay above the form.
function place(form: FormInstance<DeployFormValues>, err: unknown): string | undefined {
  if (!(err instanceof ApiError)) return messageOf(err);
  const byField = new Map<keyof DeployFormValues, string[]>();
  let unplaced = err.issues.length === 0;
  for (const issue of err.issues) {
    const name = formFieldOf(fieldOf(issue.path));
    if (name === undefined) unplaced = true;
    else byField.set(name, [...(byField.get(name) ?? []), issue.message]);
  }
  form.setFields([...byField].map(([name, errors]) => ({ name, errors })));
  return unplaced ? err.message : undefined;
}

const seconds = (name: keyof DeployFormValues, label: string, min: number, extra: string) => (
  <Col span={8}>
    <Form.Item name={name} label={label} extra={extra}>
      <InputNumber min={min} max={86_400} suffix="s" style={{ width: '100%' }} />
    </Form.Item>
  </Col>
);

export interface DeployModalProps {
  nodePath: string;
  open: boolean;
  /** What runs where now: the host count for the batch preview, the versions to mark. */
  running: RunningVersion[];
  /** The strategy of the node's last deployment, the form's starting point. */
  lastStrategy: DeployStrategy | undefined;
  onClose: () => void;
  onCreated: (d: DeploymentDetailView) => void;
}

/** Modal form starting a deployment of `nodePath`. */
export function DeployModal({ nodePath, open, running, lastStrategy, onClose, onCreated }: DeployModalProps) {
  const [versions, setVersions] = useState<ArtifactList['items']>();
  const [listError, setListError] = useState<string>();

  useEffect(() => {
    if (!open) return;
    setListError(undefined);
    api.get<ArtifactList>(`/artifacts/${seg(nodePath)}`, { limit: 200 }).then((l) => setVersions(l.items), (err: unknown) => setListError(messageOf(err)));
  }, [open, nodePath]);

  const hostsOn = (v: string) => running.filter((r) => r.version === v).length;
  const options = (versions ?? []).map((a) => ({
    value: a.version,
    label: (
      <span>
        <Typography.Text code>{a.version}</Typography.Text> <Typography.Text type="secondary">{new Date(a.createdAt).toLocaleString()}{hostsOn(a.version) ? `, running on ${hostsOn(a.version)}` : ''}</Typography.Text>
      </span>
    ),
  }));

  async function create(v: DeployFormValues): Promise<void> {
    onCreated(await api.post<DeploymentDetailView>('/deployments', deployInputOf(nodePath, v)));
  }

  return (
    <FormModal<DeployFormValues> title={`Deploy ${nodePath}`} open={open} onClose={onClose} onSubmit={create} fields={[]} place={place} okText="Deploy" width={760} initialValues={formOf(lastStrategy)}>
      {(form) => (
        <>
          <Form.Item name="version" label="Version" rules={[{ required: true, message: 'choose the version to deploy' }]} extra={listError ?? (versions?.length === 0 ? `No versions of ${nodePath} yet: push or build one first.` : undefined)}>
            <Select showSearch loading={versions === undefined && !listError} options={options} optionFilterProp="value" placeholder="newest first" data-testid="deploy-version" />
          </Form.Item>
          <Row gutter={12}>
            <Col span={8}>
              <Form.Item name="batch" label="Batch size" rules={[{ validator: async (_, v: string | undefined) => { const p = batchProblem(v ?? ''); if (p) throw new Error(p); } }]} extra="2, 25% or 5 *2 (5, 10, 20, …)">
                <Input style={{ fontFamily: 'monospace' }} />
              </Form.Item>
            </Col>
            <Col span={16}>
              <Form.Item label="Canary">
                <Form.Item name="canary" noStyle>
                  <Radio.Group optionType="button" options={[{ value: 'off', label: 'Off' }, { value: 'resume', label: 'Wait for resume' }, { value: 'timed', label: 'Wait' }]} />
                </Form.Item>
                <Form.Item noStyle shouldUpdate={(a, b) => a.canary !== b.canary}>
                  {() => form.getFieldValue('canary') === 'timed' && (
                    <Form.Item name="canaryWaitSeconds" noStyle>
                      <InputNumber min={1} max={604_800} suffix="s" placeholder="60" style={{ width: 120, marginLeft: 8 }} aria-label="Canary wait seconds" />
                    </Form.Item>
                  )}
                </Form.Item>
              </Form.Item>
            </Col>
          </Row>
          <Form.Item noStyle shouldUpdate={(a, b) => a.batch !== b.batch || a.canary !== b.canary}>
            {() => {
              const sizes = running.length ? batchPreview({ batch: form.getFieldValue('batch') ?? '', canary: form.getFieldValue('canary') }, running.length) : undefined;
              return sizes ? <Typography.Paragraph type="secondary" data-testid="deploy-batch-preview">{running.length} host{running.length === 1 ? '' : 's'} in {sizes.length} batch{sizes.length === 1 ? '' : 'es'}: {sizes.join(', ')}</Typography.Paragraph> : null;
            }}
          </Form.Item>
          <Row gutter={12}>
            <Col span={8}>
              <Form.Item name="order" label="Order">
                <Radio.Group optionType="button" options={[{ value: 'stop-first', label: 'Stop first' }, { value: 'start-first', label: 'Start first' }]} />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="failureAction" label="On failure">
                <Radio.Group optionType="button" options={[{ value: 'pause', label: 'Pause' }, { value: 'rollback', label: 'Roll back' }]} />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="maxFailurePercent" label="Max failure ratio" extra="Share of hosts that may fail first">
                <InputNumber min={0} max={100} suffix="%" style={{ width: '100%' }} />
              </Form.Item>
            </Col>
            {seconds('monitorSeconds', 'Monitor', 0, 'Each batch is watched this long')}
            {seconds('delaySeconds', 'Delay', 0, 'Between batches')}
            {seconds('healthTimeoutSeconds', 'Health timeout', 1, 'For a new process to be healthy')}
          </Row>
          <Form.Item name="availabilityCheck" valuePropName="checked" extra="From its Nginx access logs, during each batch's monitor window; below it, the failure action applies">
            <Checkbox data-testid="deploy-availability-check">Watch the service's availability against its SLO</Checkbox>
          </Form.Item>
          <Form.Item name="reason" label="Reason" extra="Shown in the history.">
            <Input placeholder="optional" maxLength={500} />
          </Form.Item>
        </>
      )}
    </FormModal>
  );
}
