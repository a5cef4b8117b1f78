/**
 * Instances on a machine whose agent is unreachable count as failing. The agent's silence is the
 * machine's: a host that lost its link or its power serves nobody, whatever its instances' last
 * heartbeats said, so the registry answers them as critical and they leave the serving set (nginx
 * upstreams mark them down, LVS weighs them 0, DNS and the SDK skip them). Their own health is
 * kept, not overwritten: when the agent is connected again they are back to what their own checks
 * say. Fed by the dispatcher's `agent.status` events on the change feed, so every replica agrees.
 */
import { AGENT_STATUS_TOPIC } from '../agents/index.ts';
import type { ChangeFeed } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import * as repo from './repo.ts';

/** What the dispatcher emits when agents change state. */
interface AgentStatusChange {
  machineIds: number[];
  state: string;
}

/** Marks machines' agents down or up in the registry and publishes what that changed, at `revision`. */
export type MarkAgents = (revision: number, machineIds: readonly number[], down: boolean) => void;

export type AgentHealth = ReturnType<typeof followAgentHealth>;

/** Follow agents' state on the feed; `unreachable` reads the ones to start from. */
export function followAgentHealth(feed: ChangeFeed, mark: MarkAgents) {
  feed.on(AGENT_STATUS_TOPIC, (c) => {
    const change = c.payload as AgentStatusChange;
    if (!Array.isArray(change.machineIds) || change.machineIds.length === 0) return;
    mark(c.revision, change.machineIds, change.state !== 'connected');
  });
  return {
    /** The machines whose agent the database holds as not connected (the start-up snapshot). */
    unreachable: (q: Queryable): Promise<number[]> => repo.unreachableAgents(q),
  };
}
