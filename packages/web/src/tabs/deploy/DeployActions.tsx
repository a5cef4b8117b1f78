/**
 * The buttons of one deployment: approve, pause, resume, stop, roll back — only those its state
 * allows and the caller's operations permit (`allowedActions`). Stop and roll back ask first.
 * A refusal (approving one's own deployment, a state that moved on) shows the server's words.
 */
import { useState, type ReactNode } from 'react';
import { App, Button, Popconfirm, Space } from 'antd';
import { CaretRightOutlined, CheckOutlined, PauseOutlined, RollbackOutlined, StopOutlined } from '@ant-design/icons';
import { api, messageOf } from '../../api.ts';
import { useAccess } from '../../components/permissions.tsx';
import { allowedActions, type DeployAction, type DeploymentDetailView, type DeploymentView } from './model.ts';

const LOOK: Record<DeployAction, { label: string; icon: ReactNode; danger?: boolean; primary?: boolean }> = {
  approve: { label: 'Approve', icon: <CheckOutlined />, primary: true },
  pause: { label: 'Pause', icon: <PauseOutlined /> },
  resume: { label: 'Resume', icon: <CaretRightOutlined />, primary: true },
  stop: { label: 'Stop', icon: <StopOutlined />, danger: true },
  rollback: { label: 'Roll back', icon: <RollbackOutlined />, danger: true },
};

export interface DeployActionsProps {
  d: DeploymentDetailView;
  /** The deployment as an action left it (pause, resume, stop, approve answer its summary). */
  onChanged: (d: DeploymentView) => void;
  /** A rollback started: the new deployment of the previous version. */
  onRolledBack: (d: DeploymentDetailView) => void;
  onError: (message: string | undefined) => void;
}

/** The action buttons of `d`. */
export function DeployActions({ d, onChanged, onRolledBack, onError }: DeployActionsProps) {
  const { message } = App.useApp();
  const access = useAccess();
  const [busy, setBusy] = useState<DeployAction>();
  const actions = allowedActions(d, access.can);

  async function run(action: DeployAction): Promise<void> {
    setBusy(action);
    onError(undefined);
    try {
      if (action === 'rollback') {
        const next = await api.post<DeploymentDetailView>(`/deployments/${d.id}/rollback`);
        void message.success(`Rolling back to ${next.version}: deployment #${next.id}`);
        onRolledBack(next);
      } else {
        onChanged(await api.post<DeploymentView>(`/deployments/${d.id}/${action}`));
        void message.success(`Deployment #${d.id}: ${action === 'stop' ? 'stopping' : `${action}d`}`);
      }
    } catch (err) {
      onError(messageOf(err));
    } finally {
      setBusy(undefined);
    }
  }

  const confirmText: Partial<Record<DeployAction, string>> = {
    stop: 'Stop this deployment? Hosts switching now finish; the others keep their version.',
    rollback: `Roll back to ${d.previousVersion ?? 'the previous version'}? A new deployment puts it back on the hosts.`,
  };

  return (
    <Space wrap data-testid="deploy-actions">
      {actions.map((a) => {
        const look = LOOK[a];
        const button = (
          <Button key={a} icon={look.icon} danger={look.danger ?? false} type={look.primary ? 'primary' : 'default'} loading={busy === a} disabled={busy !== undefined && busy !== a} onClick={confirmText[a] ? undefined : () => void run(a)} data-testid={`deploy-${a}`}>
            {look.label}
          </Button>
        );
        const ask = confirmText[a];
        return ask ? (
          <Popconfirm key={a} title={ask} okText={look.label} onConfirm={() => run(a)}>
            {button}
          </Popconfirm>
        ) : (
          button
        );
      })}
    </Space>
  );
}
