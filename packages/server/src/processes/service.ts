/**
 * Supervised processes (God's "one way for every app"): a node declares its process, the
 * orchestrator keeps it running on every machine of the node, and the operator lists, starts,
 * stops, restarts and reads the logs of every process of a subtree at once.
 */
import { isDeepStrictEqual } from 'node:util';
import { ConflictError, NotFoundError, ProcessLogParams, stateName, type ProcessDeclarationView, type ProcessRelease, type ProcessSpec, type ProcessView } from '@canopy/core';
import type { Actor, ChangeFeed, WriteContext, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { AuthService } from '../auth/index.ts';
import type { Dispatcher } from '../agents/index.ts';
import type { DiscoveryService } from '../discovery/index.ts';
import type { MachineService } from '../machines/index.ts';
import type { TreeNode, TreeService } from '../tree/index.ts';
import { followProcessPushes } from './live.ts';
import { createOrchestrator, PROCESS_TOPIC } from './orchestrator.ts';
import * as repo from './repo.ts';

export const PROCESS_LOG_STREAM = 'process.log';

export type ProcessService = ReturnType<typeof createProcessService>;
export type ProcessAction = 'start' | 'stop' | 'restart';

const iso = (t: string | Date | null | undefined) => (t ? new Date(t).toISOString() : null);

/** Build the process service, its orchestrator and its push handler. */
export function createProcessService(deps: {
  writer: Writer;
  feed: ChangeFeed;
  db: Queryable;
  tree: TreeService;
  machines: MachineService;
  auth: AuthService;
  dispatcher: Dispatcher;
  discovery: DiscoveryService;
  onError?: ((err: unknown) => void) | undefined;
  /** What owns a node's tasks instead (a deployment): its words for a 409, or undefined. */
  heldBy?: ((tx: Queryable, nodeId: number) => Promise<string | undefined>) | undefined;
  /** Whether a deployment is known here to own the node now (no need to ask the database). */
  busy?: ((nodeId: number) => boolean) | undefined;
}) {
  const { writer, db, tree, machines, auth, dispatcher } = deps;
  const orchestrator = createOrchestrator({ ...deps, held: async (tx, nodeId) => (await deps.heldBy?.(tx, nodeId)) !== undefined });

  async function refuseHeld(tx: Queryable, node: TreeNode): Promise<void> {
    const by = await deps.heldBy?.(tx, node.id);
    if (by !== undefined) throw new ConflictError(`${by} holds the processes of ${node.path}: wait for it, or resume, stop or roll it back`, { node: node.path });
  }
  followProcessPushes({ ...deps, log: (m) => deps.onError?.(new Error(m)) });

  const hostname = (id: number) => machines.model.get(id)?.hostname ?? `#${id}`;

  /** Declared nodes at or under `path` the actor may use with `op`; 404 when there are none. */
  function declaredUnder(actor: Actor, path: string, op: 'deploy.read' | 'deploy.run'): TreeNode[] {
    const top = auth.nodeFor(actor, 'deploy.read', path);
    const nodes = [...orchestrator.declared]
      .map((id) => tree.model.get(id))
      .filter((n): n is TreeNode => n !== undefined && (n.path === top.path || n.path.startsWith(`${top.path}.`)) && auth.can(actor, 'deploy.read', n.id))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    if (nodes.length === 0) throw new NotFoundError('process', path);
    for (const n of nodes) if (op !== 'deploy.read') auth.authorize(actor, op, n);
    return nodes;
  }

  function declarationView(node: TreeNode, r: repo.SpecRow): ProcessDeclarationView {
    return { node: node.path, spec: r.spec, desired: r.desired, generation: r.generation, updatedAt: iso(r.updatedAt)! };
  }

  return {
    orchestrator,
    load: (q: Queryable) => orchestrator.load(q),
    start: () => orchestrator.start(),
    stop: () => orchestrator.stop(),

    /** Declare (or change) the node's process; a change replaces the running ones machine by machine. */
    async declare(actor: Actor, path: string, spec: ProcessSpec): Promise<{ view: ProcessDeclarationView; created: boolean }> {
      const node = auth.nodeFor(actor, 'deploy.run', path);
      if (spec.user === 'root') auth.authorize(actor, 'machine.root', node);
      return writer.run(actor, async (w) => {
        const before = await repo.getSpec(w.tx, node.id);
        if (before && before.desired === 'running' && isDeepStrictEqual(before.spec, spec)) return { view: declarationView(node, before), created: false };
        await refuseHeld(w.tx, node);
        const row = await repo.putSpec(w.tx, { nodeId: node.id, spec, desired: 'running', generation: (before?.generation ?? 0) + 1, updatedBy: actor.name });
        w.audit({ operation: 'process.declare', targetKind: 'process', target: node.path, nodeId: node.id, nodePath: node.path, before: before?.spec, after: spec });
        w.emit(PROCESS_TOPIC, { nodeId: node.id });
        return { view: declarationView(node, row), created: !before };
      });
    },

    async get(actor: Actor, path: string): Promise<ProcessDeclarationView> {
      const node = auth.nodeFor(actor, 'deploy.read', path);
      const r = await repo.getSpec(db, node.id);
      if (!r) throw new NotFoundError('process', path);
      return declarationView(node, r);
    },

    /** Forget the node's process: every machine's is stopped (drained first). */
    async remove(actor: Actor, path: string): Promise<void> {
      const node = auth.nodeFor(actor, 'deploy.run', path);
      await writer.run(actor, async (w) => {
        const before = await repo.getSpec(w.tx, node.id);
        if (!before) throw new NotFoundError('process', path);
        await repo.deleteSpec(w.tx, node.id);
        w.audit({ operation: 'process.delete', targetKind: 'process', target: node.path, nodeId: node.id, nodePath: node.path, before: before.spec });
        w.emit(PROCESS_TOPIC, { nodeId: node.id, deleted: true });
      });
    },

    /** Start, stop or (rolling) restart every process at or under `path`; returns the nodes touched. */
    async act(actor: Actor, path: string, action: ProcessAction): Promise<ProcessDeclarationView[]> {
      const nodes = declaredUnder(actor, path, 'deploy.run');
      return writer.run(actor, async (w) => {
        const out: ProcessDeclarationView[] = [];
        for (const node of nodes) {
          const r = await repo.getSpec(w.tx, node.id);
          if (!r) continue;
          const desired = action === 'stop' ? 'stopped' : 'running';
          // A restart, or a start after a stop, is a new generation: fresh tasks replace the old ones.
          const bump = action === 'restart' || (action === 'start' && r.desired === 'stopped');
          if (desired === r.desired && !bump) {
            out.push(declarationView(node, r));
            continue;
          }
          await refuseHeld(w.tx, node);
          const row = await repo.putSpec(w.tx, { ...r, desired, generation: r.generation + (bump ? 1 : 0), updatedBy: actor.name });
          w.audit({ operation: `process.${action}`, targetKind: 'process', target: node.path, nodeId: node.id, nodePath: node.path, before: { desired: r.desired, generation: r.generation }, after: { desired, generation: row.generation } });
          w.emit(PROCESS_TOPIC, { nodeId: node.id });
          out.push(declarationView(node, row));
        }
        return out;
      });
    },

    /** The node's unfinished process tasks, oldest first, read inside a write. */
    openTasks: (tx: Queryable, nodeId: number) => repo.openTasks(tx, nodeId),
    /** The node's current generation (0: none declared). */
    generationOf: async (tx: Queryable, nodeId: number) => (await repo.getSpec(tx, nodeId))?.generation ?? 0,

    /** The node's declared spec, read inside a write (a deployment builds its tasks from it). */
    async declaration(tx: Queryable, nodeId: number): Promise<ProcessSpec | undefined> {
      return (await repo.getSpec(tx, nodeId))?.spec as ProcessSpec | undefined;
    },

    /**
     * A deployment finished: its tasks are the node's generation, its release what new tasks run;
     * `kept` are the older tasks of hosts it found on the release already, current all the same.
     */
    async adoptRelease(w: WriteContext, nodeId: number, generation: number, release: ProcessRelease, kept: string[] = []): Promise<void> {
      const r = await repo.getSpec(w.tx, nodeId);
      if (!r) return;
      await repo.putSpec(w.tx, { ...r, generation: Math.max(generation, r.generation), release, adopt: kept, updatedBy: r.updatedBy });
      w.emit(PROCESS_TOPIC, { nodeId });
    },

    /** Every machine's process at or under `path`, with its live state. */
    async list(actor: Actor, path: string): Promise<ProcessView[]> {
      const nodes = declaredUnder(actor, path, 'deploy.read');
      const tasks = await repo.shownTasks(db, nodes.map((n) => n.id));
      const byKey = new Map(tasks.map((t) => [`${t.nodeId}/${t.machineId}`, t]));
      const live = await repo.states(db, tasks.map((t) => t.id));
      const members = nodes.map((n) => ({ node: n, ids: orchestrator.members(n.id) }));
      const agents = new Map((await dispatcher.statuses([...new Set(members.flatMap((m) => m.ids))])).map((s) => [s.machineId, s.state]));
      const now = Date.now();
      const out: ProcessView[] = [];
      for (const { node, ids } of members) {
        for (const id of ids.sort((a, b) => (hostname(a) < hostname(b) ? -1 : 1))) {
          const t = byKey.get(`${node.id}/${id}`);
          const l = t ? live.get(t.id) : undefined;
          const state = l?.live.state ?? (t ? 'pending' : 'unknown');
          const startedAt = l?.live.startedAt ?? null;
          const up = l && startedAt && l.live.pid !== null && ['starting', 'running', 'draining', 'stopping'].includes(l.live.state);
          out.push({
            node: node.path,
            hostname: hostname(id),
            taskId: t?.id ?? null,
            task: t ? stateName(t.state) : null,
            generation: t?.generation ?? null,
            state,
            pid: l?.live.pid ?? null,
            startedAt,
            uptimeSeconds: up ? Math.max(0, Math.round((now - Date.parse(startedAt)) / 1000)) : null,
            restarts: l?.live.restarts ?? 0,
            health: l?.live.health ?? 'unknown',
            flapping: state === 'flapping',
            lastExit: l?.live.lastExit ?? null,
            message: l?.live.message ?? t?.error ?? t?.message ?? (t ? '' : 'no task yet'),
            agent: agents.get(id) ?? 'never connected',
            updatedAt: iso(l?.updatedAt),
          });
        }
      }
      return out;
    },

    /**
     * A process's log on one host, from its agent: the last `lines`, then (`follow`) what it writes,
     * until `close()`. The agent must hold its session with this replica.
     */
    openLog(actor: Actor, path: string, q: { host: string; node?: string | undefined; stream: 'stdout' | 'stderr'; lines: number; follow: boolean }, onData: (text: string | undefined, error?: string) => void): { close(): void } {
      const nodes = declaredUnder(actor, q.node ?? path, 'deploy.read');
      if (nodes.length > 1) throw new ConflictError(`${nodes.length} nodes under ${path} declare a process; name one with node=`, { nodes: nodes.map((n) => n.path) });
      const node = nodes[0]!;
      const m = machines.model.byHostname(q.host);
      if (!m || !orchestrator.members(node.id).includes(m.id)) throw new NotFoundError('machine', `${q.host} in ${node.path}`);
      const params = ProcessLogParams.parse({ nodeId: node.id, stream: q.stream, lines: q.lines, follow: q.follow });
      const sub = dispatcher.subscribe(m.id, PROCESS_LOG_STREAM, params, (data, done) => {
        const d = data as { text?: unknown; error?: unknown } | null;
        if (d && typeof d.error === 'string') onData(undefined, d.error);
        else if (d && typeof d.text === 'string' && d.text) onData(d.text);
        if (done) onData(undefined);
      });
      if (!sub) throw new ConflictError(`the agent of ${q.host} is not connected to this control center`, { hostname: q.host });
      return sub;
    },
  };
}
