/**
 * The agent's process supervisor: every `process` task's program, their records in the state dir
 * (`supervisor/<task>.json`), log rotation, and who hears of state changes. One per state dir,
 * shared by the `process` controller (start, stop) and the supervisor module (pushes, log streams);
 * built on first use, when it adopts what a previous agent left running.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessLive, ProcessTaskSpec } from '@canopy/core';
import { writeFileAtomic } from '../storage.ts';
import { LOG_STREAMS, logDir, rotateIfDue } from './logs.ts';
import { createProgram, type Program, type ProgramRecord } from './program.ts';

export type Listener = (live: ProcessLive, drain: boolean) => void | Promise<void>;

export interface SupervisorOptions {
  stateDir: string;
  log?: ((msg: string) => void) | undefined;
  /** How often logs are checked for rotation; default 10 s. */
  rotateEveryMs?: number | undefined;
}

export type Supervisor = ReturnType<typeof createSupervisor>;

const shared = new Map<string, Supervisor>();

/** The supervisor of the agent whose state dir is `stateDir` (made on first use). */
export function supervisorAt(stateDir: string, log?: (msg: string) => void): Supervisor {
  let s = shared.get(stateDir);
  if (!s) {
    s = createSupervisor({ stateDir, log });
    shared.set(stateDir, s);
  }
  return s;
}

/** The supervisor of `stateDir` if one was made (the metrics module reads it, never makes one). */
export function supervisorIfAny(stateDir: string): Supervisor | undefined {
  return shared.get(stateDir);
}

/** Build a supervisor over `stateDir` and adopt the programs it records. */
export function createSupervisor(opts: SupervisorOptions) {
  const dir = join(opts.stateDir, 'supervisor');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const log = opts.log ?? (() => {});
  const programs = new Map<string, Program>();
  const listeners = new Set<Listener>();
  let rotating = false;

  const recordPath = (taskId: string) => join(dir, `${taskId}.json`);

  function make(rec: ProgramRecord): Program {
    const p = createProgram(rec, {
      exitPath: join(dir, `${rec.taskId}.run`),
      logDir: logDir(opts.stateDir, rec.spec.nodeId),
      save: (r) => writeFileAtomic(recordPath(r.taskId), JSON.stringify(r)),
      changed: async (live, drain) => {
        await Promise.all([...listeners].map((l) => Promise.resolve(l(live, drain)).catch((err: unknown) => log(`process listener: ${String(err)}`))));
      },
      log,
    });
    programs.set(rec.taskId, p);
    return p;
  }

  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json')) continue;
    try {
      make(JSON.parse(readFileSync(join(dir, f), 'utf8')) as ProgramRecord).resume();
    } catch (err) {
      log(`supervisor: cannot read ${f}: ${String(err)}`);
    }
  }

  const rotateTimer = setInterval(() => {
    if (rotating) return;
    rotating = true;
    void rotateAll().finally(() => (rotating = false));
  }, opts.rotateEveryMs ?? 10_000);
  rotateTimer.unref();

  async function rotateAll(): Promise<void> {
    const byNode = new Map<number, ProcessTaskSpec>();
    for (const p of programs.values()) byNode.set(p.record.spec.nodeId, p.record.spec);
    for (const spec of byNode.values()) {
      for (const stream of LOG_STREAMS) {
        await rotateIfDue(logDir(opts.stateDir, spec.nodeId), stream, spec.logs).catch((err: unknown) => log(`rotating ${spec.service} ${stream}: ${String(err)}`));
      }
    }
  }

  return {
    stateDir: opts.stateDir,
    /**
     * Run task `taskId`'s program (once: a second call, after an agent restart, finds it). A program of
     * the same node from an older task is stopped first, drained like any stop: the new task replaces it.
     */
    async ensure(taskId: string, spec: ProcessTaskSpec): Promise<ProcessLive> {
      let p = programs.get(taskId);
      if (!p) {
        for (const [id, other] of programs) {
          if (id !== taskId && other.record.spec.nodeId === spec.nodeId) await other.stop(`replaced by generation ${spec.generation}`);
        }
        p = programs.get(taskId) ?? make({ taskId, spec, state: 'starting', restarts: 0, restartTimes: [], attempt: 0, lastExit: null, message: 'starting' });
        p.begin();
      }
      return p.live();
    },
    /** Stop task `taskId`'s program (drained first); resolves once it is stopped. */
    async stop(taskId: string, reason: string): Promise<void> {
      await programs.get(taskId)?.stop(reason);
    },
    /** Drop task `taskId`'s record (its logs stay with the node's folder). */
    async forget(taskId: string): Promise<void> {
      const p = programs.get(taskId);
      if (!p) return;
      await p.stop('removed');
      p.detach();
      programs.delete(taskId);
      for (const f of [`${taskId}.json`, `${taskId}.run`, `${taskId}.run.pid`, `${taskId}.run.tmp`]) rmSync(join(dir, f), { force: true });
    },
    get: (taskId: string) => programs.get(taskId)?.live(),
    list: (): ProcessLive[] => [...programs.values()].map((p) => p.live()),
    /** Every program with the service (node path) it runs. */
    programs: (): { service: string; live: ProcessLive }[] => [...programs.values()].map((p) => ({ service: p.record.spec.service, live: p.live() })),
    /** The log folder of node `nodeId`'s process. */
    logDir: (nodeId: number) => logDir(opts.stateDir, nodeId),
    rotateAll,
    /** Hear every state change; returns what stops it. */
    onChange(fn: Listener): () => void {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    /** Stop watching (the agent stops); apps keep running and the next agent adopts them. */
    detach(): void {
      clearInterval(rotateTimer);
      for (const p of programs.values()) p.detach();
      programs.clear();
      shared.delete(opts.stateDir);
    },
  };
}
