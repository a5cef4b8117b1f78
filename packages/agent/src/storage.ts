/**
 * The agent's state dir: its credential (0600, never logged) and one folder per task holding the
 * task as assigned, its last status, and the files its process writes (pid, exit status, output).
 * Every record is written to a temporary file and renamed over the old one, so a kill -9 at any
 * moment leaves either the old record or the new one.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskAssignment, TaskStatus } from '@canopy/core';

/** What the agent keeps of one task. */
export interface StoredTask {
  assignment: TaskAssignment;
  status: TaskStatus;
  /** The wrapper shell's pid and its start time (clock ticks since boot), once started. */
  pid?: number | undefined;
  pidStart?: string | undefined;
  /** Set when the agent itself stopped the process (stop, timeout), with why. */
  killedBecause?: string | undefined;
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
  /** A controller's own record, kept across restarts (the reboot's boot id it is leaving…). */
  data?: Record<string, unknown> | undefined;
}

export interface Credential {
  url: string;
  token: string;
  hostname: string;
  /** SHA-256 fingerprint of the control center's certificate, pinned at enrollment. */
  fingerprint?: string | undefined;
  /** The CA (or self-signed certificate) the control center's chain ended in at enrollment. */
  caPem?: string | undefined;
}

/** Write `data` to `path` atomically with mode `mode`. */
export function writeFileAtomic(path: string, data: string, mode = 0o600): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export type Storage = ReturnType<typeof openStorage>;

/** Open (creating) the state dir at `dir`. */
export function openStorage(dir: string) {
  const tasksDir = join(dir, 'tasks');
  mkdirSync(tasksDir, { recursive: true, mode: 0o700 });

  const taskDir = (id: string) => join(tasksDir, id);
  const readJson = <T>(path: string): T | undefined => {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as T;
    } catch {
      return undefined;
    }
  };

  return {
    dir,
    credentialPath: join(dir, 'credential.json'),
    /** The credential, if the agent has enrolled or been given one. */
    readCredential(): Credential | undefined {
      return readJson<Credential>(join(dir, 'credential.json'));
    },
    writeCredential(c: Credential): void {
      writeFileAtomic(join(dir, 'credential.json'), JSON.stringify(c, null, 2));
    },
    /** The folder of one task's files (created). */
    taskDir(id: string): string {
      const d = taskDir(id);
      mkdirSync(d, { recursive: true, mode: 0o700 });
      return d;
    },
    saveTask(t: StoredTask): void {
      writeFileAtomic(join(this.taskDir(t.assignment.taskId), 'task.json'), JSON.stringify(t));
    },
    /** Every task the state dir holds. */
    loadTasks(): StoredTask[] {
      const out: StoredTask[] = [];
      for (const id of readdirSync(tasksDir)) {
        const t = readJson<StoredTask>(join(tasksDir, id, 'task.json'));
        if (t) out.push(t);
        else rmSync(join(tasksDir, id), { recursive: true, force: true }); // assigned but never saved
      }
      return out;
    },
    removeTask(id: string): void {
      rmSync(taskDir(id), { recursive: true, force: true });
    },
    /** Size of a file, 0 when it is absent. */
    sizeOf(path: string): number {
      try {
        return statSync(path).size;
      } catch {
        return 0;
      }
    },
  };
}
