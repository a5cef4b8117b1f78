/** A job's output grouped by hosts that printed the same thing, so a thousand hosts read at a glance. */
import { Card, Collapse, Empty, Space, Tag, Typography } from 'antd';
import { groupTitle, HOST_STATE_COLOR, type JobDetailView, type JobHostView } from './model.ts';

type Group = JobDetailView['groups'][number];

function Stream({ label, text }: { label: string; text: string }) {
  if (!text) return null;
  return (
    <div>
      <Typography.Text type="secondary">{label}</Typography.Text>
      <pre data-testid={`output-${label}`} style={{ margin: 0, padding: 8, background: '#f6f6f6', maxHeight: 320, overflow: 'auto', whiteSpace: 'pre-wrap' }}>
        {text}
      </pre>
    </div>
  );
}

/** The output groups of a job, largest first; each group's host list folds out. */
export function OutputGroups({ groups }: { groups: Group[] }) {
  return (
    <Card size="small" title="Output">
      {groups.length === 0 ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description="No host has finished yet" />
      ) : (
        <Space orientation="vertical" size={16} style={{ width: '100%' }}>
          {groups.map((g, i) => (
            <div key={i} data-testid="output-group">
              <Space style={{ marginBottom: 4 }}>
                <strong data-testid="output-group-title">{groupTitle(g.count)}</strong>
                <Tag color={HOST_STATE_COLOR[g.state as JobHostView['state']] ?? 'default'}>{g.state}</Tag>
                <Typography.Text type="secondary">exit code {g.exitCode ?? '—'}</Typography.Text>
              </Space>
              <Stream label="stdout" text={g.stdout} />
              <Stream label="stderr" text={g.stderr} />
              {!g.stdout && !g.stderr && <Typography.Text type="secondary">(no output)</Typography.Text>}
              <Collapse
                size="small"
                ghost
                items={[{ key: 'hosts', label: `Show the ${g.count === 1 ? 'host' : `${g.count} hosts`}`, children: <Typography.Text data-testid="output-group-hosts">{g.hosts.join(', ')}</Typography.Text> }]}
              />
            </div>
          ))}
        </Space>
      )}
    </Card>
  );
}
