/**
 * The node as an Nginx cluster: its settings and its published config (plan, apply, versions,
 * rollback); or, when it is not one, the way to make it one.
 */
import { useState } from 'react';
import { App, Descriptions, Space, Tag, Typography } from 'antd';
import { ClusterShell } from '../proxy-shared/ClusterShell.tsx';
import { ClusterModal } from './ClusterModal.tsx';
import type { DomainView, NginxClusterView } from './model.ts';

export interface ClusterSectionProps {
  path: string;
  cluster: NginxClusterView | null;
  domains: DomainView[];
  /** Show a one-line invitation instead of the full empty card (on a service node). */
  compact?: boolean;
  onChanged: () => void;
}

/** Cluster settings and config, or the "make it a cluster" card. */
export function ClusterSection({ compact = false, path, cluster, domains, onChanged }: ClusterSectionProps) {
  const { message } = App.useApp();
  const [editing, setEditing] = useState(false);
  const modal = (
    <ClusterModal
      path={path}
      open={editing}
      cluster={cluster}
      domains={domains}
      onClose={() => setEditing(false)}
      onSaved={() => {
        void message.success(cluster ? `Saved the cluster settings of ${path}` : `${path} is now an Nginx cluster`);
        onChanged();
      }}
    />
  );
  const settings = cluster && (
    <Descriptions size="small" column={{ xs: 1, md: 2, xl: 4 }} data-testid="cluster-settings">
      <Descriptions.Item label="Served domains">
        {cluster.domains.length ? (
          <Space size={4} wrap>
            {cluster.domains.map((d) => (
              <Tag key={d}>{d}</Tag>
            ))}
          </Space>
        ) : (
          <Typography.Text type="secondary">none: the config has no servers</Typography.Text>
        )}
      </Descriptions.Item>
      <Descriptions.Item label="Listen address">{cluster.listenAddress ?? <Typography.Text type="secondary">every address</Typography.Text>}</Descriptions.Item>
      <Descriptions.Item label="Log directory">{cluster.logDir ?? <Typography.Text type="secondary">nginx's prefix</Typography.Text>}</Descriptions.Item>
      <Descriptions.Item label="Default servers">{cluster.defaultServers ? 'yes (404 for other hosts)' : 'no'}</Descriptions.Item>
    </Descriptions>
  );
  return (
    <ClusterShell
      kind="nginx"
      path={path}
      cluster={cluster}
      settings={settings}
      invitation="If this node's machines run nginx, make it a cluster: pick the domains it serves, and Canopy renders, checks and versions its config."
      modal={modal}
      onEdit={() => setEditing(true)}
      compact={compact}
      onPublished={onChanged}
    />
  );
}
