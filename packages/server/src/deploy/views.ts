/** Deployments as the API shows them. */
import { stateName, type DeploymentHostView, type DeploymentView } from '@canopy/core';
import type { MachineService } from '../machines/index.ts';
import type { TreeService } from '../tree/index.ts';
import type { DeploymentRow, HostRow, Progress, TaskRow } from './repo.ts';

const iso = (t: string | null) => (t ? new Date(t).toISOString() : null);
const NO_HOSTS: Progress = { total: 0, updated: 0, failed: 0, inFlight: 0 };

/** One deployment; `progress` from its hosts. */
export function deploymentView(d: DeploymentRow, tree: TreeService, progress: Progress | undefined, rolledBackBy: number | null): DeploymentView {
  return {
    id: d.id,
    node: tree.model.get(d.nodeId)?.path ?? `#${d.nodeId}`,
    version: d.version,
    previousVersion: d.previousVersion,
    strategy: d.strategy,
    state: d.state,
    reason: d.reason,
    batches: d.batches,
    currentBatch: d.currentBatch,
    progress: progress ?? NO_HOSTS,
    rollbackOf: d.rollbackOf,
    rolledBackBy,
    createdBy: d.createdBy,
    approvedBy: d.approvedBy,
    createdAt: iso(d.createdAt)!,
    updatedAt: iso(d.updatedAt)!,
    finishedAt: iso(d.finishedAt),
  };
}

/** Progress figures of a deployment from its hosts. */
export function progressOf(hosts: HostRow[]): Progress {
  const n = (f: (h: HostRow) => boolean) => hosts.filter(f).length;
  return { total: hosts.length, updated: n((h) => h.state === 'updated'), failed: n((h) => h.state === 'failed'), inFlight: n((h) => ['stopping-old', 'starting', 'retiring-old'].includes(h.state)) };
}

/** Its hosts, in batch order, with their new task's state and message. */
export function hostViews(hosts: HostRow[], tasks: Map<string, TaskRow>, machines: MachineService): DeploymentHostView[] {
  return hosts.map((h) => {
    const t = h.newTask ? tasks.get(h.newTask) : undefined;
    return {
      hostname: machines.model.get(h.machineId)?.hostname ?? `#${h.machineId}`,
      batch: h.batch,
      state: h.state,
      reason: h.reason,
      fromVersion: h.fromVersion,
      taskId: h.newTask,
      task: t ? stateName(t.state) : null,
      message: t?.error ?? t?.message ?? '',
      since: iso(h.since)!,
    };
  });
}
