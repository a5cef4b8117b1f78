/**
 * What Puppet would be told for one machine under the node: the ENC YAML exactly as
 * `canopy enc HOST` prints it, and the explanation of where each part came from.
 */
import { useCallback, useEffect, useState, type CSSProperties } from 'react';
import { Alert, Button, Col, Empty, Row, Select, Space, Spin, Typography, type SelectProps } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import { api, messageOf, seg } from '../../api.ts';
import type { MachineView, Page } from '../../types.ts';

const MONO: CSSProperties = {
  fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
  fontSize: 12.5,
  background: '#f6f8fa',
  border: '1px solid #eaeef2',
  borderRadius: 6,
  padding: '10px 12px',
  margin: 0,
  whiteSpace: 'pre-wrap',
  wordBreak: 'break-word',
  maxHeight: 420,
  overflow: 'auto',
};

export interface EncPreviewProps {
  path: string;
  /** Hosts with an open install request here: the ENC answers for them too. */
  pending: readonly string[];
  /** Changes whenever the configuration was saved, so the preview follows. */
  revision: number;
}

interface Answer {
  yaml: string;
  explain: string;
}

/** Pick a host under the node and show its ENC answer. */
export function EncPreview({ path, pending, revision }: EncPreviewProps) {
  const [q, setQ] = useState('');
  const [machines, setMachines] = useState<MachineView[]>();
  const [host, setHost] = useState<string>();
  const [answer, setAnswer] = useState<Answer>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    let live = true;
    api
      .get<Page<MachineView>>('/machines', { under: path, q, limit: 50 })
      .then((p) => live && setMachines(p.items))
      .catch((err: unknown) => live && setError(messageOf(err)));
    return () => {
      live = false;
    };
  }, [path, q]);

  // Start from the first machine, so the preview shows something without a click.
  useEffect(() => {
    if (host === undefined && machines?.[0]) setHost(machines[0].hostname);
  }, [machines, host]);

  const load = useCallback(async (h: string) => {
    setLoading(true);
    try {
      const [yaml, explain] = await Promise.all([
        api.get<string>(`/enc/${seg(h)}`, { format: 'yaml' }),
        api.get<string>(`/enc/${seg(h)}`, { format: 'yaml', explain: 1 }),
      ]);
      setAnswer({ yaml, explain });
      setError(undefined);
    } catch (err) {
      setAnswer(undefined);
      setError(`No ENC answer for ${h}: ${messageOf(err)}`);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    if (host) void load(host);
  }, [host, revision, load]);

  const hostOptions = (machines ?? []).map((m) => ({ value: m.hostname, label: m.hostname }));
  const pendingOptions = pending.filter((h) => !hostOptions.some((o) => o.value === h)).map((h) => ({ value: h, label: `${h} (being installed)` }));
  const options: SelectProps['options'] = pendingOptions.length > 0 ? [{ label: 'Machines', options: hostOptions }, { label: 'Install requests', options: pendingOptions }] : hostOptions;

  return (
    <Space orientation="vertical" size={12} style={{ width: '100%' }}>
      <Space wrap>
        <Select
          aria-label="Preview host"
          placeholder="Pick a machine under this node"
          style={{ width: 360 }}
          value={host ?? null}
          loading={machines === undefined}
          showSearch={{ filterOption: false, onSearch: setQ }}
          options={options}
          onChange={(h: string) => setHost(h)}
          notFoundContent={machines === undefined ? <Spin size="small" /> : 'No machine under this node'}
        />
        <Button icon={<ReloadOutlined />} disabled={!host} loading={loading} onClick={() => host && void load(host)}>
          Refresh
        </Button>
      </Space>
      {error && <Alert type="warning" showIcon title={error} />}
      {!host && machines?.length === 0 && pending.length === 0 && <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description="No machine under this node to preview" />}
      {answer && (
        <Row gutter={16}>
          <Col xs={24} lg={10}>
            <Typography.Text strong>ENC output</Typography.Text> <Typography.Text type="secondary">(what Puppet receives)</Typography.Text>
            <pre style={{ ...MONO, marginTop: 6 }} data-testid="enc-yaml">
              {answer.yaml}
            </pre>
          </Col>
          <Col xs={24} lg={14}>
            <Typography.Text strong>Where it came from</Typography.Text>
            <pre style={{ ...MONO, marginTop: 6 }} data-testid="enc-explain">
              {answer.explain}
            </pre>
          </Col>
        </Row>
      )}
    </Space>
  );
}
