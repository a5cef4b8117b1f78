/**
 * The node as an LVS director cluster: the services it balances, its keepalived flavor and
 * FULLNAT groups, and its published keepalived config; or the way to make it one.
 */
import { useState } from 'react';
import { App, Descriptions, Space, Tag, Typography } from 'antd';
import { ClusterShell } from '../proxy-shared/ClusterShell.tsx';
import { ClusterModal } from './ClusterModal.tsx';
import type { LvsClusterView } from './model.ts';

export interface ClusterSectionProps {
  path: string;
  cluster: LvsClusterView | null;
  /** Service paths to offer when choosing what the cluster balances. */
  suggested: string[];
  /** Show a one-line invitation instead of the full empty card (on a service node). */
  compact?: boolean;
  onChanged: () => void;
}

/** Cluster settings and config, or the "make it a cluster" card. */
export function ClusterSection({ compact = false, path, cluster, suggested, onChanged }: ClusterSectionProps) {
  const { message } = App.useApp();
  const [editing, setEditing] = useState(false);
  const modal = (
    <ClusterModal
      path={path}
      open={editing}
      cluster={cluster}
      suggested={suggested}
      onClose={() => setEditing(false)}
      onSaved={() => {
        void message.success(cluster ? `Saved the cluster settings of ${path}` : `${path} is now an LVS cluster`);
        onChanged();
      }}
    />
  );
  const settings = cluster && (
    <Descriptions size="small" column={{ xs: 1, md: 3 }} data-testid="cluster-settings">
      <Descriptions.Item label="Balanced services">
        {cluster.services.length ? (
          <Space size={4} wrap>
            {cluster.services.map((s) => (
              <Tag key={s}>{s}</Tag>
            ))}
          </Space>
        ) : (
          <Typography.Text type="secondary">none</Typography.Text>
        )}
      </Descriptions.Item>
      <Descriptions.Item label="keepalived">{cluster.flavor === 'fullnat' ? <Tag color="purple">FULLNAT fork</Tag> : 'stock'}</Descriptions.Item>
      <Descriptions.Item label="Local-address groups">
        {cluster.localAddressGroups.length ? cluster.localAddressGroups.map((g) => `${g.name} (${g.addresses.length})`).join(', ') : <Typography.Text type="secondary">none</Typography.Text>}
      </Descriptions.Item>
    </Descriptions>
  );
  return (
    <ClusterShell
      kind="lvs"
      path={path}
      cluster={cluster}
      settings={settings}
      invitation="If this node's machines are LVS directors, make it a cluster: pick the services it balances, and Canopy renders, checks and versions its keepalived config."
      modal={modal}
      onEdit={() => setEditing(true)}
      compact={compact}
      onPublished={onChanged}
    />
  );
}
