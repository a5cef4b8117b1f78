/**
 * Scheduled jobs per node: a node's own entries (and masks), the table in effect at a node with
 * where each entry comes from, the per-machine `cron` document the agents run, and the runs they
 * report. Every replica keeps the model from the change feed and refreshes the documents of the
 * sessions it holds when an entry, a binding or the tree changes.
 */
import { CronSpec, cronKey, effectiveCron, nextCronRuns, NotFoundError, ValidationError, type CronDoc, type CronEntryInput, type CronEntryView, type CronRunPage, type CronRunSummary, type CronRunView, type CronTableView } from '@canopy/core';
import type { Actor, ChangeFeed, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import { MACHINE_TOPIC, type MachineService } from '../machines/index.ts';
import { TREE_TOPIC, type TreeChange, type TreeNode, type TreeService } from '../tree/index.ts';
import type { Dispatcher } from '../agents/index.ts';
import { CRON_TOPIC, createCronModel, ownOf, type CronChange } from './model.ts';
import * as repo from './repo.ts';
import { createRunSink, CRON_RUNS_STREAM } from './runs.ts';

export const CRON_DOC = 'cron';

export interface CronOptions {
  /** Runs kept per machine and entry name; default 100. */
  keepRuns?: number | undefined;
  onError?: ((err: unknown) => void) | undefined;
}

export type CronService = ReturnType<typeof createCronService>;

const iso = (t: string | null): string | null => (t === null ? null : new Date(t).toISOString());

/** Build the cron service and subscribe it to the feed and the agents' channel. */
export function createCronService(deps: { writer: Writer; feed: ChangeFeed; db: Queryable; tree: TreeService; machines: MachineService; dispatcher: Dispatcher }, opts: CronOptions = {}) {
  const { writer, feed, db, tree, machines, dispatcher } = deps;
  const onError = opts.onError ?? (() => {});
  const model = createCronModel(tree.model);
  const sink = createRunSink({ writer, keep: opts.keepRuns ?? 100, onError });

  const docFor = (machineId: number): CronDoc => ({ entries: model.machineTable(machines.model.get(machineId)?.nodeIds ?? []) });
  const machinesUnder = (node: TreeNode): number[] => machines.model.query({ under: node.id }, Number.MAX_SAFE_INTEGER, undefined).ids;
  const refresh = (ids?: number[]) => void dispatcher.refreshDoc(CRON_DOC, ids).catch(onError);

  feed.on(CRON_TOPIC, (c) => {
    const change = c.payload as CronChange;
    model.apply(change);
    const node = tree.model.get(change.nodeId);
    if (node) refresh(machinesUnder(node));
  });
  feed.on(MACHINE_TOPIC, (c) => refresh((c.payload as { upsert: { id: number }[] }).upsert.map((m) => m.id)));
  feed.on(TREE_TOPIC, (c) => {
    const t = c.payload as TreeChange;
    // A move or rename changes the tables (or the paths they name) of the machines below it only; a
    // new node has none. A removal is rare: every session is checked.
    if (t.remove?.length) return refresh();
    const ids = new Set<number>();
    for (const n of t.upsert ?? []) for (const id of machinesUnder(n)) ids.add(id);
    if (ids.size > 0) refresh([...ids]);
  });

  const summary = (r: repo.CronRunRow): CronRunSummary => {
    const startedAt = iso(r.startedAt);
    const endedAt = iso(r.endedAt);
    return {
      id: r.id,
      name: r.name,
      hostname: machines.model.get(r.machineId)?.hostname ?? `#${r.machineId}`,
      node: r.sourcePath,
      state: r.state,
      scheduledAt: iso(r.scheduledAt)!,
      startedAt,
      endedAt,
      durationMs: startedAt && endedAt ? Date.parse(endedAt) - Date.parse(startedAt) : null,
      exitCode: r.exitCode,
      reason: r.reason,
      lastLine: ((r.stdout.trimEnd() || r.stderr.trimEnd()).split('\n').at(-1) ?? '').slice(-200),
    };
  };

  async function table(path: string): Promise<CronTableView> {
    const node = tree.node(path);
    const line = model.line(node);
    const { entries, masked } = effectiveCron(line);
    const above = effectiveCron(line.slice(0, -1)).entries;
    const last = await repo.lastRuns(db, [...entries.keys()], machinesUnder(node));
    const views: CronEntryView[] = [...entries.values()].map((e) => {
      const own = e.fromId === node.id;
      const overridden = own ? above.get(e.name) : undefined;
      const run = last.get(e.name);
      return { name: e.name, from: e.from, own, overrides: overridden ? overridden.from : null, spec: e.spec, nextRuns: nextCronRuns(e.spec, 3), lastRun: run ? summary(run) : null };
    });
    const disabled: CronTableView['disabled'] = [...masked.values()].map((m) => ({ ...m, own: m.disabledAt === node.path }));
    for (const o of model.own(node.id).values()) {
      if (o.spec === null && !masked.has(o.name)) disabled.push({ name: o.name, disabledAt: node.path, from: null, own: true });
    }
    return { node: node.path, entries: views, disabled };
  }

  return {
    model,
    docFor,
    async load(q: Queryable): Promise<void> {
      model.load(await repo.allEntries(q));
    },
    /** Serve the `cron` document and take the runs agents push. */
    start(): void {
      dispatcher.provideDoc(CRON_DOC, docFor);
      dispatcher.onPush(CRON_RUNS_STREAM, sink.handle);
    },
    stop: () => sink.stop(),
    /** The `cron.runs` push handler (what an agent's session calls). */
    handleRuns: sink.handle,
    table,

    /** The entry `name` a node would run if `input` were set (for authorization: who it runs as). */
    userOf: (input: CronEntryInput): string | null => (input.disabled ? null : (input.user ?? 'root')),

    /** Set the node's entry `name`, or with `{ disabled: true }` switch off the inherited one here and below. */
    set: (actor: Actor, path: string, name: string, input: CronEntryInput) =>
      writer.run(actor, async (w) => {
        const node = tree.node(path);
        const spec: CronSpec | null = input.disabled ? null : CronSpec.parse(input);
        if (spec === null && !effectiveCron(model.line(node).slice(0, -1)).entries.has(name)) {
          throw new ValidationError(`no entry "${name}" is inherited at ${node.path}: nothing to disable`, [{ path: ['name'], message: 'not inherited here' }]);
        }
        const before = await repo.entryOf(w.tx, node.id, name);
        const row = await repo.putEntry(w.tx, node.id, name, spec, actor.name);
        w.audit({ operation: spec === null ? 'cron.disable' : 'cron.set', targetKind: 'cron', target: `${node.path}/${name}`, nodeId: node.id, nodePath: node.path, before: before ? (before.spec ?? { disabled: true }) : null, after: spec ?? { disabled: true } });
        w.emit(CRON_TOPIC, { nodeId: node.id, name, entry: ownOf(row) } satisfies CronChange);
        return { key: cronKey({ fromId: node.id, name }) };
      }).then(() => table(path)),

    /** Remove the node's own entry or mask `name` (the inherited one applies again); 404 when it has none. */
    remove: (actor: Actor, path: string, name: string) =>
      writer.run(actor, async (w) => {
        const node = tree.node(path);
        const before = await repo.entryOf(w.tx, node.id, name);
        if (!before || !(await repo.deleteEntry(w.tx, node.id, name))) throw new NotFoundError('cron entry', `${node.path}/${name}`);
        w.audit({ operation: 'cron.delete', targetKind: 'cron', target: `${node.path}/${name}`, nodeId: node.id, nodePath: node.path, before: before.spec ?? { disabled: true } });
        w.emit(CRON_TOPIC, { nodeId: node.id, name, entry: null } satisfies CronChange);
      }),

    /** Runs of entry `name` on the machines of the subtree (or one of them), newest first. */
    async runs(path: string, name: string, q: { hostname?: string | undefined; limit: number; cursor?: string | undefined }): Promise<CronRunPage> {
      const node = tree.node(path);
      let ids = machinesUnder(node);
      if (q.hostname !== undefined) {
        const m = machines.model.byHostname(q.hostname);
        ids = m && ids.includes(m.id) ? [m.id] : [];
      }
      const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      const page = await repo.listRuns(db, name, ids, q.limit, after);
      const lastRow = page.at(-1);
      return { items: page.map(summary), nextCursor: page.length === q.limit && lastRow ? encodeCursor(iso(lastRow.scheduledAt)!, lastRow.id) : null };
    },

    /** One run with its output; 404 unless it is a run of `name` on a machine of the subtree. */
    async run(path: string, name: string, id: string): Promise<CronRunView> {
      const node = tree.node(path);
      const r = await repo.runOf(db, id);
      if (!r || r.name !== name || !machinesUnder(node).includes(r.machineId)) throw new NotFoundError('cron run', id);
      return { ...summary(r), stdout: r.stdout, stderr: r.stderr, truncated: r.truncated };
    },
  };
}

function encodeCursor(at: string, id: string): string {
  return Buffer.from(`${at}|${id}`).toString('base64url');
}

function decodeCursor(cursor: string): { at: string; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!at || !id || Number.isNaN(Date.parse(at)) || !/^[0-9a-f-]{36}$/.test(id)) throw new ValidationError('cursor is not one this server gave', [{ path: ['cursor'], message: 'invalid cursor' }]);
  return { at, id };
}
