/**
 * Nginx tab: how the node's service is served through nginx (domains and URIs, upstream, port,
 * balancing, attributes), the servers its instances become, the global domains, and — when the
 * node is an Nginx cluster — the cluster's settings and published config with plan, apply,
 * versions and rollback.
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, Button, Card, Empty, Skeleton, Space, Tag, Typography } from 'antd';
import { GlobalOutlined, PlusOutlined } from '@ant-design/icons';
import { api, ApiError, messageOf, seg } from '../../api.ts';
import { Allowed, ReadOnlyNote } from '../../components/permissions.tsx';
import { BackendsTable, useInstances } from '../proxy-shared/BackendsTable.tsx';
import type { NodeTab, NodeTabProps } from '../types.ts';
import { ClusterSection } from './ClusterSection.tsx';
import { DomainsCard } from './DomainsCard.tsx';
import type { DomainView, NginxClusterView, NginxServiceView } from './model.ts';
import { ServiceForm } from './ServiceForm.tsx';

const orNull = (err: unknown) => {
  if (err instanceof ApiError && err.status === 404) return null;
  throw err;
};

interface Loaded {
  service: NginxServiceView | null;
  cluster: NginxClusterView | null;
  domains: DomainView[];
}

/** The node's service is not served: a full invitation, or one quiet line on a cluster node. */
function NotServed({ cluster, onStart }: { cluster: boolean; onStart: () => void }) {
  const text = "This node's service is not served through Nginx. Give it domains and URIs to route requests to its instances.";
  if (cluster) {
    return (
      <Card size="small">
        <Space style={{ width: '100%', justifyContent: 'space-between' }}>
          <Typography.Text type="secondary">{text}</Typography.Text>
          <Allowed op="nginx.write">
            <Button size="small" icon={<PlusOutlined />} onClick={onStart}>
              Serve this node through Nginx
            </Button>
          </Allowed>
        </Space>
      </Card>
    );
  }
  return (
    <Card size="small" title="Served through Nginx">
      <Empty image={<GlobalOutlined style={{ fontSize: 40, color: '#bfbfbf' }} />} description={text}>
        <Allowed op="nginx.write">
          <Button type="primary" icon={<PlusOutlined />} onClick={onStart}>
            Serve this node through Nginx
          </Button>
        </Allowed>
      </Empty>
    </Card>
  );
}

function Nginx({ node }: NodeTabProps) {
  const path = node.path;
  const [loaded, setLoaded] = useState<Loaded>();
  const [error, setError] = useState<string>();
  // A node that is not served yet shows its form only once asked to.
  const [starting, setStarting] = useState(false);
  const backends = useInstances(path);

  const load = useCallback(async () => {
    try {
      const [service, cluster, domains] = await Promise.all([
        api.get<NginxServiceView>(`/nodes/${seg(path)}/nginx`).catch(orNull),
        api.get<NginxClusterView>(`/nginx/clusters/${seg(path)}`).catch(orNull),
        api.get<{ items: DomainView[] }>('/domains').then((r) => r.items),
      ]);
      setLoaded({ service, cluster, domains });
      setError(undefined);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [path]);

  useEffect(() => {
    setLoaded(undefined);
    setStarting(false);
    void load();
  }, [load]);

  if (error && !loaded) return <Alert type="error" showIcon title={error} />;
  if (!loaded) return <Skeleton active />;
  const { service, cluster, domains } = loaded;
  const instancePort = backends.instances?.[0]?.port;

  const clusterSection = <ClusterSection path={path} cluster={cluster} compact={service !== null} domains={domains} onChanged={() => void load()} />;
  return (
    <Space orientation="vertical" size={16} style={{ width: '100%' }}>
      {error && <Alert type="error" showIcon title={error} closable onClose={() => setError(undefined)} />}
      <ReadOnlyNote op="nginx.write" what="changing how this node is served, its cluster, domains and published configs" />
      {/* A cluster node is usually not a service itself: its cluster comes first. */}
      {cluster && !service && clusterSection}
      {service || starting ? (
        <Card
          size="small"
          title="Served through Nginx"
          extra={
            service && (
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                upstream <Typography.Text code>{service.effectiveUpstream}</Typography.Text> · saved {new Date(service.updatedAt).toLocaleString()}
              </Typography.Text>
            )
          }
        >
          <ServiceForm
            path={path}
            view={service}
            domains={domains}
            instancePort={instancePort}
            onSaved={(v) => setLoaded((l) => l && { ...l, service: v })}
            onDeleted={() => {
              setStarting(false);
              void load();
            }}
          />
        </Card>
      ) : (
        <NotServed cluster={cluster !== null} onStart={() => setStarting(true)} />
      )}
      {service && (
        <Card
          size="small"
          title={
            <Space>
              Servers <Tag>upstream {service.effectiveUpstream}</Tag>
              <Typography.Text type="secondary" style={{ fontSize: 12, fontWeight: 'normal' }}>
                instances on port {service.port}
              </Typography.Text>
            </Space>
          }
        >
          <BackendsTable
            path={path}
            port={service.port}
            instances={backends.instances}
            error={backends.error}
            onReload={() => void backends.reload()}
            describe={(s) =>
              s.state === 'serving' ? (
                <Typography.Text code>weight={s.weight}</Typography.Text>
              ) : (
                <span>
                  <Typography.Text code type="warning">down</Typography.Text> <Typography.Text type="secondary">{s.why}: no new requests</Typography.Text>
                </span>
              )
            }
          />
        </Card>
      )}
      {!(cluster && !service) && clusterSection}
      <DomainsCard domains={domains} onChanged={() => void load()} />
    </Space>
  );
}

/** The Nginx tab descriptor. */
export const nginxTab: NodeTab = { key: 'nginx', needs: 'nginx.read', label: 'Nginx', icon: <GlobalOutlined />, Component: Nginx };
