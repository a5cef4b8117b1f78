/**
 * One deployment, followed live: its state and version, why it paused or stopped, who started and
 * approved it, its strategy, the batch progress bars, the buttons its state allows and its hosts
 * with their logs. Shown on top of the tab for the active deployment and for one opened from the
 * history.
 */
import { useEffect, useRef, useState } from 'react';
import { Alert, Button, Card, Descriptions, Progress, Space, Spin, Tag, Tooltip, Typography } from 'antd';
import { ArrowLeftOutlined } from '@ant-design/icons';
import { DeployActions } from './DeployActions.tsx';
import { HostsTable } from './HostsTable.tsx';
import { batchFigures, DEPLOY_STATE_COLOR, percents, stateLabel, strategyText, type BatchFigures, type DeploymentDetailView, type DeployState } from './model.ts';
import { useDeployment, type FeedState } from './useDeployment.ts';

const FEED: Record<FeedState, [string, string]> = {
  loading: ['default', 'loading…'],
  live: ['processing', 'live'],
  reconnecting: ['warning', 'reconnecting…'],
  done: ['default', 'finished'],
};

function segmentTitle(f: BatchFigures, canary: boolean): string {
  const parts = [`${f.updated} updated`, f.failed && `${f.failed} failed`, f.inFlight && `${f.inFlight} switching`, f.waiting && `${f.waiting} waiting`, f.skipped && `${f.skipped} skipped`];
  return `Batch ${f.index + 1}${canary ? ' (canary)' : ''}, ${f.size} host${f.size === 1 ? '' : 's'}: ${parts.filter(Boolean).join(', ')}`;
}

function Segment({ f, canary }: { f: BatchFigures; canary: boolean }) {
  const p = percents(f);
  const current = f.phase === 'current';
  return (
    <Tooltip title={segmentTitle(f, canary)}>
      <div
        data-testid={`batch-${f.index}`}
        data-phase={f.phase}
        style={{ flex: `${Math.max(f.size, 1)} 1 0`, minWidth: 56, padding: '2px 6px', borderRadius: 4, border: current ? '1px solid #1677ff' : '1px solid transparent' }}
      >
        <Typography.Text type={current ? undefined : 'secondary'} style={{ fontSize: 12 }} strong={current}>
          {canary ? 'Canary' : `Batch ${f.index + 1}`} · {f.updated + f.failed}/{f.size}
          {f.inFlight > 0 ? ` (${f.inFlight} switching)` : ''}
        </Typography.Text>
        <Progress percent={p.percent} success={{ percent: p.success }} strokeColor="#ff4d4f" showInfo={false} size="small" status={current ? 'active' : 'normal'} />
      </div>
    </Tooltip>
  );
}

// The whole (updated, failed, in flight of the total), then one segment per batch, as wide as its
// share of the hosts: green updated, red failed; the batch being switched is outlined.
function BatchProgress({ d }: { d: DeploymentDetailView }) {
  const figures = batchFigures(d);
  const { total, updated, failed, inFlight } = d.progress;
  const whole = percents({ size: total, updated, failed });
  const canary = d.strategy.canary !== false;
  return (
    <Space orientation="vertical" size={4} style={{ width: '100%' }} data-testid="deploy-progress">
      <Typography.Text data-testid="deploy-progress-text">
        {updated} of {total} host{total === 1 ? '' : 's'} updated
        {failed > 0 ? `, ${failed} failed` : ''}
        {inFlight > 0 ? `, ${inFlight} in flight` : ''}
        {d.state === 'staging' ? ` — staging the release on every host before any switches` : ''}
      </Typography.Text>
      <Progress percent={whole.percent} success={{ percent: whole.success }} strokeColor="#ff4d4f" format={() => `${whole.success}%`} />
      <div style={{ display: 'flex', gap: 6, flexWrap: 'wrap' }}>
        {figures.map((f) => (
          <Segment key={f.index} f={f} canary={canary && f.index === 0} />
        ))}
      </div>
    </Space>
  );
}

export interface DeploymentPanelProps {
  id: number;
  /** Back to the tab's own view (shown when the deployment was opened from the history). */
  onBack?: () => void;
  /** The deployment changed state: the tab re-reads what runs where and the history. */
  onStateChanged: (d: DeploymentDetailView) => void;
  /** Show another deployment (the one this rolls back, or rolled it back). */
  onOpen: (id: number) => void;
  /** A rollback started from this panel: the new deployment of the previous version. */
  onRolledBack: (d: DeploymentDetailView) => void;
}

/** The live detail of deployment `id`. */
export function DeploymentPanel({ id, onBack, onStateChanged, onOpen, onRolledBack }: DeploymentPanelProps) {
  const { detail: d, feed, error, accept } = useDeployment(id);
  const [actionError, setActionError] = useState<string>();
  const lastState = useRef<DeployState>(undefined);
  const changed = useRef(onStateChanged);
  changed.current = onStateChanged;

  useEffect(() => setActionError(undefined), [id]);
  useEffect(() => {
    if (!d || d.state === lastState.current) return;
    // The first view is not a change; every later state is.
    if (lastState.current !== undefined) changed.current(d);
    lastState.current = d.state;
  }, [d]);

  const title = (
    <Space wrap>
      {onBack && (
        <Button size="small" icon={<ArrowLeftOutlined />} onClick={onBack}>
          Back
        </Button>
      )}
      <span>Deployment #{id}</span>
      {d && (
        <>
          <Typography.Text code>{d.version}</Typography.Text>
          <Tag color={DEPLOY_STATE_COLOR[d.state]} data-testid="deploy-state">
            {stateLabel(d.state)}
          </Tag>
        </>
      )}
      <Tag color={FEED[feed][0]} data-testid="deploy-feed">
        {FEED[feed][1]}
      </Tag>
    </Space>
  );

  return (
    <Card size="small" title={title} data-testid="deployment" data-deployment={id} extra={d && <DeployActions d={d} onChanged={(v) => accept({ ...d, ...v })} onRolledBack={onRolledBack} onError={setActionError} />}>
      {error && <Alert type="error" showIcon title={error} />}
      {!d && !error && <Spin />}
      {d && (
        <Space orientation="vertical" size={12} style={{ width: '100%' }}>
          {actionError && <Alert type="error" showIcon closable onClose={() => setActionError(undefined)} title={actionError} data-testid="deploy-action-error" />}
          {d.reason && <Alert type={d.state === 'paused' ? 'warning' : d.state === 'failed' || d.state === 'rolled-back' ? 'error' : 'info'} showIcon title={d.reason} data-testid="deploy-reason" />}
          {d.state === 'awaiting-approval' && <Alert type="info" showIcon title={`Waiting for someone other than ${d.createdBy} with deploy.approve to approve it.`} />}
          <Descriptions size="small" column={{ xs: 1, md: 3 }}>
            <Descriptions.Item label="Version">
              {d.previousVersion ? `${d.previousVersion} → ` : ''}
              {d.version}
            </Descriptions.Item>
            <Descriptions.Item label="Started by">
              {d.createdBy}, {new Date(d.createdAt).toLocaleString()}
            </Descriptions.Item>
            <Descriptions.Item label="Approved by">{d.approvedBy ?? '—'}</Descriptions.Item>
            {d.rollbackOf !== null && (
              <Descriptions.Item label="Rolls back">
                <a onClick={() => onOpen(d.rollbackOf as number)}>#{d.rollbackOf}</a>
              </Descriptions.Item>
            )}
            {d.rolledBackBy !== null && (
              <Descriptions.Item label="Rolled back by">
                <a onClick={() => onOpen(d.rolledBackBy as number)}>#{d.rolledBackBy}</a>
              </Descriptions.Item>
            )}
            {d.finishedAt && <Descriptions.Item label="Finished">{new Date(d.finishedAt).toLocaleString()}</Descriptions.Item>}
            <Descriptions.Item label="Strategy" span={3}>
              <Typography.Text type="secondary">{strategyText(d.strategy)}</Typography.Text>
            </Descriptions.Item>
          </Descriptions>
          <BatchProgress d={d} />
          <HostsTable d={d} />
        </Space>
      )}
    </Card>
  );
}
