/**
 * Status reports to the control center, batched about every 100 ms. Each batch is numbered; it is
 * kept until the control center acknowledges it and sent again, in order, after a reconnect. The
 * latest status of a task replaces an older one not yet sent, and output chunks follow each other.
 */
import type { TaskReport } from '@canopy/core';

export interface ReporterOptions {
  /** Send one message; false when there is no session now (the batch waits). */
  send(msg: { t: 'report'; seq: number; reports: TaskReport[] }): boolean;
  intervalMs?: number;
}

export type Reporter = ReturnType<typeof createReporter>;

/** Build a reporter; call `start()` to begin flushing. */
export function createReporter(opts: ReporterOptions) {
  const intervalMs = opts.intervalMs ?? 100;
  let pending = new Map<string, TaskReport>();
  const unacked = new Map<number, TaskReport[]>();
  let seq = 0;
  let timer: NodeJS.Timeout | undefined;

  function merge(prev: TaskReport | undefined, next: TaskReport): TaskReport {
    if (!prev) return next;
    // Keep the newest state; join live output that continues the previous chunk.
    const joined: TaskReport = { ...prev, ...next };
    for (const s of ['stdout', 'stderr'] as const) {
      const at = `${s}At` as const;
      if (prev[s] !== undefined && next[s] !== undefined && next[at] !== undefined && prev[at] !== undefined) {
        joined[s] = prev[s] + next[s];
        joined[at] = prev[at];
      } else if (next[s] === undefined && prev[s] !== undefined) {
        joined[s] = prev[s];
        if (prev[at] !== undefined) joined[at] = prev[at];
      }
    }
    return joined;
  }

  function flush(): void {
    if (pending.size > 0) {
      const reports = [...pending.values()];
      pending = new Map();
      unacked.set(++seq, reports);
      opts.send({ t: 'report', seq, reports });
    }
  }

  return {
    /** Queue a report (a state change or an output chunk). */
    push(r: TaskReport): void {
      // A terminal report's output replaces any live chunk still queued.
      const prev = pending.get(r.taskId);
      pending.set(r.taskId, r.stdoutAt === undefined && r.stderrAt === undefined && (r.stdout !== undefined || r.stderr !== undefined) ? { ...r } : merge(prev, r));
    },
    /** The control center has stored every batch up to `n`. */
    ack(n: number): void {
      for (const k of unacked.keys()) if (k <= n) unacked.delete(k);
    },
    /** A new session: send every unacknowledged batch again, in order. */
    resend(): void {
      for (const [n, reports] of unacked) if (!opts.send({ t: 'report', seq: n, reports })) return;
    },
    /** Batches sent but not acknowledged. */
    get unacked(): number {
      return unacked.size;
    },
    flush,
    start(): void {
      timer ??= setInterval(flush, intervalMs);
    },
    stop(): void {
      clearInterval(timer);
      timer = undefined;
      flush();
    },
  };
}
