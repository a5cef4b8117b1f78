/**
 * The `cron.runs` push stream: agents report runs (started, ended, skipped) from their journals.
 * Pushes are validated, gathered for a few milliseconds and written together in one transaction,
 * and each push is acknowledged only once its runs are committed, so the agent keeps what was not.
 */
import { CronRunsPush, type CronRunReport } from '@canopy/core';
import type { Actor, Writer } from '../changes/index.ts';
import * as repo from './repo.ts';

export const CRON_RUNS_STREAM = 'cron.runs';
const GATHER_MS = 20;
const CRON_ACTOR: Actor = Object.freeze({ kind: 'system', id: null, name: 'cron', superuser: true });

// PostgreSQL text refuses NUL and jsonb unpaired surrogates; a command may print either.
const clean = (s: string): string => s.replaceAll('\u0000', '\uFFFD').toWellFormed();

interface Waiting {
  runs: { machineId: number; run: CronRunReport }[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** The push handler and its batcher. */
export function createRunSink(deps: { writer: Writer; keep: number; onError: (err: unknown) => void }) {
  let queue: Waiting[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  async function write(batch: Waiting[]): Promise<void> {
    // One row per id: within a batch the latest report of a run wins (a start and its end together).
    const byId = new Map<string, { machineId: number; run: CronRunReport }>();
    for (const w of batch) for (const r of w.runs) byId.set(r.run.id, r);
    const runs = [...byId.values()];
    const pairs = new Map(runs.map((r) => [`${r.machineId}/${r.run.name}`, { machineId: r.machineId, name: r.run.name }]));
    try {
      await deps.writer.run(CRON_ACTOR, async (w) => {
        for (let i = 0; i < runs.length; i += 500) await repo.upsertRuns(w.tx, runs.slice(i, i + 500));
        await repo.pruneRuns(w.tx, [...pairs.values()], deps.keep);
      });
      for (const w of batch) w.resolve();
    } catch (err) {
      deps.onError(err);
      for (const w of batch) w.reject(err);
    }
  }

  function flush(): void {
    timer = undefined;
    const batch = queue;
    queue = [];
    writing = writing.then(() => write(batch));
  }

  return {
    /** The dispatcher's push handler: resolves once the runs are committed. */
    handle(from: { machineId: number }, data: unknown): Promise<void> {
      const parsed = CronRunsPush.safeParse(data);
      if (!parsed.success) {
        const first = parsed.error.issues[0];
        return Promise.reject(new Error(`invalid cron runs: ${first ? `${first.path.join('.')}: ${first.message}` : 'invalid'}`));
      }
      const runs = parsed.data.runs.map((run) => ({ machineId: from.machineId, run: { ...run, stdout: clean(run.stdout), stderr: clean(run.stderr), reason: run.reason === null ? null : clean(run.reason) } }));
      return new Promise((resolve, reject) => {
        queue.push({ runs, resolve, reject });
        timer ??= setTimeout(flush, GATHER_MS);
      });
    },
    /** Write what is queued. */
    async stop(): Promise<void> {
      if (timer) {
        clearTimeout(timer);
        flush();
      }
      await writing;
    },
  };
}
