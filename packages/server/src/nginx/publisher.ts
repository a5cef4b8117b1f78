/**
 * Published config versions of proxy clusters (nginx and LVS alike): plan, apply and rollback
 * for people, automatic re-publication when backend instances change, and blocking watches for
 * agents. A version becomes visible only after the real program accepted its files.
 *
 * Every version stores its settings snapshot (`input`). A backend change re-renders the published
 * snapshot with fresh instances, so it never publishes settings nobody applied; rollback renders
 * an earlier snapshot with the current instances, so it never resurrects a removed backend.
 * Publishing a version also prunes the content of old ones (retention.ts), in the same transaction.
 */
import { CanopyError, ConfigInvalidError, ConflictError, NotFoundError, ValidationError } from '@canopy/core';
import { SYSTEM_ACTOR, type Actor, type ChangeFeed, type WriteContext, type Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { BackendSource } from './backends.ts';
import { canonicalJson, diffFiles, diffStat, filesDigest } from './diff.ts';
import type { RenderedFile } from './model.ts';
import type { ClusterRenderer, HashedFile, Rendering } from './renderer-api.ts';
import { createPublisherState, type Entry, type VersionMeta } from './publisher-state.ts';
import * as repo from './repo.ts';
import { ContentPrunedError, DEFAULT_KEEP_VERSIONS, MIN_KEEP_VERSIONS, type PrunedAction } from './retention.ts';

export type { VersionMeta } from './publisher-state.ts';
export type { ClusterRenderer, HashedFile, Rendering } from './renderer-api.ts';

export interface PublisherDeps<I, S> {
  kind: repo.ConfigKind;
  writer: Writer;
  feed: ChangeFeed;
  db: Queryable;
  renderer: ClusterRenderer<I, S>;
  backends: BackendSource;
  /** Current path of a node, for audit entries and messages. */
  pathOf(nodeId: number): string;
  /** Quiet time collecting backend changes before re-rendering; default 200 ms. */
  debounceMs?: number;
  /** How many recent versions keep their content (CANOPY_CONFIG_KEEP_VERSIONS); default 100, at least 2. */
  keepVersions?: number;
  onError?: (err: unknown) => void;
}

export interface PlanResult {
  baseVersion: number;
  changed: boolean;
  diff: string;
  added: number;
  removed: number;
}

export interface ApplyResult {
  published: boolean;
  version: VersionMeta;
  diff: string;
  checkOutput: string;
  /** A rollback's settings restore: what now holds the rolled-back version's settings, and what could not. */
  restored?: RestoreReport;
}

/** What a rollback did to the settings people edit, so the next apply does not re-publish what it undid. */
export interface RestoreReport {
  /** Settings rows set back to the version's, e.g. `service corp.pay.web`. */
  restored: string[];
  /** Rows left as they are (the actor may not write them, the node is gone…): they diverge from the version. */
  notRestored: { target: string; reason: string }[];
}

/** Sets the settings back to a snapshot's, inside the rollback's transaction. */
export type RestoreHook<I> = (w: WriteContext, input: I) => Promise<RestoreReport>;

/** The unified diff between two published versions of a cluster. */
export interface VersionDiff {
  from: number;
  to: number;
  diff: string;
  added: number;
  removed: number;
}

class StaleBaseError extends Error {}

const MAX_ATTEMPTS = 4;

export type Publisher<I> = ReturnType<typeof createPublisher<I, unknown>>;

/** The publisher of one kind of cluster config; call `load` at start-up. */
export function createPublisher<I, S>(deps: PublisherDeps<I, S>) {
  const { kind, writer, renderer } = deps;
  const onError = deps.onError ?? (() => {});
  const topic = `${kind}.config`;
  const keep = deps.keepVersions ?? DEFAULT_KEEP_VERSIONS;
  if (!Number.isInteger(keep) || keep < MIN_KEEP_VERSIONS) throw new Error(`keepVersions must be an integer of at least ${MIN_KEEP_VERSIONS}, not ${keep}`);
  const pruned = (cluster: number, number: number, action: PrunedAction = 'show') => new ContentPrunedError(kind, deps.pathOf(cluster), number, keep, action);
  const st = createPublisherState<I, S>({ db: deps.db, kind, renderer, debounceMs: deps.debounceMs ?? 200, refresh, onError, pruned });

  deps.feed.on(topic, (c) => st.adopt(c.payload as VersionMeta));
  deps.backends.onChange((nodeIds) => st.backendsChanged(nodeIds));

  function digest(files: readonly HashedFile[], input: I): { sha: string; inputSha: string } {
    return { sha: filesDigest(files), inputSha: st.inputSha(input) };
  }

  /**
   * Writes version base+1 unless another version was published since `base`, the version the
   * rendering was compared with (StaleBaseError: the caller compares again).
   */
  async function publish(actor: Actor, cluster: number, base: number, p: { input: I; rendering: Rendering<S>; reason: string; rollbackOf: number | null; checkOutput: string; operation: string; automatic: boolean; restore?: RestoreHook<I> | undefined }): Promise<ApplyResult> {
    const before = base === 0 ? [] : await st.filesOf(cluster, base);
    const files = p.rendering.files;
    const diff = diffFiles(before, files, `v${base}`, `v${base + 1}`);
    const stat = diffStat(diff);
    const { sha, inputSha } = digest(files, p.input);
    // A backend change keeps the published snapshot: serialize it (outside the lock) only when it is new.
    const inputText = inputSha === st.entry(cluster)?.meta.inputSha256 ? undefined : canonicalJson(p.input);
    const path = deps.pathOf(cluster);
    let staged: VersionMeta | undefined;
    let restored: RestoreReport | undefined;
    const meta = await writer.run(actor, async (w) => {
      if ((await repo.latestNumber(w.tx, kind, cluster)) !== base) throw new StaleBaseError();
      // Blobs are shared and pruning deletes them, so only the database, under the lock, knows which are stored.
      const missing = await repo.missingBlobs(w.tx, [...files.map((f) => f.sha256), inputSha]);
      const blobs = files.filter((f) => missing.has(f.sha256)).map((f) => ({ sha256: f.sha256, content: f.content }));
      if (missing.has(inputSha)) blobs.push({ sha256: inputSha, content: inputText ?? canonicalJson(p.input) });
      await repo.putBlobs(w.tx, blobs);
      const row = await repo.insertVersion(w.tx, {
        kind, clusterNodeId: cluster, number: base + 1, files: files.map((f) => ({ path: f.path, sha256: f.sha256 })), sha256: sha,
        inputSha256: inputSha, author: actor.name, reason: p.reason, diff, rollbackOf: p.rollbackOf, checkOutput: p.checkOutput,
        ...stat, automatic: p.automatic,
      });
      const prunedNow = await repo.pruneVersions(w.tx, kind, cluster, keep);
      const m = st.metaOf(row);
      st.stage((staged = m), { input: p.input, files, state: p.rendering.state });
      const prunedNote = prunedNow.length > 0 ? { contentPruned: prunedNow } : {};
      restored = p.restore ? await p.restore(w, p.input) : undefined;
      const restoreNote = restored ? { settingsRestored: restored.restored, settingsNotRestored: restored.notRestored } : {};
      w.audit({ operation: p.operation, targetKind: `${kind}-config`, target: path, nodeId: cluster, nodePath: path, after: { version: m.number, sha256: sha, reason: p.reason, rollbackOf: p.rollbackOf, ...stat, ...prunedNote, ...restoreNote } });
      w.emit(topic, m);
      return m;
    }).finally(() => staged && st.unstage(staged));
    renderer.accepted?.(p.rendering.state);
    return { published: true, version: meta, diff, checkOutput: p.checkOutput, ...(restored ? { restored } : {}) };
  }

  async function check(files: readonly RenderedFile[]): Promise<{ ok: boolean; output: string }> {
    try {
      return await renderer.check(files);
    } catch (err) {
      throw new CanopyError('unavailable', `cannot check the config with ${renderer.program}: ${(err as Error).message}`);
    }
  }

  /** Render `input` (a draft or an old snapshot), check it, publish it if it differs from the current version. */
  async function renderAndPublish(actor: Actor, cluster: number, makeInput: () => I, p: { reason: string; rollbackOf: number | null; operation: string; restore?: RestoreHook<I> | undefined }): Promise<ApplyResult> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const input = makeInput();
      const rendering = renderer.render(input);
      const current = st.entry(cluster)?.meta;
      const { sha, inputSha } = digest(rendering.files, input);
      if (current && current.sha256 === sha && current.inputSha256 === inputSha) {
        // Nothing to publish, but a rollback still sets the settings back (they may have moved on since).
        const restore = p.restore;
        const restored = restore ? await writer.run(actor, (w) => restore(w, input)) : undefined;
        return { published: false, version: current, diff: '', checkOutput: '', ...(restored ? { restored } : {}) };
      }
      const result = await check(rendering.files);
      if (!result.ok) throw new ConfigInvalidError(renderer.program, result.output);
      try {
        return await publish(actor, cluster, current?.number ?? 0, { input, rendering, checkOutput: result.output, automatic: false, ...p });
      } catch (err) {
        if (!(err instanceof StaleBaseError)) throw err;
      }
    }
    throw new ConflictError(`the ${kind} config of '${deps.pathOf(cluster)}' kept changing while it was applied; try again`);
  }

  /** The feed-driven re-render of one cluster after backend changes (or after another replica published). */
  async function refresh(cluster: number, changed: ReadonlySet<number>, publishIfChanged: boolean): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const entry: Entry<I, S> | undefined = await st.loaded(cluster);
      if (!entry?.loaded) return;
      const input = entry.loaded.input;
      let r: Rendering<S> & { notes: string[] };
      try {
        r = renderer.rerender(entry.state, input, changed);
      } catch (err) {
        entry.lastError = { at: new Date().toISOString(), reason: 'instances changed', output: (err as Error).message };
        throw err;
      }
      const base = entry.meta;
      entry.state = r.state;
      if (filesDigest(r.files) === base.sha256) {
        entry.lastError = undefined;
        return;
      }
      if (!publishIfChanged) return;
      const reason = `instances changed: ${r.notes.join('; ') || 'after a restart or a missed event'}`.slice(0, 4000);
      const scope = renderer.checkScope?.(r.state);
      const checked = await check(scope?.files ?? r.files);
      const result = { ok: checked.ok, output: `${scope?.note ?? ''}${checked.output}` };
      if (!result.ok) {
        entry.lastError = { at: new Date().toISOString(), reason, output: result.output };
        onError(new ConfigInvalidError(renderer.program, `${deps.pathOf(cluster)}: ${result.output}`));
        return;
      }
      try {
        await publish(SYSTEM_ACTOR, cluster, base.number, { input, rendering: r, reason, rollbackOf: null, checkOutput: result.output, operation: `${kind}.publish`, automatic: true });
        entry.lastError = undefined;
        return;
      } catch (err) {
        if (!(err instanceof StaleBaseError)) throw err;
      }
    }
  }

  async function mustGetVersion(cluster: number, number: number): Promise<repo.VersionRow> {
    const row = await repo.getVersion(deps.db, kind, cluster, number);
    if (!row) throw new NotFoundError(`${kind} config version`, `${deps.pathOf(cluster)} v${number}`);
    return row;
  }

  return {
    /** The newest published version, or undefined. */
    latest: (cluster: number): VersionMeta | undefined => st.entry(cluster)?.meta,
    /** The last automatic re-publication that the real program refused, if any since. */
    lastError: (cluster: number) => st.entry(cluster)?.lastError,

    /** The current published files; NotFoundError when nothing was published yet. */
    async current(cluster: number): Promise<{ meta: VersionMeta; files: RenderedFile[] }> {
      const meta = st.entry(cluster)?.meta;
      if (!meta) throw new NotFoundError(`published ${kind} config of`, deps.pathOf(cluster));
      return { meta, files: await st.filesOf(cluster, meta.number) };
    },

    /** What applying `input` would change, without writing anything. */
    async plan(cluster: number, input: I): Promise<PlanResult> {
      const rendering = renderer.render(input);
      const meta = st.entry(cluster)?.meta;
      const base = meta?.number ?? 0;
      const before = base === 0 ? [] : await st.filesOf(cluster, base);
      const diff = diffFiles(before, rendering.files, `v${base}`, 'plan');
      const { sha, inputSha } = digest(rendering.files, input);
      return { baseVersion: base, changed: !meta || meta.sha256 !== sha || meta.inputSha256 !== inputSha, diff, ...diffStat(diff) };
    },

    /** Render the draft, check it with the real program and publish it as a new version. */
    apply: (actor: Actor, cluster: number, draft: () => I, reason: string) => renderAndPublish(actor, cluster, draft, { reason, rollbackOf: null, operation: `${kind}.apply` }),

    /**
     * Publish version `number`'s settings again, rendered with the current instances; `restore`
     * sets the settings rows back to that version's in the same transaction.
     */
    async rollback(actor: Actor, cluster: number, number: number, reason: string | undefined, restore?: RestoreHook<I>): Promise<ApplyResult> {
      const row = await mustGetVersion(cluster, number);
      if (st.entry(cluster)?.meta.number === number) throw new ValidationError(`v${number} is the current version`, [{ path: ['version'], message: 'is already published' }]);
      const input = row.prunedAt === null ? ((await repo.getInput(deps.db, row.inputSha256)) as I | undefined) : undefined;
      if (input === undefined) throw pruned(cluster, number, 'rollback');
      return renderAndPublish(actor, cluster, () => input, { reason: reason ?? `rollback to v${number}`, rollbackOf: number, operation: `${kind}.rollback`, restore });
    },

    /**
     * The diff of each step from the one before, starting at the published files: a plan broken
     * into whose change makes which hunk. Each step is a whole input (the last one the draft).
     */
    async planSteps(cluster: number, steps: readonly I[]): Promise<{ diff: string; added: number; removed: number }[]> {
      const meta = st.entry(cluster)?.meta;
      let before: readonly RenderedFile[] = meta ? await st.filesOf(cluster, meta.number) : [];
      const out = [];
      for (const input of steps) {
        const files = renderer.render(input).files;
        const diff = diffFiles(before, files, `v${meta?.number ?? 0}`, 'plan');
        out.push({ diff, ...diffStat(diff) });
        before = files;
      }
      return out;
    },

    /** The settings snapshot of the current version; undefined when nothing was published (or it was pruned). */
    publishedInput: async (cluster: number): Promise<I | undefined> => (await st.loaded(cluster))?.loaded?.input,

    /** The diff from version `from` to version `to` (either order); ContentPrunedError when one was pruned. */
    async diffVersions(cluster: number, from: number, to: number): Promise<VersionDiff> {
      const [a, b] = [await mustGetVersion(cluster, from), await mustGetVersion(cluster, to)];
      const diff = diffFiles(await st.filesOf(cluster, from, a), await st.filesOf(cluster, to, b), `v${from}`, `v${to}`);
      return { from, to, diff, ...diffStat(diff) };
    },

    versions: (cluster: number, limit: number, before?: number) => repo.listVersions(deps.db, kind, cluster, limit, before).then((r) => r.map(st.metaOf)),

    /** One version with its files, diff, check output and settings snapshot; ContentPrunedError once pruned. */
    async version(cluster: number, number: number) {
      const row = await mustGetVersion(cluster, number);
      const files = await st.filesOf(cluster, number, row);
      const input = await repo.getInput(deps.db, row.inputSha256);
      if (input === undefined) throw pruned(cluster, number);
      return { meta: st.metaOf(row), files, diff: row.diff, checkOutput: row.checkOutput, input };
    },

    /** Resolves once a version newer than `after` is published, or with undefined after `waitMs`. */
    watch: (cluster: number, after: number, waitMs: number) => st.waitFor(cluster, after, waitMs),

    /** Re-render now whatever backend changes are pending (tests, benchmarks, shutdown). */
    flush: () => st.flush(),
    load: (q: Queryable) => st.load(q),
    stop: () => st.stop(),
  };
}
