/**
 * The agent of each machine as the control center sees it (GET /agents?under=), for the Machines
 * tab's Agent column: a coloured state, the last heartbeat and version, and the facts it reported.
 */
import { useEffect, useState } from 'react';
import { Descriptions, Popover, Space, Tag, Typography } from 'antd';
import { api } from '../../api.ts';

/** One machine's agent, as `GET /agents` answers it. */
export interface AgentStatus {
  hostname: string;
  state: 'connected' | 'unreachable' | 'disconnected' | 'never enrolled';
  agentVersion: string | null;
  connectedAt: string | null;
  lastHeartbeatAt: string | null;
  facts: unknown;
}

const STATE_COLOR: Record<AgentStatus['state'], string> = {
  connected: 'success',
  unreachable: 'error',
  disconnected: 'warning',
  'never enrolled': 'default',
};

const REFRESH_MS = 5_000;

/**
 * hostname → agent status of every machine under `path`, re-read every few seconds (heartbeats
 * move) and whenever `rows` changes (the table reloaded).
 */
export function useAgents(path: string, rows: unknown): Map<string, AgentStatus> {
  const [byHost, setByHost] = useState(new Map<string, AgentStatus>());
  useEffect(() => {
    let stale = false;
    const load = () =>
      api.get<{ items: AgentStatus[] }>('/agents', { under: path }).then(
        (r) => !stale && setByHost(new Map(r.items.map((a) => [a.hostname, a]))),
        // An error leaves the last answer on screen; the machines table reports its own errors.
        () => undefined,
      );
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      stale = true;
      clearInterval(timer);
    };
  }, [path, rows]);
  return byHost;
}

function FactList({ facts }: { facts: unknown }) {
  if (!facts || typeof facts !== 'object') return <Typography.Text type="secondary">No facts reported yet.</Typography.Text>;
  return (
    <Descriptions size="small" column={1} bordered style={{ maxWidth: 520 }} data-testid="agent-facts">
      {Object.entries(facts as Record<string, unknown>).map(([k, v]) => (
        <Descriptions.Item key={k} label={k}>
          {typeof v === 'string' || typeof v === 'number' ? String(v) : <code style={{ whiteSpace: 'pre-wrap' }}>{JSON.stringify(v)}</code>}
        </Descriptions.Item>
      ))}
    </Descriptions>
  );
}

/** The Agent cell of a machine row: state tag (facts on hover), last heartbeat and version beneath. */
export function AgentCell({ agent }: { agent: AgentStatus | undefined }) {
  if (!agent) return <Typography.Text type="secondary">—</Typography.Text>;
  const tag = (
    <Tag color={STATE_COLOR[agent.state]} data-testid="agent-state">
      {agent.state}
    </Tag>
  );
  return (
    <Space orientation="vertical" size={0}>
      {agent.state === 'never enrolled' ? tag : <Popover title={`Facts of ${agent.hostname}`} content={<FactList facts={agent.facts} />}>{tag}</Popover>}
      {agent.lastHeartbeatAt && (
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          heartbeat {new Date(agent.lastHeartbeatAt).toLocaleTimeString()}
        </Typography.Text>
      )}
      {agent.agentVersion && (
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          v{agent.agentVersion}
        </Typography.Text>
      )}
    </Space>
  );
}
