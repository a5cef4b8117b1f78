/**
 * The `processes` push stream: agents send their supervised apps' states (on each change, and all of
 * them after each reconnection). They are stored (newest wins, own machine's process tasks only),
 * announced on the feed (the orchestrator's rolling restart waits on health), and mirrored into
 * discovery as the machine's agent: an instance is `up` while its process runs healthy and
 * `draining` otherwise, so a stop is drained (Nginx `down`, LVS weight 0) before the app is
 * signalled — the agent waits for this handler to resolve before it sends the signal.
 */
import { NotFoundError, ProcessPush, type ProcessLive, type ProcessSpec } from '@canopy/core';
import { SYSTEM_ACTOR, type Actor, type Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { Dispatcher } from '../agents/index.ts';
import type { DiscoveryService } from '../discovery/index.ts';
import type { TreeService } from '../tree/index.ts';
import { PROCESS_STATE_TOPIC } from './orchestrator.ts';
import * as repo from './repo.ts';

export const PROCESSES_STREAM = 'processes';

/** Whether a process in this state should take traffic. */
export const serving = (l: ProcessLive) => l.state === 'running' && (l.health === 'healthy' || l.health === 'none');

/** Take `processes` pushes on `dispatcher`. */
export function followProcessPushes(deps: { writer: Writer; db: Queryable; dispatcher: Dispatcher; discovery: DiscoveryService; tree: TreeService; log: (msg: string) => void }) {
  const { writer, discovery, tree } = deps;
  // One machine's pushes are handled in the order they came, so a drain never overtakes a registration.
  const chains = new Map<number, Promise<void>>();

  // Pushes of every machine are stored together: one write per round while the writer is busy, at
  // once when it is free, instead of one write (and one wake of the orchestrators) per push.
  interface Pending { machineId: number; items: ProcessLive[]; done: (kept: Map<string, number>) => void; fail: (err: unknown) => void }
  let group: Pending[] = [];
  let writing = false;

  function store(machineId: number, items: ProcessLive[]): Promise<Map<string, number>> {
    return new Promise((done, fail) => {
      group.push({ machineId, items, done, fail });
      if (!writing) {
        writing = true;
        setImmediate(() => void write());
      }
    });
  }

  async function commit(batch: Pending[]): Promise<void> {
    const kept = await writer.run(SYSTEM_ACTOR, async (w) => {
      const out: { taskId: string; nodeId: number }[][] = [];
      for (const p of batch) out.push(await repo.upsertStates(w.tx, p.machineId, p.items));
      const nodeIds = [...new Set(out.flat().map((o) => o.nodeId))];
      if (nodeIds.length > 0) w.emit(PROCESS_STATE_TOPIC, { nodeIds });
      return out;
    });
    batch.forEach((p, i) => p.done(new Map(kept[i]!.map((o) => [o.taskId, o.nodeId]))));
  }

  async function write(): Promise<void> {
    const batch = group;
    group = [];
    try {
      await commit(batch);
    } catch (err) {
      // One bad push must not fail the others: each is tried alone.
      if (batch.length === 1) batch[0]!.fail(err);
      else for (const p of batch) await commit([p]).catch(p.fail);
    } finally {
      if (group.length > 0) setImmediate(() => void write());
      else writing = false;
    }
  }

  async function handle(machineId: number, hostname: string, push: ProcessPush): Promise<void> {
    const kept = await store(machineId, push.items);
    // The node comes from the task row, not from what the agent said.
    for (const l of push.items) {
      const nodeId = kept.get(l.taskId);
      if (nodeId !== undefined) await mirror(machineId, hostname, nodeId, l);
    }
  }

  async function mirror(machineId: number, hostname: string, nodeId: number, l: ProcessLive): Promise<void> {
    const node = tree.model.get(nodeId);
    const row = node && (await repo.getSpec(deps.db, nodeId));
    if (!node || !row) return;
    const spec = row.spec as ProcessSpec;
    // A state of a generation a newer declaration replaced says nothing about what serves now.
    if (l.generation < row.generation && serving(l)) return;
    const actor: Actor = { kind: 'agent', id: null, name: `machine:${hostname}`, superuser: false, machineId };
    const status = serving(l) ? 'up' : 'draining';
    if (spec.ports.length === 0 || !hasService(node.path)) return; // not a discovery service: nothing to register
    for (const p of spec.ports) {
      let current: string | undefined;
      try {
        current = discovery.instance(node.path, hostname, p.port).status;
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
      if (current === status || (current === undefined && status !== 'up')) continue;
      await discovery.putInstance(actor, node.path, hostname, p.port, { status, ...(p.name ? { portName: p.name } : {}) });
    }
  }

  function hasService(path: string): boolean {
    try {
      discovery.get(path);
      return true;
    } catch {
      return false;
    }
  }

  deps.dispatcher.onPush(PROCESSES_STREAM, (from, data) => {
    const push = ProcessPush.parse(data);
    const prev = chains.get(from.machineId) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(() => handle(from.machineId, from.hostname, push));
    chains.set(from.machineId, next);
    void next.finally(() => {
      if (chains.get(from.machineId) === next) chains.delete(from.machineId);
    }).catch(() => {});
    return next.catch((err: unknown) => {
      deps.log(`processes push from ${from.hostname}: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    });
  });
}
