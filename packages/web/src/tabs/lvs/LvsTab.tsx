/**
 * LVS tab: the node's virtual services (VIP, port, scheduler, forwarding incl. FNAT, persistence,
 * syn_proxy, health check), the real servers its instances become, and — when the node is an LVS
 * director cluster — the cluster's settings and published keepalived config.
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, Card, Skeleton, Space, Tag, Typography } from 'antd';
import { NodeIndexOutlined } from '@ant-design/icons';
import { api, ApiError, messageOf, seg } from '../../api.ts';
import { ReadOnlyNote } from '../../components/permissions.tsx';
import { BackendsTable, useInstances } from '../proxy-shared/BackendsTable.tsx';
import type { NodeTab, NodeTabProps } from '../types.ts';
import { ClusterSection } from './ClusterSection.tsx';
import { realPorts, type LvsClusterView, type LvsServiceView } from './model.ts';
import { VirtualServicesCard } from './VirtualServicesCard.tsx';

const orNull = (err: unknown) => {
  if (err instanceof ApiError && err.status === 404) return null;
  throw err;
};

interface Loaded {
  service: LvsServiceView | null;
  cluster: LvsClusterView | null;
}

function Lvs({ node }: NodeTabProps) {
  const path = node.path;
  const [loaded, setLoaded] = useState<Loaded>();
  const [error, setError] = useState<string>();
  const backends = useInstances(path);

  const load = useCallback(async () => {
    try {
      const [service, cluster] = await Promise.all([
        api.get<LvsServiceView>(`/nodes/${seg(path)}/lvs`).catch(orNull),
        api.get<LvsClusterView>(`/lvs/clusters/${seg(path)}`).catch(orNull),
      ]);
      setLoaded({ service, cluster });
      setError(undefined);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [path]);

  useEffect(() => {
    setLoaded(undefined);
    void load();
  }, [load]);

  if (error && !loaded) return <Alert type="error" showIcon title={error} />;
  if (!loaded) return <Skeleton active />;
  const { service, cluster } = loaded;
  const clusterSection = <ClusterSection path={path} cluster={cluster} compact={service !== null} suggested={service ? [path] : []} onChanged={() => void load()} />;

  return (
    <Space orientation="vertical" size={16} style={{ width: '100%' }}>
      {error && <Alert type="error" showIcon title={error} closable onClose={() => setError(undefined)} />}
      <ReadOnlyNote op="lvs.write" what="changing virtual services, cluster settings and published configs" />
      {/* A director node is usually not a service itself: its cluster comes first. */}
      {cluster && !service && clusterSection}
      <VirtualServicesCard path={path} view={service} compact={cluster !== null} onSaved={(v) => setLoaded((l) => l && { ...l, service: v })} />
      {service &&
        realPorts(service.virtualServices).map((port) => (
          <Card
            key={port}
            size="small"
            title={
              <Space>
                Real servers <Tag>port {port}</Tag>
                <Typography.Text type="secondary" style={{ fontSize: 12, fontWeight: 'normal' }}>
                  the node's instances on port {port}
                </Typography.Text>
              </Space>
            }
          >
            <BackendsTable
              path={path}
              port={port}
              instances={backends.instances}
              error={backends.error}
              onReload={() => void backends.reload()}
              describe={(s) =>
                s.state === 'serving' ? (
                  <Typography.Text code>weight {s.weight}</Typography.Text>
                ) : (
                  <span>
                    <Typography.Text code type="warning">weight 0</Typography.Text> <Typography.Text type="secondary">{s.why}: existing connections kept, no new ones</Typography.Text>
                  </span>
                )
              }
            />
          </Card>
        ))}
      {!(cluster && !service) && clusterSection}
    </Space>
  );
}

/** The LVS tab descriptor. */
export const lvsTab: NodeTab = { key: 'lvs', needs: 'lvs.read', label: 'LVS', icon: <NodeIndexOutlined />, Component: Lvs };
