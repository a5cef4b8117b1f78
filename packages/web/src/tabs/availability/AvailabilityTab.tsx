/**
 * Availability tab: the service's availability from its nginx access logs over a chosen window
 * (rate, p50/p99), its SLO with the error budget left and the burn-rate alerts, each backend with
 * its own figures and whether it is ejected, the routes, the ejection history; and, with
 * availability.write, the SLO and ejection settings.
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Card, Col, Empty, Form, Input, InputNumber, Modal, Progress, Row, Segmented, Space, Statistic, Switch, Table, Tag, Tooltip, Typography } from 'antd';
import { LineChartOutlined, ReloadOutlined, SettingOutlined } from '@ant-design/icons';
import { api, messageOf, seg } from '../../api.ts';
import { useAccess } from '../../components/permissions.tsx';
import type { NodeTab, NodeTabProps } from '../types.ts';
import { budgetPercent, formOf, health, millis, perSecond, percent, settingsOf, type BackendRow, type Ejection, type ServiceAvailability, type SettingsForm } from './model.ts';

const WINDOWS = ['5m', '1h', '1d', '28d'];

function Availability({ node }: NodeTabProps) {
  const { message } = App.useApp();
  const access = useAccess();
  const base = `/monitor/availability/services/${seg(node.path)}`;
  const [window, setWindow] = useState('5m');
  const [view, setView] = useState<ServiceAvailability>();
  const [ejections, setEjections] = useState<Ejection[]>([]);
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [editing, setEditing] = useState(false);
  const [form] = Form.useForm<SettingsForm>();

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const [v, e] = await Promise.all([api.get<ServiceAvailability>(base, { window }), api.get<{ items: Ejection[] }>(`${base}/ejections`)]);
      setView(v);
      setEjections(e.items);
      setError(undefined);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setLoading(false);
    }
  }, [base, window]);
  useEffect(() => {
    void load();
    const t = setInterval(() => void load(), 10_000);
    return () => clearInterval(t);
  }, [load]);

  const save = async () => {
    if (!view) return;
    try {
      await api.put(`${base}/settings`, settingsOf(await form.validateFields(), view.settings));
      void message.success('Settings saved');
      setEditing(false);
      await load();
    } catch (err) {
      if (err instanceof Error) setError(messageOf(err));
    }
  };

  if (error && !view) return <Alert type="error" showIcon message={error} />;
  if (!view) return null;
  const target = view.slo.target;
  const firing = view.slo.alerts.filter((a) => a.firing);

  return (
    <Space direction="vertical" style={{ width: '100%' }} size="middle">
      <Space wrap>
        <Segmented options={WINDOWS} value={window} onChange={(v) => setWindow(String(v))} />
        <Button icon={<ReloadOutlined />} onClick={() => void load()} loading={loading}>Refresh</Button>
        {access.can('availability.write') && (
          <Button icon={<SettingOutlined />} onClick={() => { form.setFieldsValue(formOf(view.settings)); setEditing(true); }}>SLO and ejection</Button>
        )}
      </Space>
      {error && <Alert type="error" showIcon message={error} closable onClose={() => setError(undefined)} />}
      {firing.map((a) => (
        <Alert key={a.name} type={a.severity === 'page' ? 'error' : 'warning'} showIcon
          message={`Error budget burning ${a.longBurn.toFixed(1)}× too fast (${a.name}, ${a.severity})`}
          description={`Both windows exceed ${a.burnRate}×: long ${a.longBurn.toFixed(1)}×, short ${a.shortBurn.toFixed(1)}×.`} />
      ))}
      {view.total === 0 && view.slo.total === 0 ? (
        <Empty image={<LineChartOutlined style={{ fontSize: 48 }} />} description="No requests counted for this service yet: its nginx cluster's agents push counts every 10 s once nginx routes to it." />
      ) : (
        <Row gutter={16}>
          <Col span={6}><Card data-testid="availability-figure"><Statistic title={`Availability (${window})`} value={percent(view.availability)} /><Progress percent={Math.round((view.availability ?? 0) * 1000) / 10} status={health(view.availability, target)} showInfo={false} /></Card></Col>
          <Col span={6}><Card><Statistic title="Requests" value={view.total} suffix={<Typography.Text type="secondary">{perSecond(view.rate)}</Typography.Text>} /><Typography.Text type="secondary">{view.failed} failed</Typography.Text></Card></Col>
          <Col span={6}><Card><Statistic title="Latency p50 / p99" value={`${millis(view.p50Ms)} / ${millis(view.p99Ms)}`} /></Card></Col>
          <Col span={6}>
            <Card data-testid="availability-slo">
              <Statistic title={`SLO ${percent(target)} over ${view.slo.windowDays} d`} value={percent(view.slo.availability)} />
              <Tooltip title="Error budget left"><Progress percent={budgetPercent(view.slo.budgetLeft)} status={budgetPercent(view.slo.budgetLeft) > 0 ? 'normal' : 'exception'} /></Tooltip>
            </Card>
          </Col>
        </Row>
      )}
      <Table<BackendRow>
        data-testid="availability-backends" size="small" rowKey="backend" pagination={false} title={() => 'Backends (each upstream attempt)'} dataSource={view.backends}
        columns={[
          { title: 'Backend', dataIndex: 'backend' },
          { title: 'Machine', dataIndex: 'hostname' },
          { title: 'Availability', key: 'a', render: (_, b) => <Progress size="small" style={{ width: 160 }} percent={Math.round((b.availability ?? 1) * 1000) / 10} status={health(b.availability, target)} format={() => percent(b.availability, 2)} /> },
          { title: 'Attempts', dataIndex: 'total' },
          { title: 'Rate', key: 'r', render: (_, b) => perSecond(b.rate) },
          { title: 'p50 / p99', key: 'l', render: (_, b) => `${millis(b.p50Ms)} / ${millis(b.p99Ms)}` },
          { title: 'State', key: 's', render: (_, b) => (b.ejected ? <Tag color="red">ejected until {new Date(b.ejectedUntil!).toLocaleTimeString()}</Tag> : b.spared ? <Tooltip title={b.spared}><Tag color="orange">failing, spared</Tag></Tooltip> : <Tag color="green">in service</Tag>) },
        ]}
      />
      <Table size="small" rowKey={(r) => `${r.domain}${r.location}`} pagination={false} title={() => 'Routes'} dataSource={view.routes}
        columns={[
          { title: 'Domain', dataIndex: 'domain' },
          { title: 'Location', dataIndex: 'location', render: (l: string) => <code>{l}</code> },
          { title: 'Availability', key: 'a', render: (_, r) => percent(r.availability) },
          { title: 'Requests', dataIndex: 'total' },
          { title: 'p99', key: 'p', render: (_, r) => millis(r.p99Ms) },
        ]}
      />
      <Table<Ejection> data-testid="availability-ejections" size="small" rowKey="id" pagination={{ pageSize: 10 }} title={() => 'Ejections'} dataSource={ejections}
        columns={[
          { title: 'Ejected', dataIndex: 'ejectedAt', render: (t: string) => new Date(t).toLocaleString() },
          { title: 'Machine', key: 'h', render: (_, e) => e.hostname ?? e.backend },
          { title: 'Why', key: 'w', render: (_, e) => <Tooltip title={e.detail}><Tag>{e.reason}</Tag></Tooltip> },
          { title: 'Until', dataIndex: 'untilAt', render: (t: string) => new Date(t).toLocaleTimeString() },
          { title: 'Returned', dataIndex: 'returnedAt', render: (t: string | null) => (t ? new Date(t).toLocaleString() : <Tag color="red">still ejected</Tag>) },
        ]}
      />
      <Modal title="SLO and automatic ejection" open={editing} onOk={() => void save()} onCancel={() => setEditing(false)} okText="Save">
        <Form form={form} layout="vertical">
          <Form.Item name="target" label="SLO target (%)" rules={[{ required: true, type: 'number', min: 50, max: 99.999 }]}><InputNumber step={0.01} style={{ width: 160 }} /></Form.Item>
          <Form.Item name="windowDays" label="SLO window (days)" rules={[{ required: true, type: 'number', min: 1, max: 90 }]}><InputNumber style={{ width: 160 }} /></Form.Item>
          <Form.Item name="failStatuses" label="Failures (codes or classes)" rules={[{ required: true, pattern: /^\s*([1-5](xx|\d\d))(\s*,\s*[1-5](xx|\d\d))*\s*$/, message: 'e.g. 5xx, 429' }]}><Input /></Form.Item>
          <Form.Item name="enabled" label="Eject failing backends" valuePropName="checked"><Switch /></Form.Item>
          <Form.Item name="consecutive5xx" label="Consecutive 5xx that eject (0: off)" rules={[{ required: true, type: 'number', min: 0, max: 1000 }]}><InputNumber /></Form.Item>
          <Form.Item name="baseEjectionSeconds" label="Base ejection time (s), × times ejected, capped" rules={[{ required: true, type: 'number', min: 1, max: 3600 }]}><InputNumber /></Form.Item>
          <Form.Item name="maxEjectionPercent" label="Most backends ejected at once (%)" rules={[{ required: true, type: 'number', min: 0, max: 100 }]}><InputNumber /></Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}

export const availabilityTab: NodeTab = { key: 'availability', label: 'Availability', icon: <LineChartOutlined />, needs: 'availability.read', Component: Availability };
