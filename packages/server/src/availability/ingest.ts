/**
 * Taking access counts from agents: each push is validated, queued and written with the others
 * that arrived meanwhile in one write (group commit), then acknowledged — so an agent drops a
 * window only once it is stored. A batch at or below its source's last number was stored already
 * (the agent resent it after a lost acknowledgement) and is acknowledged without counting twice.
 */
import { AccessPush, ValidationError, detectConsecutive, joinRuns, type AvailabilitySettings } from '@canopy/core';
import type { WriteContext, Writer } from '../changes/index.ts';
import { SYSTEM_ACTOR } from '../changes/index.ts';
import type { TreeService } from '../tree/index.ts';
import type { DrainAction, Ejector } from './ejector.ts';
import { AVAILABILITY_TOPIC } from './ejector.ts';
import { addCell, emptyCell, fineBucket, hourBucket, seriesKey, type AvailabilityModel, type Cell, type CountedSeries } from './model.ts';
import * as repo from './repo.ts';

interface Queued {
  machineId: number;
  push: AccessPush;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface IngestDeps {
  writer: Writer;
  tree: TreeService;
  model: AvailabilityModel;
  ejector: Ejector;
  settingsOf: (nodeId: number) => AvailabilitySettings;
  clock: () => number;
  /** Quiet time collecting pushes into one write; default 50 ms. */
  groupMs?: number;
  onError: (err: unknown) => void;
}

/** The push handler and its group commit. */
export function createIngest(deps: IngestDeps) {
  const { writer, tree, model } = deps;
  let queue: Queued[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  async function write(w: WriteContext, batch: Queued[]): Promise<DrainAction[]> {
    const cells = new Map<string, { row: repo.CountRow }>();
    const runs = new Map<string, number>();
    const longest = new Map<number, Map<string, number>>();
    const seen = new Map<string, number>();
    for (const q of batch) {
      const p = q.push;
      const last = seen.get(p.source) ?? model.sources.get(p.source)?.lastSeq ?? 0;
      if (p.seq <= last) continue;
      seen.set(p.source, p.seq);
      const counted: CountedSeries[] = [];
      const runList: [string, number][] = [];
      for (const s of p.series) {
        const node = tree.model.byPath(s.service);
        if (!node) continue;
        const c: CountedSeries = { nodeId: node.id, domain: s.domain, location: s.location, backend: s.backend, statuses: s.statuses, latency: s.latency };
        counted.push(c);
        for (const [tier, bucket] of [[0, fineBucket(p.from)], [1, hourBucket(p.from)]] as const) {
          const k = `${tier}\u0000${bucket}\u0000${seriesKey(c.nodeId, c.domain, c.location, c.backend)}`;
          let e = cells.get(k);
          if (!e) {
            const base: Cell = emptyCell();
            const stored = model.cell(c.nodeId, c.domain, c.location, c.backend, tier, bucket);
            if (stored) addCell(base, stored);
            e = { row: { nodeId: c.nodeId, domain: c.domain, location: c.location, backend: c.backend, tier, bucket, cell: base } };
            cells.set(k, e);
          }
          addCell(e.row.cell, c);
        }
        if (s.backend !== '' && s.runs) {
          const rk = `${p.source} ${node.id} ${s.backend}`;
          const attempts = Object.values(s.statuses).reduce((a, b) => a + b, 0);
          const j = joinRuns(runs.get(rk) ?? model.runs.get(rk) ?? 0, s.runs, attempts);
          runs.set(rk, j.run);
          runList.push([rk, j.run]);
          let m = longest.get(node.id);
          if (!m) longest.set(node.id, (m = new Map()));
          m.set(s.backend, Math.max(m.get(s.backend) ?? 0, j.longest));
        }
      }
      await repo.putSource(w.tx, p.source, q.machineId, p.seq, p.from, p.to);
      w.emit(AVAILABILITY_TOPIC, { kind: 'counts', source: p.source, machineId: q.machineId, seq: p.seq, from: p.from, to: p.to, series: counted, runs: runList });
    }
    await repo.putCounts(w.tx, [...cells.values()].map((e) => e.row));
    const now = deps.clock();
    return deps.ejector.consecutive(w, longest, now, (hosts, s, protect) => detectConsecutive(hosts, s.ejection, protect, now));
  }

  function flush(): void {
    timer = undefined;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    writing = writing.then(async () => {
      try {
        const actions = await writer.run(SYSTEM_ACTOR, (w) => write(w, batch));
        // Acknowledged once the ejections it caused are in discovery too: a crash before that is repaired by reconcile.
        await deps.ejector.carryOut(actions);
        for (const q of batch) q.resolve();
      } catch (err) {
        for (const q of batch) q.reject(err);
        deps.onError(err);
      }
    });
  }

  return {
    /** The `access` push handler: resolves once the batch is stored. */
    take(from: { machineId: number }, data: unknown): Promise<void> {
      const parsed = AccessPush.safeParse(data);
      if (!parsed.success) return Promise.reject(new ValidationError('not an access-count batch', parsed.error.issues.map((i) => ({ path: i.path.map((x) => (typeof x === 'symbol' ? String(x) : x)), message: i.message }))));
      return new Promise((resolve, reject) => {
        queue.push({ machineId: from.machineId, push: parsed.data, resolve, reject });
        timer ??= setTimeout(flush, deps.groupMs ?? 50);
      });
    },
    /** Write what is queued and wait for it (shutdown). */
    async drain(): Promise<void> {
      clearTimeout(timer);
      flush();
      await writing;
    },
  };
}
