/**
 * The agent of each machine as the control center sees it (GET /agents?under=), for the Machines
 * tab's Agent, Last heartbeat and Version columns, and the facts it reported.
 */
import { useEffect, useState } from 'react';
import { Descriptions, Popover, Tag, Tooltip, Typography } from 'antd';
import type { MachineAgentView } from '@canopy/core';
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

/** The facts an agent reported, one row each. */
export function FactList({ facts }: { facts: unknown }) {
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

/** The agent as `GET /agents` answers it, from a machine view's agent block (before the first poll). */
export function agentOf(hostname: string, a: MachineAgentView | undefined): AgentStatus | undefined {
  if (!a) return undefined;
  return { hostname, state: a.state === 'never' ? 'never enrolled' : a.state, agentVersion: a.version, connectedAt: a.connectedAt, lastHeartbeatAt: a.lastHeartbeatAt, facts: a.facts };
}

/** "12 s ago", "5 min ago", "3 h ago": how long since `iso`, at `now`. */
export function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** The Agent cell of a machine row: the state tag, with the facts on hover. */
export function AgentCell({ agent }: { agent: AgentStatus | undefined }) {
  if (!agent) return <Typography.Text type="secondary">—</Typography.Text>;
  const tag = (
    <Tag color={STATE_COLOR[agent.state]} data-testid="agent-state">
      {agent.state}
    </Tag>
  );
  return agent.state === 'never enrolled' ? tag : <Popover title={`Facts of ${agent.hostname}`} content={<FactList facts={agent.facts} />}>{tag}</Popover>;
}

/** The Last heartbeat cell: how long ago, the time itself on hover. */
export function HeartbeatCell({ agent }: { agent: AgentStatus | undefined }) {
  if (!agent?.lastHeartbeatAt) return <Typography.Text type="secondary">—</Typography.Text>;
  return (
    <Tooltip title={new Date(agent.lastHeartbeatAt).toLocaleString()}>
      <span data-testid="agent-heartbeat">{ago(agent.lastHeartbeatAt)}</span>
    </Tooltip>
  );
}
