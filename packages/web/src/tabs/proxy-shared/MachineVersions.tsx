/**
 * Which version each machine of a proxy cluster runs (`GET …/machines`): the rollout's target and
 * state on top, then one row per machine with a tag for those lagging behind, applying or failed
 * (the failure's output expands under its row). Re-read every few seconds while shown, since a
 * rollout moves on as the machines' agents report.
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { api, messageOf, seg } from '../../api.ts';
import { CHECKER, when, type ProxyKind } from './model.ts';
import { ProgramOutput } from './ProgramOutput.tsx';

type MachineState = 'current' | 'applying' | 'failed' | 'lagging' | 'none';

/** The server's per-machine view of a cluster's rollout. */
export interface ClusterMachinesView {
  cluster: string;
  latest: number;
  rollout: { version: number; state: 'canary' | 'rolling' | 'done' | 'failed'; canary: string | null; failedOn: string | null; error: string | null; startedAt: string | null } | null;
  machines: { hostname: string; version: number | null; target: number; state: MachineState; lagging: boolean; appliedAt: string | null; task: { state: string | null } | null; failedVersion: number | null; error: string | null; agent: string }[];
}
type Row = ClusterMachinesView['machines'][number];

const POLL_MS = 3000;
const TAG: Record<MachineState, { color: string; label: string }> = {
  current: { color: 'green', label: 'current' },
  none: { color: 'default', label: 'nothing published' },
  applying: { color: 'blue', label: 'applying' },
  lagging: { color: 'orange', label: 'lagging' },
  failed: { color: 'red', label: 'failed' },
};
const ROLLOUT: Record<NonNullable<ClusterMachinesView['rollout']>['state'], string> = {
  canary: 'going to its first machine',
  rolling: 'going to the rest',
  done: 'on every machine',
  failed: 'stopped',
};

/** The machines table of the `kind` cluster at `path`. */
export function MachineVersions({ kind, path }: { kind: ProxyKind; path: string }) {
  const [view, setView] = useState<ClusterMachinesView>();
  const [error, setError] = useState<string>();
  const load = useCallback(async () => {
    try {
      setView(await api.get<ClusterMachinesView>(`/${kind}/clusters/${seg(path)}/machines`));
      setError(undefined);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [kind, path]);
  useEffect(() => {
    void load();
    const t = setInterval(() => void load(), POLL_MS);
    return () => clearInterval(t);
  }, [load]);

  const r = view?.rollout;
  return (
    <Space orientation="vertical" size={8} style={{ width: '100%' }} data-testid="machine-versions">
      {error && <Alert type="error" showIcon title={error} />}
      {r && (
        <Typography.Text data-testid="rollout-state">
          v{r.version} {ROLLOUT[r.state]}
          {r.canary ? `; first machine ${r.canary}` : ''}
          {r.startedAt ? `, since ${when(r.startedAt)}` : ''}
        </Typography.Text>
      )}
      {r?.state === 'failed' && <Alert type="error" showIcon title={`The rollout of v${r.version} stopped at ${r.failedOn ?? 'a machine'}; the others keep the version they run`} />}
      <Table<Row>
        size="small"
        rowKey="hostname"
        loading={view === undefined && !error}
        dataSource={view?.machines ?? []}
        pagination={false}
        locale={{ emptyText: 'No machine is bound to this cluster node.' }}
        expandable={{
          rowExpandable: (m) => m.error !== null,
          expandedRowRender: (m) => <ProgramOutput type="error" title={`v${m.failedVersion ?? '?'} failed on ${m.hostname} (${CHECKER[kind]} or the reload)`} output={m.error ?? ''} />,
        }}
        columns={[
          { title: 'Machine', dataIndex: 'hostname' },
          { title: 'Runs', render: (_, m) => (m.version === null ? <Typography.Text type="secondary">nothing yet</Typography.Text> : <Tag>v{m.version}</Tag>) },
          { title: 'Target', render: (_, m) => (m.target === 0 ? '' : `v${m.target}`) },
          {
            title: 'State',
            render: (_, m) => (
              <Tooltip title={m.error ?? (m.task?.state ? `task ${m.task.state}` : undefined)}>
                <Tag color={TAG[m.state].color} data-testid={`machine-state-${m.hostname}`}>
                  {TAG[m.state].label}
                </Tag>
              </Tooltip>
            ),
          },
          { title: 'Applied', render: (_, m) => (m.appliedAt ? when(m.appliedAt) : '') },
          { title: 'Agent', dataIndex: 'agent' },
        ]}
      />
    </Space>
  );
}
