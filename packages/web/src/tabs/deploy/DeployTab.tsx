/**
 * Deploy tab: which version runs on which host, the node's active deployment on top (live batch
 * progress, hosts and their logs, the buttons its state allows), the approval policy, and the
 * history of the node's deployments, newest first; a history row opens that deployment.
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Card, Space, Switch, Table, Tag, Typography } from 'antd';
import { CloudUploadOutlined, ReloadOutlined, RocketOutlined } from '@ant-design/icons';
import { api, messageOf, seg } from '../../api.ts';
import { PagerBar } from '../../components/PagerBar.tsx';
import { useAccess } from '../../components/permissions.tsx';
import { useCursorPages } from '../../components/useCursorPages.ts';
import type { NodeTab, NodeTabProps } from '../types.ts';
import { DeploymentPanel } from './DeploymentPanel.tsx';
import { DeployModal } from './DeployModal.tsx';
import { DEPLOY_STATE_COLOR, isFinished, stateLabel, type DeploymentView, type DeployPolicyView, type RunningVersion } from './model.ts';

const PAGE_SIZE = 50;
type Listing = { items: DeploymentView[]; nextCursor: string | null };

function Deploy({ node }: NodeTabProps) {
  const { message } = App.useApp();
  const access = useAccess();
  const mayRun = access.can('deploy.run');
  const [running, setRunning] = useState<RunningVersion[]>([]);
  const [active, setActive] = useState<DeploymentView>();
  const [policy, setPolicy] = useState<DeployPolicyView>();
  const [shown, setShown] = useState<number>();
  const [deploying, setDeploying] = useState(false);
  const [error, setError] = useState<string>();
  const pages = useCursorPages<DeploymentView>(node.path, async (cursor) => {
    const p = await api.get<Listing>('/deployments', { node: node.path, limit: PAGE_SIZE, cursor });
    return p.nextCursor ? { items: p.items, nextCursor: p.nextCursor } : { items: p.items };
  });

  const load = useCallback(async () => {
    try {
      const [r, recent, pol] = await Promise.all([
        api.get<{ items: RunningVersion[] }>(`/nodes/${seg(node.path)}/deploy/running`),
        api.get<Listing>('/deployments', { node: node.path, limit: 5 }),
        api.get<DeployPolicyView>(`/nodes/${seg(node.path)}/deploy-policy`),
      ]);
      setRunning(r.items);
      setActive(recent.items.find((d) => !isFinished(d.state)) ?? recent.items[0]);
      setPolicy(pol);
      setError(undefined);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [node.path]);

  useEffect(() => {
    setShown(undefined);
    setActive(undefined);
    void load();
  }, [load]);

  const reloadAll = useCallback(() => {
    void load();
    pages.reload();
  }, [load, pages.reload]);

  async function setApproval(requireApproval: boolean): Promise<void> {
    try {
      setPolicy(await api.put<DeployPolicyView>(`/nodes/${seg(node.path)}/deploy-policy`, { requireApproval }));
      void message.success(requireApproval ? 'Deployments here now need an approval' : 'Deployments here start without approval');
    } catch (err) {
      setError(messageOf(err));
    }
  }

  if (shown !== undefined) {
    const back = () => {
      setShown(undefined);
      reloadAll();
    };
    return <DeploymentPanel id={shown} onBack={back} onStateChanged={reloadAll} onOpen={setShown} onRolledBack={(d) => setShown(d.id)} />;
  }

  const busy = active !== undefined && !isFinished(active.state);
  const historyColumns = [
    { title: 'Deployment', dataIndex: 'id', render: (id: number) => <a onClick={() => setShown(id)}>#{id}</a> },
    { title: 'Version', key: 'version', render: (_: unknown, d: DeploymentView) => <span>{d.previousVersion ? `${d.previousVersion} → ` : ''}<Typography.Text code>{d.version}</Typography.Text>{d.rollbackOf !== null && <Tag style={{ marginLeft: 6 }}>rollback of #{d.rollbackOf}</Tag>}</span> },
    { title: 'State', dataIndex: 'state', render: (s: DeploymentView['state']) => <Tag color={DEPLOY_STATE_COLOR[s]}>{stateLabel(s)}</Tag> },
    { title: 'Hosts', key: 'hosts', render: (_: unknown, d: DeploymentView) => `${d.progress.updated}/${d.progress.total}${d.progress.failed ? `, ${d.progress.failed} failed` : ''}` },
    { title: 'Reason', dataIndex: 'reason', render: (r: string | null) => r ?? '' },
    { title: 'By', key: 'by', render: (_: unknown, d: DeploymentView) => `${d.createdBy}${d.approvedBy ? `, approved by ${d.approvedBy}` : ''}` },
    { title: 'Started', dataIndex: 'createdAt', render: (t: string) => new Date(t).toLocaleString() },
  ];

  return (
    <Space orientation="vertical" size={12} style={{ width: '100%' }}>
      <Space wrap style={{ width: '100%', justifyContent: 'space-between' }}>
        <Space wrap>
          <Typography.Text type="secondary">Rolling deployments of {node.path}: every host stages the release, then batch by batch switches to it.</Typography.Text>
          {policy && (
            <Space size={4} data-testid="deploy-policy">
              {access.can('deploy.approve') ? (
                <>
                  <Switch size="small" checked={policy.requireApproval} onChange={(v) => void setApproval(v)} aria-label="Require approval" />
                  <span>needs approval{policy.inherited ? ' (inherited)' : ''}</span>
                </>
              ) : (
                policy.requireApproval && <Tag color="gold">needs approval{policy.inherited ? ' (inherited)' : ''}</Tag>
              )}
            </Space>
          )}
        </Space>
        <Space>
          <Button icon={<ReloadOutlined />} onClick={reloadAll}>Reload</Button>
          {mayRun && (
            <Button type="primary" icon={<CloudUploadOutlined />} disabled={busy} title={busy ? `deployment #${active.id} is ${stateLabel(active.state)}` : undefined} onClick={() => setDeploying(true)} data-testid="deploy-new">
              Deploy
            </Button>
          )}
        </Space>
      </Space>
      {!mayRun && <Alert type="info" showIcon data-testid="read-only-note" title={`Read-only here: deploying ${access.needs('deploy.run')}.`} style={{ padding: '4px 12px' }} />}
      {error && <Alert type="error" showIcon title={error} closable onClose={() => setError(undefined)} />}
      <Card size="small" title="Running where" data-testid="running-where">
        {running.length === 0 ? (
          <Typography.Text type="secondary">No host runs {node.path}: bind machines to the node and declare its process.</Typography.Text>
        ) : (
          <Space wrap>
            {running.map((r) => (
              <Tag key={r.hostname} color={r.version ? 'blue' : 'default'} data-testid={`running-${r.hostname}`}>
                {r.hostname}: {r.version ?? 'nothing'} <Typography.Text type="secondary" style={{ fontSize: 11 }}>{r.state}</Typography.Text>
              </Tag>
            ))}
          </Space>
        )}
      </Card>
      {active && <DeploymentPanel key={active.id} id={active.id} onStateChanged={reloadAll} onOpen={setShown} onRolledBack={(d) => {
        setActive(d);
        reloadAll();
      }} />}
      <Card size="small" title="History">
        {pages.error && <Alert type="error" showIcon title={pages.error} />}
        <Table<DeploymentView> size="small" rowKey="id" loading={pages.loading} dataSource={pages.page?.items ?? []} columns={historyColumns} pagination={false} data-testid="deploy-history" onRow={(d) => ({ onDoubleClick: () => setShown(d.id) })} locale={{ emptyText: <span><RocketOutlined /> No deployments of {node.path} yet</span> }} />
        <PagerBar pages={pages} pageSize={PAGE_SIZE} />
      </Card>
      <DeployModal
        nodePath={node.path}
        open={deploying}
        running={running}
        lastStrategy={active?.strategy}
        onClose={() => setDeploying(false)}
        onCreated={(d) => {
          void message.success(`Deployment #${d.id} of ${d.version}: ${stateLabel(d.state)}`);
          setActive(d);
          pages.reload();
        }}
      />
    </Space>
  );
}

/** The Deploy tab descriptor. */
export const deployTab: NodeTab = { key: 'deploy', needs: 'deploy.read', label: 'Deploy', icon: <RocketOutlined />, Component: Deploy };
