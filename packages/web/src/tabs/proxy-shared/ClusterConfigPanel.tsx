/**
 * A proxy cluster's published config, shared by the Nginx and LVS tabs: what is published, Plan
 * (the diff applying would make), Apply with a reason, which version each machine runs, the rendered
 * files and the version history with per-version diffs and rollback.
 */
import { useState } from 'react';
import { Alert, App, Button, Card, Skeleton, Space, Tabs, Tag, Typography } from 'antd';
import { CloudUploadOutlined, DiffOutlined } from '@ant-design/icons';
import { api, messageOf, seg } from '../../api.ts';
import { Allowed } from '../../components/permissions.tsx';
import { ApplyModal } from './ApplyModal.tsx';
import { ConfigFiles } from './ConfigFiles.tsx';
import { DiffView } from './DiffView.tsx';
import { MachineVersions } from './MachineVersions.tsx';
import { CHECKER, originTitle, when, type ApplyView, type PlanView, type ProxyKind, type PublishStatus } from './model.ts';
import { ProgramOutput } from './ProgramOutput.tsx';
import { useClusterConfig } from './useClusterConfig.ts';
import { VersionsTable } from './VersionsTable.tsx';

export interface ClusterConfigPanelProps {
  kind: ProxyKind;
  path: string;
  /** The cluster view's last refused automatic re-render. */
  lastError: PublishStatus['lastError'];
  /** Called when a new version appears (by this page or anyone else), so the cluster view is re-read. */
  onPublished?: () => void;
}

function PlanResult({ plan, onClose }: { plan: PlanView; onClose: () => void }) {
  const against = plan.baseVersion === 0 ? 'nothing published yet' : `v${plan.baseVersion}`;
  return (
    <Card
      size="small"
      type="inner"
      title={
        <Space>
          Plan against {against}
          {plan.changed ? (
            <span data-testid="plan-stat">
              <Typography.Text style={{ color: '#116329' }}>+{plan.added}</Typography.Text> <Typography.Text style={{ color: '#82071e' }}>−{plan.removed}</Typography.Text>
            </span>
          ) : (
            <Tag>no changes</Tag>
          )}
        </Space>
      }
      extra={<Button size="small" type="text" onClick={onClose}>Close</Button>}
    >
      {plan.note && <Alert type="warning" showIcon message={plan.note} style={{ marginBottom: 8 }} data-testid="plan-note" />}
      {plan.origins && plan.origins.length > 0 ? (
        plan.origins.map((o, i) => (
          <div key={i} data-testid="plan-origin">
            <Typography.Text strong>{originTitle(o)}</Typography.Text> {o.at && <Typography.Text type="secondary">{when(o.at)}</Typography.Text>}
            <DiffView diff={o.diff} empty="" />
          </div>
        ))
      ) : (
        <DiffView diff={plan.diff} empty={plan.changed ? 'Only the settings snapshot changed; the files are the same.' : `Applying now would publish nothing: the config equals ${against}.`} />
      )}
    </Card>
  );
}

/** The published-config panel of the `kind` cluster at `path`. */
export function ClusterConfigPanel({ kind, path, lastError, onPublished }: ClusterConfigPanelProps) {
  const { message } = App.useApp();
  const state = useClusterConfig(kind, path, onPublished);
  const [plan, setPlan] = useState<PlanView>();
  const [planning, setPlanning] = useState(false);
  const [applying, setApplying] = useState(false);
  const { config, versions } = state;
  const current = config?.version ?? 0;

  async function runPlan(): Promise<void> {
    setPlanning(true);
    try {
      setPlan(await api.post<PlanView>(`/${kind}/clusters/${seg(path)}/plan`));
    } catch (err) {
      void message.error(messageOf(err));
    } finally {
      setPlanning(false);
    }
  }

  function refresh(): void {
    setPlan(undefined);
    void state.reload();
    onPublished?.();
  }

  function applied(r: ApplyView): void {
    void message.success(r.published ? `Published v${r.version.version}` : `Nothing to publish: the config equals v${r.version.version}`);
    refresh();
  }

  return (
    <Card
      size="small"
      title="Published config"
      extra={
        <Space>
          <Button icon={<DiffOutlined />} loading={planning} onClick={() => void runPlan()}>
            Plan
          </Button>
          <Allowed op={`${kind}.write`}>
            <Button type="primary" icon={<CloudUploadOutlined />} onClick={() => setApplying(true)}>
              Apply…
            </Button>
          </Allowed>
        </Space>
      }
    >
      <Space orientation="vertical" size={12} style={{ width: '100%' }}>
        {state.error && <Alert type="error" showIcon title={state.error} />}
        {config === undefined ? (
          <Skeleton active paragraph={{ rows: 1 }} />
        ) : config === null ? (
          <Typography.Text type="secondary" data-testid="published-version">
            Nothing published yet. Plan to see the config the current settings render, then Apply to publish it as v1.
          </Typography.Text>
        ) : (
          <Space wrap size={8} data-testid="published-version">
            <Tag color="green" style={{ fontSize: 14, padding: '2px 8px' }} data-testid="published-tag">
              v{config.version}
            </Tag>
            <Typography.Text>
              by <strong>{config.author}</strong>, {when(config.createdAt)}
            </Typography.Text>
            <Typography.Text type="secondary">— {config.reason}</Typography.Text>
          </Space>
        )}
        {lastError && (
          <ProgramOutput
            type="warning"
            title={`An automatic re-render (${lastError.reason}) was refused by ${CHECKER[kind]} at ${when(lastError.at)}; v${current} stays published`}
            output={lastError.output}
          />
        )}
        {plan && <PlanResult plan={plan} onClose={() => setPlan(undefined)} />}
        <Tabs
          size="small"
          items={[
            { key: 'files', label: `Rendered config${config ? ` (v${config.version})` : ''}`, children: config ? <ConfigFiles files={config.files} /> : <Typography.Text type="secondary">No files until a version is published.</Typography.Text> },
            {
              key: 'versions',
              label: `Versions${versions ? ` (${versions.length}${state.moreVersions ? '+' : ''})` : ''}`,
              children: (
                <VersionsTable
                  kind={kind}
                  path={path}
                  versions={versions}
                  current={current}
                  more={state.moreVersions}
                  onMore={() => void state.loadMoreVersions()}
                  onRolledBack={refresh}
                />
              ),
            },
            { key: 'machines', label: 'Machine versions', children: <MachineVersions kind={kind} path={path} /> },
          ]}
        />
      </Space>
      <ApplyModal kind={kind} path={path} open={applying} baseVersion={current} onClose={() => setApplying(false)} onApplied={applied} />
    </Card>
  );
}
