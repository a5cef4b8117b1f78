/**
 * Reboot the machine. The task cannot finish in the process that starts it: the agent saves the
 * boot id it is leaving (and when) in the task's stored record, reports "rebooting", waits the
 * spec's delay so that report gets out, and runs the reboot command. The agent that comes back
 * after the boot resumes the task, sees another boot id and completes it with the downtime (from
 * the reboot command to the resume). A machine still on the old boot id a grace after the command
 * exited did not reboot: the task fails saying so.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TaskState, type RebootSpec } from '@canopy/core';
import { readBootId } from '../facts.ts';
import { TaskError, type AgentSettings, type Controller, type TaskContext } from './controller.ts';

/** What the task keeps across the reboot, in its stored record. */
interface RebootRecord {
  leavingBootId: string;
  rebootingAt: string;
  commandAt?: string | undefined;
  commandExitedAt?: string | undefined;
  backAt?: string | undefined;
  newBootId?: string | undefined;
  downtimeSeconds?: number | undefined;
}

const DEFAULT_GRACE_SECONDS = 300;
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The reboot command this machine uses: the flag's, else systemd's where systemd runs, else /sbin/reboot. */
export function rebootCommand(settings: AgentSettings = {}): string[] {
  if (settings.rebootCommand && settings.rebootCommand.length > 0) return settings.rebootCommand;
  return existsSync('/run/systemd/system') ? ['systemctl', 'reboot'] : ['/sbin/reboot'];
}

/**
 * Parse `--reboot-command`: a JSON array of strings, or words split on blanks (no shell, no
 * quoting). Throws on an empty command or a NUL.
 */
export function parseRebootCommand(text: string): string[] {
  let argv: unknown;
  if (text.trimStart().startsWith('[')) {
    try {
      argv = JSON.parse(text);
    } catch {
      throw new Error('--reboot-command: not a JSON array of strings');
    }
  } else argv = text.split(/[ \t]+/).filter((w) => w !== '');
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string' && a !== '')) {
    throw new Error('--reboot-command: give a command (words, or a JSON array of non-empty strings)');
  }
  if (argv.some((a: string) => a.includes('\u0000'))) throw new Error('--reboot-command: may not contain NUL');
  return argv as string[];
}

/** Run `argv` detached (the reboot may take the agent down first); resolves with its exit and stderr. */
function runCommand(argv: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH, LANG: 'C.UTF-8' } });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += String(d);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stderr: err.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : null), stderr: stderr.trim() });
    });
  });
}

/** A controller rebooting the machine under `spec`. */
export function rebootController(ctx: TaskContext, spec: RebootSpec): Controller {
  const { task } = ctx;
  const settings = ctx.settings ?? {};
  const graceMs = (settings.rebootGraceSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;
  const record = (): RebootRecord | undefined => task.data?.['reboot'] as RebootRecord | undefined;
  const save = (r: RebootRecord) => {
    task.data = { ...task.data, reboot: r };
    ctx.save();
  };
  const bootId = () => readBootId(settings);
  const short = (id: string | undefined) => (id ?? '?').slice(0, 8);

  function cameBack(r: RebootRecord): boolean {
    const now = bootId();
    if (now === null || now === r.leavingBootId) return false;
    if (r.backAt === undefined) {
      const from = Date.parse(r.commandAt ?? r.rebootingAt);
      save({ ...r, backAt: new Date().toISOString(), newBootId: now, downtimeSeconds: Math.round((Date.now() - from) / 100) / 10 });
    }
    return true;
  }

  return {
    async prepare() {
      if (bootId() === null) throw new TaskError('cannot read the boot id, so the reboot could not be confirmed');
    },

    async start() {
      if (record()) return; // resumed after the reboot (or a restart): the record is what counts
      save({ leavingBootId: bootId() ?? '', rebootingAt: new Date().toISOString() });
    },

    async wait(signal) {
      let r = record();
      if (!r) throw new TaskError('the reboot was never started');
      if (cameBack(r)) return 0;
      if (r.commandAt === undefined) {
        const left = Date.parse(r.rebootingAt) + spec.delaySeconds * 1000 - Date.now();
        if (left > 0) await sleep(left, undefined, { signal }).catch(() => {});
        if (signal.aborted) throw new TaskError('wait interrupted', { temporary: true });
        r = { ...r, commandAt: new Date().toISOString() };
        save(r);
        const argv = rebootCommand(settings);
        const out = await runCommand(argv, graceMs);
        r = { ...r, commandExitedAt: new Date().toISOString() };
        save(r);
        if (out.code !== 0) throw new TaskError(`the reboot command (${argv.join(' ')}) ${out.code === null ? 'could not run' : `exited ${out.code}`}${out.stderr ? `: ${out.stderr}` : ''}`);
      }
      const deadline = Date.parse(r.commandExitedAt ?? r.commandAt!) + graceMs;
      while (Date.now() < deadline) {
        if (signal.aborted) throw new TaskError('wait interrupted', { temporary: true });
        if (cameBack(record()!)) return 0;
        await sleep(Math.min(200, Math.max(1, deadline - Date.now())));
      }
      throw new TaskError(`the machine did not reboot: boot id ${short(r.leavingBootId)} still ${Math.round(graceMs / 1000)} s after the reboot command`);
    },

    async shutdown() {
      // Before the command ran there is nothing to undo; after it, nothing can be.
    },

    async remove() {},

    message(state) {
      const r = record();
      if (!r) return undefined;
      if (state === TaskState.RUNNING && r.backAt === undefined) return `rebooting (leaving boot ${short(r.leavingBootId)})`;
      if (state === TaskState.COMPLETE && r.backAt !== undefined) return `back from the reboot: downtime ${r.downtimeSeconds} s (boot ${short(r.leavingBootId)} → ${short(r.newBootId)})`;
      return undefined;
    },
  };
}
