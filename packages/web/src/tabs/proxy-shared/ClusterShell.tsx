/**
 * The frame both cluster kinds share: when the node is a cluster, its settings card (the caller's
 * Descriptions) above the published-config panel; when it is not, the way to make it one.
 */
import type { ReactNode } from 'react';
import { Button, Card, Empty, Space, Typography } from 'antd';
import { ClusterOutlined, EditOutlined, PlusOutlined } from '@ant-design/icons';
import { Allowed } from '../../components/permissions.tsx';
import { ClusterConfigPanel } from './ClusterConfigPanel.tsx';
import type { PublishStatus } from './model.ts';

export interface ClusterShellProps {
  kind: 'nginx' | 'lvs';
  path: string;
  /** Null when the node is not a cluster of this kind. */
  cluster: Pick<PublishStatus, 'lastError'> | null;
  /** The cluster settings as Descriptions (shown when the node is a cluster). */
  settings: ReactNode;
  /** What making this node a cluster means, for the empty card. */
  invitation: string;
  /** The edit/create dialog, rendered always (it is opened with `onEdit`). */
  modal: ReactNode;
  onEdit: () => void;
  /** Show a one-line invitation instead of the full empty card (on a service node). */
  compact: boolean;
  onPublished: () => void;
}

const LABEL = { nginx: 'Nginx', lvs: 'LVS' } as const;

/** Cluster settings and config, or the "make it a cluster" card. */
export function ClusterShell({ kind, path, cluster, settings, invitation, modal, onEdit, compact, onPublished }: ClusterShellProps) {
  const label = `${LABEL[kind]} cluster`;
  if (!cluster) {
    const make = `Make this node an ${label}`;
    return compact ? (
      <Card size="small">
        <Space style={{ width: '100%', justifyContent: 'space-between' }}>
          <Typography.Text type="secondary">This node is not an {label}.</Typography.Text>
          <Allowed op={`${kind}.write`}>
            <Button size="small" icon={<PlusOutlined />} onClick={onEdit}>
              {make}
            </Button>
          </Allowed>
        </Space>
        {modal}
      </Card>
    ) : (
      <Card size="small" title={label}>
        <Empty image={<ClusterOutlined style={{ fontSize: 40, color: '#bfbfbf' }} />} description={invitation}>
          <Allowed op={`${kind}.write`}>
            <Button type="primary" icon={<PlusOutlined />} onClick={onEdit}>
              {make}
            </Button>
          </Allowed>
        </Empty>
        {modal}
      </Card>
    );
  }
  return (
    <Space orientation="vertical" size={16} style={{ width: '100%' }}>
      <Card
        size="small"
        title={
          <Space>
            <ClusterOutlined /> {label}
          </Space>
        }
        extra={
          <Allowed op={`${kind}.write`}>
            <Button size="small" icon={<EditOutlined />} onClick={onEdit}>
              Edit cluster
            </Button>
          </Allowed>
        }
      >
        {settings}
      </Card>
      <ClusterConfigPanel kind={kind} path={path} lastError={cluster.lastError} onPublished={onPublished} />
      {modal}
    </Space>
  );
}
