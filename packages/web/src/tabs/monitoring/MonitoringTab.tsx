/**
 * Monitoring tab: the alerts live under the node (acknowledge, silence), the rules in force here with
 * where each comes from (override, disable here, remove), silences, and the node's alert history.
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert as Notice, App, Button, Card, Col, Input, InputNumber, Modal, Popconfirm, Radio, Row, Segmented, Select, Space, Table, Tag, Typography } from 'antd';
import { AlertOutlined, DeleteOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { api, messageOf, seg } from '../../api.ts';
import { useAccess } from '../../components/permissions.tsx';
import type { NodeTab, NodeTabProps } from '../types.ts';
import { conditionsText, labelsText, originText, parseRuleBody, ruleBody, ruleFormOf, ruleFromForm, RULE_OPERATORS, SEVERITY_COLOR, silenceScope, STATE_COLOR, type Alert, type EffectiveRule, type RuleForm, type RulesView, type SilenceView } from './model.ts';

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '');

function Monitoring({ node }: NodeTabProps) {
  const { message } = App.useApp();
  const access = useAccess();
  const mayWrite = access.can('monitor.write');
  const rulesUrl = `/nodes/${seg(node.path)}/alert-rules`;
  const [rules, setRules] = useState<RulesView>();
  const [active, setActive] = useState<Alert[]>([]);
  const [history, setHistory] = useState<Alert[]>([]);
  const [silences, setSilences] = useState<SilenceView[]>([]);
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  // The editor: a form of the common fields over the rule's whole body (`base`), or that body as JSON.
  const [editing, setEditing] = useState<{ name: string; fixedName: boolean; mode: 'form' | 'json'; base: Record<string, unknown>; form: RuleForm; text: string }>();
  const [silencing, setSilencing] = useState<{ rule?: string; machine?: string; hours: string; comment: string }>();

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const [r, a, h, s] = await Promise.all([
        api.get<RulesView>(rulesUrl),
        api.get<{ items: Alert[] }>('/monitor/alerts', { under: node.path, limit: 1000 }),
        api.get<{ items: Alert[] }>('/monitor/alerts', { under: node.path, state: 'all', limit: 100 }),
        api.get<{ items: SilenceView[] }>('/monitor/silences', { under: node.path }),
      ]);
      setRules(r);
      setActive(a.items);
      setHistory(h.items);
      setSilences(s.items);
      setError(undefined);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setLoading(false);
    }
  }, [rulesUrl, node.path]);
  useEffect(() => void load(), [load]);

  const act = async (what: string, fn: () => Promise<unknown>): Promise<boolean> => {
    try {
      await fn();
      void message.success(what);
      await load();
      return true;
    } catch (err) {
      setError(messageOf(err));
      return false;
    }
  };

  const edit = (name: string, fixedName: boolean, text: string) => {
    const base = parseRuleBody(text) as Record<string, unknown>;
    setEditing({ name, fixedName, mode: 'form', base, form: ruleFormOf(base), text });
  };
  /** The body the editor holds now, or why it cannot be sent. */
  const editedBody = (): Record<string, unknown> | string => (editing!.mode === 'json' ? parseRuleBody(editing!.text) : ruleFromForm(editing!.form, editing!.base));
  const switchMode = (mode: 'form' | 'json') => {
    if (!editing || mode === editing.mode) return;
    const body = editedBody();
    if (typeof body === 'string') return setError(body);
    setError(undefined);
    setEditing({ ...editing, mode, base: body, form: ruleFormOf(body), text: JSON.stringify(body, null, 2) });
  };
  const setForm = (patch: Partial<RuleForm>) => editing && setEditing({ ...editing, form: { ...editing.form, ...patch } });
  const setCondition = (i: number, patch: Partial<RuleForm['conditions'][number]>) => editing && setForm({ conditions: editing.form.conditions.map((c, j) => (j === i ? { ...c, ...patch } : c)) });

  const saveRule = async () => {
    if (!editing) return;
    const body = editedBody();
    if (typeof body === 'string') return setError(body);
    if (await act(`Saved ${editing.name}`, () => api.put(`${rulesUrl}/${seg(editing.name)}`, body))) setEditing(undefined);
  };
  const saveSilence = async () => {
    if (!silencing) return;
    const hours = Number(silencing.hours);
    const body = { node: node.path, comment: silencing.comment, endsAt: new Date(Date.now() + hours * 3_600_000).toISOString(), ...(silencing.rule ? { rule: silencing.rule } : {}), ...(silencing.machine ? { machine: silencing.machine } : {}) };
    if (await act('Silenced', () => api.post('/monitor/silences', body))) setSilencing(undefined);
  };

  const alertColumns = (withActions: boolean) => [
    { title: 'State', key: 'state', render: (_: unknown, a: Alert) => <Space size={2}><Tag color={STATE_COLOR[a.state]}>{a.state}</Tag>{a.silenced && <Tag>silenced</Tag>}{a.ackedBy && <Tag color="blue">ack {a.ackedBy}</Tag>}</Space> },
    { title: 'Severity', dataIndex: 'severity', render: (s: string) => <Tag color={SEVERITY_COLOR[s]}>{s}</Tag> },
    { title: 'Rule', dataIndex: 'rule' },
    { title: 'Machine', key: 'machine', render: (_: unknown, a: Alert) => `${a.machine}${labelsText(a.labels)}` },
    { title: 'Value', dataIndex: 'value', render: (v: number | null) => (v === null ? '' : String(Number(v.toPrecision(6)))) },
    { title: 'Node', dataIndex: 'node' },
    { title: 'Rule from', dataIndex: 'origin' },
    { title: 'Since', key: 'since', render: (_: unknown, a: Alert) => when(a.firedAt ?? a.startedAt) },
    ...(withActions ? [] : [{ title: 'Resolved', key: 'resolved', render: (_: unknown, a: Alert) => when(a.resolvedAt) }]),
    ...(withActions && mayWrite
      ? [{
          title: '', key: 'actions', render: (_: unknown, a: Alert) => (
            <Space size={4}>
              {!a.ackedBy && a.state !== 'resolved' && <Button size="small" onClick={() => void act(`Acknowledged ${a.rule} on ${a.machine}`, () => api.post(`/monitor/alerts/${a.id}/ack`, { comment: '' }))}>Ack</Button>}
              <Button size="small" onClick={() => setSilencing({ rule: a.rule, machine: a.machine, hours: '2', comment: '' })}>Silence</Button>
            </Space>
          ),
        }]
      : []),
  ];

  const ruleColumns = [
    { title: 'Name', dataIndex: 'name' },
    { title: 'Severity', key: 'severity', render: (_: unknown, r: EffectiveRule) => (r.disabled ? <Tag>disabled here</Tag> : <Tag color={SEVERITY_COLOR[r.severity]}>{r.severity}</Tag>) },
    { title: 'Conditions', key: 'conditions', render: (_: unknown, r: EffectiveRule) => <Typography.Text code>{conditionsText(r.conditions)}</Typography.Text> },
    { title: 'For', key: 'for', render: (_: unknown, r: EffectiveRule) => (r.forSeconds ? `${r.forSeconds}s` : '') },
    { title: 'Receivers', key: 'receivers', render: (_: unknown, r: EffectiveRule) => r.receivers.join(', ') },
    { title: 'From', key: 'from', render: (_: unknown, r: EffectiveRule) => <Tag color={r.inherited ? 'default' : 'blue'}>{originText(r)}</Tag> },
    ...(mayWrite
      ? [{
          title: '', key: 'actions', render: (_: unknown, r: EffectiveRule) => (
            <Space size={4}>
              {!r.disabled && <Button size="small" onClick={() => edit(r.name, true, ruleBody(r))}>{r.inherited ? 'Override' : 'Edit'}</Button>}
              {r.inherited ? (
                <Popconfirm title={`Disable ${r.name} on ${node.path} and below?`} onConfirm={() => void act(`Disabled ${r.name} here`, () => api.put(`${rulesUrl}/${seg(r.name)}`, { disabled: true }))}>
                  <Button size="small">Disable here</Button>
                </Popconfirm>
              ) : (
                <Popconfirm title={r.overrides.length ? `Remove? ${r.overrides[0]}'s rule applies again.` : `Remove ${r.name} from ${node.path} and below?`} onConfirm={() => void act(`Removed ${r.name}`, () => api.del(`${rulesUrl}/${seg(r.name)}`))}>
                  <Button size="small" danger>{r.disabled ? 'Enable again' : 'Remove'}</Button>
                </Popconfirm>
              )}
            </Space>
          ),
        }]
      : []),
  ];

  return (
    <Space orientation="vertical" size={12} style={{ width: '100%' }}>
      <Space wrap style={{ width: '100%', justifyContent: 'space-between' }}>
        <Typography.Text type="secondary">Alert rules set here apply to every machine under {node.path}; a rule of the same name below overrides them.</Typography.Text>
        <Space>
          <Button icon={<ReloadOutlined />} onClick={() => void load()}>Reload</Button>
          {mayWrite && <Button onClick={() => setSilencing({ hours: '2', comment: '' })}>New silence</Button>}
          {mayWrite && <Button type="primary" icon={<PlusOutlined />} onClick={() => edit('', false, ruleBody(undefined))}>New rule</Button>}
        </Space>
      </Space>
      {!mayWrite && <Notice type="info" showIcon data-testid="read-only-note" title={`Read-only here: changing alert rules ${access.needs('monitor.write')}.`} style={{ padding: '4px 12px' }} />}
      {error && <Notice type="error" showIcon title={error} closable onClose={() => setError(undefined)} />}
      <Card size="small" title={`Active alerts (${active.length})`}>
        <Table<Alert> size="small" rowKey="id" loading={loading} dataSource={active} columns={alertColumns(true)} pagination={false} locale={{ emptyText: 'Nothing firing' }} data-testid="active-alerts" />
      </Card>
      <Card size="small" title="Rules in force here">
        <Table<EffectiveRule> size="small" rowKey="name" loading={loading} dataSource={rules?.effective ?? []} columns={ruleColumns} pagination={false} locale={{ emptyText: 'No alert rules here or above' }} data-testid="alert-rules" />
      </Card>
      <Card size="small" title="Silences">
        <Table<SilenceView> size="small" rowKey="id" dataSource={silences} pagination={false} locale={{ emptyText: 'No silences' }} data-testid="silences" columns={[
          { title: 'Scope', key: 'scope', render: (_: unknown, s: SilenceView) => silenceScope(s) },
          { title: 'Until', key: 'until', render: (_: unknown, s: SilenceView) => when(s.endsAt) },
          { title: 'By', dataIndex: 'createdBy' },
          { title: 'Comment', dataIndex: 'comment' },
          ...(mayWrite ? [{ title: '', key: 'x', render: (_: unknown, s: SilenceView) => <Button size="small" onClick={() => void act('Silence ended', () => api.del(`/monitor/silences/${s.id}`))}>End now</Button> }] : []),
        ]} />
      </Card>
      <Card size="small" title="History">
        <Table<Alert> size="small" rowKey="id" dataSource={history} columns={alertColumns(false)} pagination={{ pageSize: 20 }} locale={{ emptyText: 'No alerts yet' }} data-testid="alert-history" />
      </Card>
      <Modal open={editing !== undefined} title={editing?.fixedName ? `Rule ${editing.name} on ${node.path}` : `New rule on ${node.path}`} onCancel={() => setEditing(undefined)} onOk={() => void saveRule()} okText="Save" width={720}>
        {editing && (
          <Space orientation="vertical" style={{ width: '100%' }}>
            {!editing.fixedName && <Input aria-label="Rule name" placeholder="name, e.g. disk-full" value={editing.name} onChange={(e) => setEditing({ ...editing, name: e.target.value })} />}
            <Segmented<'form' | 'json'> value={editing.mode} onChange={switchMode} options={[{ value: 'form', label: 'Form' }, { value: 'json', label: 'JSON (every field)' }]} data-testid="rule-mode" />
            {editing.mode === 'json' ? (
              <Input.TextArea aria-label="Rule JSON" rows={14} value={editing.text} onChange={(e) => setEditing({ ...editing, text: e.target.value })} style={{ fontFamily: 'monospace' }} />
            ) : (
              <>
                <Typography.Text type="secondary">Conditions, all of which must hold (AND). Functions: all(#n), avg(#n), max(#n), min(#n), sum(#n), diff(#n), pdiff(#n), nodata(seconds). Machine down: canopy_agent_up == 0; a backend ejected: canopy_backend_ejected &gt; 0.</Typography.Text>
                {editing.form.conditions.map((c, i) => (
                  <Row gutter={6} key={i} align="middle">
                    <Col span={7}><Input aria-label={`Metric ${i + 1}`} placeholder="metric" value={c.metric} onChange={(e) => setCondition(i, { metric: e.target.value })} /></Col>
                    <Col span={6}><Input aria-label={`Labels ${i + 1}`} placeholder="labels: mountpoint=/" value={c.match} onChange={(e) => setCondition(i, { match: e.target.value })} /></Col>
                    <Col span={4}><Input aria-label={`Function ${i + 1}`} placeholder="all(#3)" value={c.fn} onChange={(e) => setCondition(i, { fn: e.target.value })} /></Col>
                    <Col span={3}><Select aria-label={`Operator ${i + 1}`} value={c.op} onChange={(op) => setCondition(i, { op })} options={RULE_OPERATORS.map((o) => ({ value: o, label: o }))} style={{ width: '100%' }} /></Col>
                    <Col span={3}><InputNumber aria-label={`Threshold ${i + 1}`} value={c.threshold} onChange={(v) => setCondition(i, { threshold: v })} style={{ width: '100%' }} /></Col>
                    <Col span={1}><Button size="small" type="text" aria-label={`Remove condition ${i + 1}`} icon={<DeleteOutlined />} disabled={editing.form.conditions.length === 1} onClick={() => setForm({ conditions: editing.form.conditions.filter((_, j) => j !== i) })} /></Col>
                  </Row>
                ))}
                <Button size="small" icon={<PlusOutlined />} onClick={() => setForm({ conditions: [...editing.form.conditions, { metric: '', match: '', fn: 'all(#1)', op: '>', threshold: null }] })}>Add a condition (AND)</Button>
                <Radio.Group aria-label="Severity" optionType="button" value={editing.form.severity} onChange={(e) => setForm({ severity: e.target.value as RuleForm['severity'] })} options={['critical', 'warning', 'info'].map((v) => ({ value: v, label: v }))} />
                <Input addonBefore="Summary" aria-label="Summary" placeholder="disk {{value}} % on {{machines}}" value={editing.form.summary} onChange={(e) => setForm({ summary: e.target.value })} />
                <InputNumber addonBefore="Holds for" addonAfter="s before it fires" aria-label="For seconds" min={0} value={editing.form.forSeconds} onChange={(v) => setForm({ forSeconds: v })} style={{ width: '100%' }} />
                <Select mode="tags" aria-label="Receivers" placeholder="receivers (names on this node or above)" value={editing.form.receivers} onChange={(receivers: string[]) => setForm({ receivers })} style={{ width: '100%' }} tokenSeparators={[',', ' ']} />
                <Typography.Text type="secondary">Active window, recovery, repeats and escalation: in the JSON view.</Typography.Text>
              </>
            )}
          </Space>
        )}
      </Modal>
      <Modal open={silencing !== undefined} title={`Silence alerts on ${node.path}`} onCancel={() => setSilencing(undefined)} onOk={() => void saveSilence()} okText="Silence">
        {silencing && (
          <Space orientation="vertical" style={{ width: '100%' }}>
            <Input addonBefore="Rule" placeholder="every rule" value={silencing.rule ?? ''} onChange={(e) => setSilencing({ ...silencing, rule: e.target.value || undefined })} />
            <Input addonBefore="Machine" placeholder="every machine" value={silencing.machine ?? ''} onChange={(e) => setSilencing({ ...silencing, machine: e.target.value || undefined })} />
            <Input addonBefore="Hours" value={silencing.hours} onChange={(e) => setSilencing({ ...silencing, hours: e.target.value })} />
            <Input.TextArea aria-label="Comment" placeholder="why (required)" value={silencing.comment} onChange={(e) => setSilencing({ ...silencing, comment: e.target.value })} />
          </Space>
        )}
      </Modal>
    </Space>
  );
}

/** The Monitoring tab descriptor. */
export const monitoringTab: NodeTab = { key: 'monitoring', needs: 'monitor.read', label: 'Monitoring', icon: <AlertOutlined />, Component: Monitoring };
