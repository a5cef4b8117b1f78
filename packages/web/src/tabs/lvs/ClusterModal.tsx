/**
 * Create or edit an LVS cluster (`PUT /lvs/clusters/{path}`): the service nodes its directors
 * balance, the keepalived flavor, and FULLNAT local-address groups (addresses one per line).
 */
import { Button, Form, Input, Radio, Select, Space } from 'antd';
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { ApiError, api, seg } from '../../api.ts';
import { fieldOf } from '../../components/issues.ts';
import { FormDialog } from '../proxy-shared/FormDialog.tsx';
import type { Flavor, LvsClusterView } from './model.ts';

interface ClusterDraft {
  services: string[];
  flavor: Flavor;
  localAddressGroups: { name?: string; addresses?: string }[];
}

export interface ClusterModalProps {
  path: string;
  open: boolean;
  cluster: LvsClusterView | null;
  /** Offered first in the services list: the node itself when it has virtual services. */
  suggested: string[];
  onClose: () => void;
  onSaved: (c: LvsClusterView) => void;
}

// An issue about one address (`localAddressGroups.0.addresses.3`) belongs to the text area holding them all.
function toAddressField(err: unknown): unknown {
  if (!(err instanceof ApiError)) return err;
  const issues = err.issues.map((i) => {
    const p = fieldOf(i.path);
    return p[0] === 'localAddressGroups' && p[2] === 'addresses' ? { ...i, path: p.slice(0, 3) } : i;
  });
  return new ApiError(err.status, err.code, err.message, issues);
}

/** The LVS cluster dialog; creates the cluster when `cluster` is null. */
export function ClusterModal({ path, open, cluster, suggested, onClose, onSaved }: ClusterModalProps) {
  const initial: ClusterDraft = cluster
    ? { services: cluster.services, flavor: cluster.flavor, localAddressGroups: cluster.localAddressGroups.map((g) => ({ name: g.name, addresses: g.addresses.join('\n') })) }
    : { services: suggested, flavor: 'stock', localAddressGroups: [] };

  async function save(v: ClusterDraft): Promise<void> {
    const body = {
      services: v.services ?? [],
      flavor: v.flavor,
      localAddressGroups: (v.localAddressGroups ?? []).map((g) => ({ name: (g.name ?? '').trim(), addresses: (g.addresses ?? '').split(/[\s,]+/).filter(Boolean) })),
    };
    try {
      onSaved(await api.put<LvsClusterView>(`/lvs/clusters/${seg(path)}`, body));
    } catch (err) {
      throw toAddressField(err);
    }
  }

  return (
    <FormDialog<ClusterDraft> title={cluster ? `LVS cluster ${path}` : `Make ${path} an LVS cluster`} open={open} onClose={onClose} onSubmit={save} initialValues={initial} okText={cluster ? 'Save' : 'Make it a cluster'} width={640}>
      <Form.Item name="services" label="Balanced services" tooltip="Service node paths with LVS virtual services; type a path and press Enter">
        <Select mode="tags" aria-label="Balanced services" placeholder="shop.api" tokenSeparators={[',', ' ']} options={suggested.map((s) => ({ value: s, label: s }))} />
      </Form.Item>
      <Form.Item name="flavor" label="keepalived" tooltip="fullnat: Alibaba's FULLNAT fork, which knows FNAT, syn_proxy and local-address groups">
        <Radio.Group
          optionType="button"
          options={[
            { value: 'stock', label: 'stock keepalived' },
            { value: 'fullnat', label: 'FULLNAT fork' },
          ]}
        />
      </Form.Item>
      <Form.Item label="Local-address groups" tooltip="FULLNAT only: the directors' local addresses FNAT translates through">
        <Form.List name="localAddressGroups">
          {(rows, { add, remove }) => (
            <>
              {rows.map((row, n) => (
                <Space key={row.key} align="start" style={{ display: 'flex' }}>
                  <Form.Item name={[row.name, 'name']} rules={[{ required: true, message: 'a name' }]} style={{ marginBottom: 8 }}>
                    <Input placeholder="laddr_g1" aria-label={`Group ${n + 1} name`} style={{ width: 160 }} />
                  </Form.Item>
                  <Form.Item name={[row.name, 'addresses']} rules={[{ required: true, message: 'one address or more' }]} style={{ marginBottom: 8 }}>
                    <Input.TextArea autoSize={{ minRows: 1, maxRows: 6 }} placeholder="10.0.1.1&#10;10.0.1.2" aria-label={`Group ${n + 1} addresses`} style={{ width: 300 }} />
                  </Form.Item>
                  <MinusCircleOutlined style={{ marginTop: 8 }} aria-label={`Remove group ${n + 1}`} onClick={() => remove(row.name)} />
                </Space>
              ))}
              <Button size="small" icon={<PlusOutlined />} onClick={() => add({ name: '', addresses: '' })}>
                Add group
              </Button>
            </>
          )}
        </Form.List>
      </Form.Item>
    </FormDialog>
  );
}
