/**
 * The `config` kind: one published nginx or LVS config version applied on this machine. The files
 * are swapped in as a whole, the real program checks them against the machine's own main config,
 * and only then is the program reloaded; a refused version puts the previous files back, so what
 * runs keeps running. Config tasks of one target run one at a time, in the order they arrive.
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { ConfigSpec } from '@canopy/core';
import { TaskError, type Controller, type KeepalivedTarget, type NginxTarget, type TaskContext } from './controller.ts';
import { applyKeepalived } from './config-keepalived.ts';
import { applyNginx } from './config-nginx.ts';

/** Longest error text a report carries (TaskReport allows 8000). */
const MAX_ERROR = 7000;

/** The end of a long program output, which is where nginx and keepalived say what is wrong. */
export function tail(text: string, max = MAX_ERROR): string {
  return text.length <= max ? text : `…${text.slice(text.length - max + 1)}`;
}

/** Write `data` to `path` (created with `mode`) and flush it to disk before returning. */
export function writeSynced(path: string, data: string, mode = 0o644): void {
  const fd = openSync(path, 'w', mode);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flush a directory's entries (a rename or a new file in it) to disk. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The spec's files once more, by the agent's own rules: plain names (no path, no `..`), each once;
 * LVS versions are one keepalived file.
 */
export function checkFiles(spec: ConfigSpec): void {
  const seen = new Set<string>();
  for (const f of spec.files) {
    if (f.name.includes('..') || f.name.includes('/') || f.name.startsWith('.')) throw new TaskError(`refusing config file name "${f.name}": must be a plain file name`);
    if (seen.has(f.name)) throw new TaskError(`config file "${f.name}" is listed twice`);
    if (f.content.includes('\u0000')) throw new TaskError(`config file "${f.name}" contains a NUL character`);
    seen.add(f.name);
  }
  if (spec.target === 'lvs' && spec.files.length !== 1) throw new TaskError(`an LVS config is one keepalived file, not ${spec.files.length}`);
}

// One chain per target: a second version waits for the first to be applied (or refused).
const queues = new Map<string, Promise<unknown>>();

function serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const run = (queues.get(key) ?? Promise.resolve()).then(fn, fn);
  queues.set(key, run.catch(() => {}));
  return run;
}

/** A controller applying `spec` to the nginx or keepalived named by the agent's flags. */
export function configController(ctx: TaskContext, spec: ConfigSpec): Controller {
  const paths = { stdout: join(ctx.dir, 'stdout'), stderr: join(ctx.dir, 'stderr') };
  const label = `${spec.target} ${spec.cluster} v${spec.version}`;

  function target() {
    if (spec.target === 'nginx') {
      const t = ctx.settings?.nginx;
      if (!t) throw new TaskError('this agent manages no nginx: start it with --nginx-conf and --nginx-include-dir');
      return { key: `nginx:${t.includeDir}`, apply: () => applyNginx(t, spec, ctx.dir) };
    }
    const t = ctx.settings?.keepalived;
    if (!t) throw new TaskError('this agent manages no keepalived: start it with --keepalived-conf and --keepalived-pid');
    return { key: `keepalived:${t.conf}`, apply: () => applyKeepalived(t, spec, ctx.dir) };
  }

  return {
    async prepare() {
      checkFiles(spec);
      target();
    },
    async start() {
      ctx.task.startedAt ??= new Date().toISOString();
      ctx.save();
    },
    // The work happens in wait: a restart during it runs it again, and applying a version twice is harmless.
    async wait() {
      const t = target();
      const output = await serialized(t.key, t.apply);
      writeSynced(paths.stdout, `${label} applied\n${output}`, 0o600);
      ctx.task.finishedAt = new Date().toISOString();
      ctx.save();
      return 0;
    },
    async shutdown() {},
    async remove() {},
    output: () => ({ stdoutPath: paths.stdout, stderrPath: paths.stderr, limitBytes: 64 * 1024 }),
  };
}

/** Flags naming the local nginx and keepalived, as `canopy-agent run` takes them. */
export interface ConfigFlags {
  'nginx-conf'?: string | undefined;
  'nginx-include-dir'?: string | undefined;
  'nginx-bin'?: string | undefined;
  'nginx-pid'?: string | undefined;
  'keepalived-conf'?: string | undefined;
  'keepalived-pid'?: string | undefined;
  'keepalived-bin'?: string | undefined;
}

const absolute = (flag: string, v: string): string => {
  if (!isAbsolute(v) || v.includes('\u0000')) throw new Error(`--${flag} takes an absolute path`);
  return v;
};

/** The nginx and keepalived targets the flags name; throws a readable error for an incomplete or bad set. */
export function configTargets(f: ConfigFlags): { nginx?: NginxTarget; keepalived?: KeepalivedTarget } {
  const out: { nginx?: NginxTarget; keepalived?: KeepalivedTarget } = {};
  if (f['nginx-conf'] !== undefined || f['nginx-include-dir'] !== undefined) {
    if (f['nginx-conf'] === undefined || f['nginx-include-dir'] === undefined) throw new Error('--nginx-conf and --nginx-include-dir go together');
    out.nginx = {
      conf: absolute('nginx-conf', f['nginx-conf']),
      includeDir: absolute('nginx-include-dir', f['nginx-include-dir']),
      bin: absolute('nginx-bin', f['nginx-bin'] ?? '/usr/sbin/nginx'),
      ...(f['nginx-pid'] !== undefined ? { pidFile: absolute('nginx-pid', f['nginx-pid']) } : {}),
    };
  }
  if (f['keepalived-conf'] !== undefined || f['keepalived-pid'] !== undefined) {
    if (f['keepalived-conf'] === undefined || f['keepalived-pid'] === undefined) throw new Error('--keepalived-conf and --keepalived-pid go together');
    out.keepalived = {
      conf: absolute('keepalived-conf', f['keepalived-conf']),
      pidFile: absolute('keepalived-pid', f['keepalived-pid']),
      bin: absolute('keepalived-bin', f['keepalived-bin'] ?? '/usr/sbin/keepalived'),
    };
  }
  return out;
}
