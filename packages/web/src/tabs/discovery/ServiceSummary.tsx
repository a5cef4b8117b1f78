/** The service's definition at a glance, with the button that edits it. */
import { Button, Descriptions, Space, Tag, Tooltip, Typography, type DescriptionsProps } from 'antd';
import { SettingOutlined } from '@ant-design/icons';
import { Allowed } from '../../components/permissions.tsx';
import { algorithmLabel, ALGORITHMS, type Answer, type ServiceView } from './model.ts';

const none = <Typography.Text type="secondary">—</Typography.Text>;

function items(s: ServiceView, answer: Answer | undefined): DescriptionsProps['items'] {
  // The pushed answer is newer than the definition's counts; the display answer never applies the
  // threshold itself, so whether it trips is worked out here by the same rule.
  const serving = answer ? answer.healthy : s.healthyCount;
  const registered = answer ? answer.instances.length : s.instanceCount;
  const tripped = answer !== undefined && answer.total > 0 && answer.healthy / answer.total < s.protectThreshold;
  const hint = ALGORITHMS.find((a) => a.value === s.lb.algorithm)?.hint;
  return [
    {
      key: 'ports',
      label: 'Ports',
      children: s.ports.map((p) => (
        <Tag key={p.name}>
          {p.name} <strong>{p.port}</strong>
        </Tag>
      )),
    },
    {
      key: 'lb',
      label: 'Policy',
      children: (
        <Space size={4}>
          <Tooltip title={hint}>
            <Tag color="blue">{algorithmLabel(s.lb.algorithm)}</Tag>
          </Tooltip>
          {s.lb.hashKey && (
            <Typography.Text code>
              hash {s.lb.hashKey}
            </Typography.Text>
          )}
        </Space>
      ),
    },
    { key: 'protect', label: 'Protect threshold', children: s.protectThreshold > 0 ? `${Math.round(s.protectThreshold * 100)} % healthy` : none },
    { key: 'zone', label: 'Zone-aware', children: s.zoneAware ? <Tag color="cyan">on · min {s.zoneMinHealthy} healthy in zone</Tag> : <Tag>off</Tag> },
    { key: 'damping', label: 'Flap damping', children: `${s.passesBeforePassing} pass${s.passesBeforePassing === 1 ? '' : 'es'} up · ${s.failuresBeforeCritical} failure${s.failuresBeforeCritical === 1 ? '' : 's'} down` },
    {
      key: 'health',
      label: 'Serving',
      children: (
        <Space size={4}>
          <span data-testid="serving-count">
            {serving} of {registered} registered
          </span>
          {tripped && (
            <Tooltip title="Healthy share below the protect threshold: clients get every instance">
              <Tag color="volcano">protect threshold tripped</Tag>
            </Tooltip>
          )}
        </Space>
      ),
    },
  ];
}

/** Definition facts and an Edit button. */
export function ServiceSummary({ service, answer, onEdit }: { service: ServiceView; answer: Answer | undefined; onEdit: () => void }) {
  return (
    <Descriptions
      size="small"
      bordered
      column={{ xs: 1, md: 2, xl: 3 }}
      items={items(service, answer)}
      title={<span>Service <Typography.Text code>{service.path}</Typography.Text></span>}
      extra={
        <Allowed op="discovery.write">
          <Button icon={<SettingOutlined />} onClick={onEdit}>
            Edit settings
          </Button>
        </Allowed>
      }
    />
  );
}
