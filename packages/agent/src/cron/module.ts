/**
 * The cron module: runs the machine's effective cron table (the `cron` document, persisted by the
 * module host, so it keeps running with no control center), applies each entry's overlap policy,
 * and reports every run on `cron.runs` from the on-disk journal, acknowledged, resent until taken.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Cron } from 'croner';
import { CronDocEntry, type CronRunReport, type CronSpec } from '@canopy/core';
import type { AgentModule, ModuleContext } from '../modules.ts';
import { openJournal, type Journal, type JournalRecord } from './journal.ts';
import { removeRun, spawned, startRun, waitRun, type RunEnd, type RunHandle } from './runner.ts';

export const CRON_DOC = 'cron';
export const CRON_RUNS_STREAM = 'cron.runs';
/** Bytes of reports per push (the session takes up to 64 MiB per message). */
const PUSH_BYTES = 4 * 1024 * 1024;
const RETRY_MS = 5000;
/** How the control center says a push can never be taken (see server/src/cron/runs.ts). */
const INVALID = /^invalid cron runs\b/;

interface Scheduled {
  entry: CronDocEntry;
  json: string;
  job: Cron;
}

/** Per entry key: runs in flight and whether one is queued behind them (`queue-one`). */
interface Activity {
  running: Set<string>;
  queued: { entry: CronDocEntry; at: string } | undefined;
}

/** The module; its state lives in the closure. */
export function cronModule(): AgentModule {
  let ctx: ModuleContext;
  let journal: Journal;
  let runsDir: string;
  const scheduled = new Map<string, Scheduled>();
  const activity = new Map<string, Activity>();
  const waits = new Set<{ cancel(): void }>();
  const acked = new Map<string, number>();
  let flushing = false;
  let again = false;
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;

  const act = (key: string): Activity => {
    let a = activity.get(key);
    if (!a) activity.set(key, (a = { running: new Set(), queued: undefined }));
    return a;
  };

  function report(entry: Pick<CronDocEntry, 'key' | 'name' | 'node'>, id: string, fields: Partial<CronRunReport> & Pick<CronRunReport, 'state' | 'scheduledAt'>): CronRunReport {
    return { id, key: entry.key, name: entry.name, node: entry.node, startedAt: null, endedAt: null, exitCode: null, reason: null, stdout: '', stderr: '', truncated: 0, ...fields };
  }

  function put(r: CronRunReport, started?: { handle: RunHandle; spec: CronSpec }): void {
    journal.put(r, started);
    void flush();
  }

  function fire(entry: CronDocEntry, at: string): void {
    if (stopped) return;
    const a = act(entry.key);
    if (a.running.size > 0 && entry.spec.overlap !== 'allow') {
      if (entry.spec.overlap === 'queue-one' && !a.queued) {
        a.queued = { entry, at };
        return;
      }
      const why = entry.spec.overlap === 'queue-one' ? 'a run is already queued behind the one still running' : 'the previous run is still running';
      put(report(entry, randomUUID(), { state: 'skipped', scheduledAt: at, endedAt: new Date().toISOString(), reason: `overlap: ${why}` }));
      return;
    }
    launch(entry, at);
  }

  function launch(entry: CronDocEntry, at: string): void {
    const id = randomUUID();
    // In the journal before it exists: an agent dying between the spawn and the record cannot lose it.
    const pending = report(entry, id, { state: 'running', scheduledAt: at, startedAt: new Date().toISOString() });
    journal.put(pending, { spec: entry.spec });
    let handle: RunHandle;
    try {
      handle = startRun(runsDir, id, entry.spec, { CANOPY_CRON_NAME: entry.name, CANOPY_CRON_RUN_ID: id, CANOPY_CRON_NODE: entry.node });
    } catch (err) {
      put({ ...pending, state: 'failed', endedAt: new Date().toISOString(), reason: err instanceof Error ? err.message : String(err) });
      removeRun(runsDir, id);
      return;
    }
    const started = { ...pending, startedAt: handle.startedAt };
    put(started, { handle, spec: entry.spec });
    follow(entry, started, handle);
  }

  /** Wait for a run (ours, or one adopted after a restart) and record its end. */
  function follow(entry: Pick<CronDocEntry, 'key' | 'name' | 'node' | 'spec'>, started: CronRunReport, handle: RunHandle): void {
    const a = act(entry.key);
    a.running.add(started.id);
    const w = waitRun(runsDir, started.id, entry.spec, handle);
    waits.add(w);
    void w.done.then((end: RunEnd) => {
      waits.delete(w);
      a.running.delete(started.id);
      put({ ...started, ...end, endedAt: new Date().toISOString() });
      removeRun(runsDir, started.id);
      const next = a.queued;
      if (next && a.running.size === 0 && !stopped) {
        a.queued = undefined;
        launch(scheduled.get(entry.key)?.entry ?? next.entry, next.at);
      }
    });
  }

  function apply(data: unknown): void {
    // Entry by entry: one this agent cannot read is left out (and said so), the others still run.
    const list = (data as { entries?: unknown } | null)?.entries;
    const entries: CronDocEntry[] = [];
    for (const raw of Array.isArray(list) ? list : []) {
      const parsed = CronDocEntry.safeParse(raw);
      if (parsed.success) entries.push(parsed.data);
      else ctx.log(`cron: leaving out an entry this agent cannot read (${(raw as { key?: unknown }).key ?? '?'}): ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    }
    const wanted = new Map(entries.map((e) => [e.key, e]));
    for (const [key, s] of scheduled) {
      if (wanted.has(key) && JSON.stringify(wanted.get(key)) === s.json) continue;
      s.job.stop();
      scheduled.delete(key);
      const a = activity.get(key);
      if (a && !wanted.has(key)) a.queued = undefined; // removed: what runs finishes, nothing new starts
    }
    for (const [key, entry] of wanted) {
      if (scheduled.has(key)) continue;
      const job = new Cron(entry.spec.schedule, { timezone: entry.spec.timezone, mode: '5-or-6-parts', catch: (err) => ctx.log(`cron ${entry.name}: ${String(err)}`) }, (self: Cron) => {
        const at = self.currentRun() ?? new Date();
        fire(entry, at.toISOString());
      });
      scheduled.set(key, { entry, json: JSON.stringify(entry), job });
    }
  }

  /** Push what the control center has not taken yet, in order of change. */
  async function flush(): Promise<void> {
    if (flushing) {
      again = true;
      return;
    }
    flushing = true;
    try {
      do {
        again = false;
        const todo = journal.unsent(acked);
        while (todo.length > 0 && ctx.connected() && !stopped) {
          const batch: JournalRecord[] = [];
          let bytes = 0;
          while (todo.length > 0 && batch.length < 500 && (batch.length === 0 || bytes + JSON.stringify(todo[0]!.report).length <= PUSH_BYTES)) {
            const r = todo.shift()!;
            bytes += JSON.stringify(r.report).length;
            batch.push(r);
          }
          await send(batch);
        }
      } while (again && ctx.connected() && !stopped);
    } catch (err) {
      ctx.log(`cron: runs not reported yet (${err instanceof Error ? err.message : String(err)}); retrying`);
      clearTimeout(retry);
      retry = setTimeout(() => void flush(), RETRY_MS);
      retry.unref();
    } finally {
      flushing = false;
    }
  }

  async function send(batch: JournalRecord[]): Promise<void> {
    try {
      await ctx.push(CRON_RUNS_STREAM, { runs: batch.map((r) => r.report) });
    } catch (err) {
      // Refused as invalid (not a passing failure): find the run it will never take, drop only that.
      if (!INVALID.test(err instanceof Error ? err.message : '')) throw err;
      if (batch.length === 1) {
        ctx.log(`cron: the control center refused run ${batch[0]!.report.id}: ${String(err)}; dropping it`);
        journal.drop(batch[0]!.report.id);
        return;
      }
      for (const r of batch) await send([r]);
      return;
    }
    for (const r of batch) {
      acked.set(r.report.id, r.seq);
      journal.acknowledged(r);
    }
  }

  return {
    name: 'cron',
    start(c) {
      ctx = c;
      stopped = false;
      const dir = join(c.stateDir, 'cron');
      runsDir = join(dir, 'runs');
      journal = openJournal(join(dir, 'journal'), { onDrop: (n) => c.log(`cron: the journal is full; dropped the ${n} oldest runs not yet reported`) });
      // Runs an earlier agent process started: adopt the live ones, close the rest.
      for (const r of journal.running()) {
        const entry = { key: r.report.key, name: r.report.name, node: r.report.node };
        const handle = r.handle ?? spawned(runsDir, r.report.id, r.report.startedAt);
        if (handle && r.spec) follow({ ...entry, spec: r.spec }, r.report, handle);
        else put({ ...r.report, state: 'lost', endedAt: new Date().toISOString(), reason: 'the agent stopped while starting it; it may not have run' });
      }
      c.onDoc(CRON_DOC, apply);
      c.onConnected(() => void flush());
      void flush();
    },
    stop() {
      stopped = true;
      clearTimeout(retry);
      for (const s of scheduled.values()) s.job.stop();
      scheduled.clear();
      // Commands keep running; the next agent process adopts them from the journal.
      for (const w of waits) w.cancel();
      waits.clear();
    },
  };
}
