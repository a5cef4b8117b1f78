/** Create or edit an Nginx cluster (`PUT /nginx/clusters/{path}`): the domains it serves and how it listens. */
import { Col, Form, Input, Row, Select, Switch } from 'antd';
import { api, seg } from '../../api.ts';
import { FormDialog } from '../proxy-shared/FormDialog.tsx';
import type { DomainView, NginxClusterView } from './model.ts';

interface ClusterDraft {
  domains: string[];
  listenAddress?: string;
  logDir?: string;
  defaultServers: boolean;
}

export interface ClusterModalProps {
  path: string;
  open: boolean;
  cluster: NginxClusterView | null;
  domains: DomainView[];
  onClose: () => void;
  onSaved: (c: NginxClusterView) => void;
}

/** The cluster settings dialog; creates the cluster when `cluster` is null. */
export function ClusterModal({ path, open, cluster, domains, onClose, onSaved }: ClusterModalProps) {
  const initial: ClusterDraft = cluster
    ? { domains: cluster.domains, ...(cluster.listenAddress ? { listenAddress: cluster.listenAddress } : {}), ...(cluster.logDir ? { logDir: cluster.logDir } : {}), defaultServers: cluster.defaultServers }
    : { domains: [], defaultServers: true };

  async function save(v: ClusterDraft): Promise<void> {
    const body = {
      domains: v.domains ?? [],
      ...(v.listenAddress?.trim() ? { listenAddress: v.listenAddress.trim() } : {}),
      ...(v.logDir?.trim() ? { logDir: v.logDir.trim() } : {}),
      defaultServers: v.defaultServers,
    };
    onSaved(await api.put<NginxClusterView>(`/nginx/clusters/${seg(path)}`, body));
  }

  return (
    <FormDialog<ClusterDraft>
      title={cluster ? `Nginx cluster ${path}` : `Make ${path} an Nginx cluster`}
      open={open}
      onClose={onClose}
      onSubmit={save}
      initialValues={initial}
      okText={cluster ? 'Save' : 'Make it a cluster'}
      width={620}
    >
      <Form.Item name="domains" label="Served domains" tooltip="The machines of this node run nginx for these domains; every service routed from them is in the config">
        <Select mode="multiple" allowClear aria-label="Served domains" placeholder="Pick the domains this cluster serves" options={domains.map((d) => ({ value: d.domain, label: d.domain }))} />
      </Form.Item>
      <Row gutter={16}>
        <Col span={12}>
          <Form.Item name="listenAddress" label="Listen address" tooltip="An IPv4 literal or a bracketed IPv6 literal; empty listens on every address">
            <Input placeholder="every address" />
          </Form.Item>
        </Col>
        <Col span={12}>
          <Form.Item name="logDir" label="Log directory" tooltip="Absolute directory of the domains' access and error logs; empty is nginx's prefix">
            <Input placeholder="nginx's prefix" />
          </Form.Item>
        </Col>
      </Row>
      <Form.Item name="defaultServers" label="Default servers" valuePropName="checked" tooltip="Catch-all servers that answer 404 (or refuse TLS) for hosts the cluster does not serve">
        <Switch />
      </Form.Item>
    </FormDialog>
  );
}
