/** Builds tab: the node's builds (newest first), its build pool, a dialog to start one, and each build's live log. */
import { useEffect, useState } from 'react';
import { Alert, App, Button, Space, Table, Tag, Typography } from 'antd';
import { BuildOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { api, messageOf, seg } from '../../api.ts';
import { PagerBar } from '../../components/PagerBar.tsx';
import { useAccess } from '../../components/permissions.tsx';
import { useCursorPages } from '../../components/useCursorPages.ts';
import type { NodeTab, NodeTabProps } from '../types.ts';
import { BuildDetail } from './BuildDetail.tsx';
import { BUILD_STATE_COLOR, durationText, type BuildSettingsView, type BuildView } from './model.ts';
import { NewBuildModal } from './NewBuildModal.tsx';

const PAGE_SIZE = 20;

function Builds({ node }: NodeTabProps) {
  const { message } = App.useApp();
  const access = useAccess();
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<number>();
  const [settings, setSettings] = useState<BuildSettingsView>();
  const [settingsError, setSettingsError] = useState<string>();
  const mayRun = access.can('deploy.run');
  const pages = useCursorPages<BuildView>(node.path, async (cursor) => {
    const p = await api.get<{ items: BuildView[]; nextCursor: string | null }>('/builds', { under: node.path, limit: PAGE_SIZE, before: cursor });
    return p.nextCursor ? { items: p.items, nextCursor: p.nextCursor } : { items: p.items };
  });

  useEffect(() => {
    setSettings(undefined);
    api.get<BuildSettingsView>(`/nodes/${seg(node.path)}/build-settings`).then(setSettings, (err: unknown) => setSettingsError(messageOf(err)));
  }, [node.path]);

  if (shown !== undefined) {
    return (
      <BuildDetail
        id={shown}
        onBack={() => {
          setShown(undefined);
          pages.reload();
        }}
      />
    );
  }

  const pool = settings?.effective.pool.value ?? null;
  const from = settings?.effective.pool.from;
  const columns = [
    { title: 'Build', dataIndex: 'id', render: (id: number) => <a onClick={() => setShown(id)}>#{id}</a> },
    { title: 'State', dataIndex: 'state', render: (s: BuildView['state']) => <Tag color={BUILD_STATE_COLOR[s]}>{s}</Tag> },
    { title: 'Service', dataIndex: 'nodePath' },
    { title: 'Ref', key: 'ref', render: (_: unknown, b: BuildView) => <Typography.Text code>{b.ref}{b.commit ? ` ${b.commit.slice(0, 8)}` : ''}</Typography.Text> },
    { title: 'Version', key: 'version', render: (_: unknown, b: BuildView) => b.artifact?.version ?? b.version ?? '' },
    { title: 'Machine', dataIndex: 'hostname', render: (h: string | null) => h ?? '' },
    { title: 'Took', dataIndex: 'durationMs', render: (ms: number | null) => durationText(ms) },
    { title: 'By', dataIndex: 'createdBy' },
    { title: 'Created', dataIndex: 'createdAt', render: (t: string) => new Date(t).toLocaleString() },
  ];

  return (
    <Space orientation="vertical" size={12} style={{ width: '100%' }}>
      <Space wrap style={{ width: '100%', justifyContent: 'space-between' }}>
        <Typography.Text type="secondary" data-testid="build-pool">
          {pool ? `Builds run on the machines of ${pool}${from && from !== node.path ? ` (set on ${from})` : ''}, ${settings?.effective.maxPerMachine.value ?? 1} at once per machine.` : 'No build pool applies here: set one on this node or an ancestor (canopy build settings set).'}
        </Typography.Text>
        <Space>
          <Button icon={<ReloadOutlined />} onClick={pages.reload}>
            Reload
          </Button>
          {mayRun && (
            <Button type="primary" icon={<PlusOutlined />} disabled={!pool} onClick={() => setCreating(true)} data-testid="new-build">
              New build
            </Button>
          )}
        </Space>
      </Space>
      {!mayRun && <Alert type="info" showIcon data-testid="read-only-note" title={`Read-only here: starting a build ${access.needs('deploy.run')}.`} style={{ padding: '4px 12px' }} />}
      {settingsError && <Alert type="warning" showIcon title={settingsError} />}
      {pages.error && <Alert type="error" showIcon title={pages.error} />}
      <Table<BuildView>
        size="middle"
        rowKey="id"
        loading={pages.loading}
        dataSource={pages.page?.items ?? []}
        columns={columns}
        pagination={false}
        onRow={(b) => ({ onDoubleClick: () => setShown(b.id) })}
      />
      <PagerBar pages={pages} pageSize={PAGE_SIZE} />
      <NewBuildModal
        nodePath={node.path}
        pool={pool}
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(b) => {
          void message.success(`Build #${b.id} ${b.state === 'queued' ? 'queued' : 'started'}`);
          setShown(b.id);
        }}
      />
    </Space>
  );
}

/** The Builds tab descriptor. */
export const buildsTab: NodeTab = { key: 'builds', needs: 'deploy.read', label: 'Builds', icon: <BuildOutlined />, Component: Builds };
