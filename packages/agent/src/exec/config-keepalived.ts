/**
 * Applying an LVS version: the keepalived file the agent owns is replaced atomically (temp file,
 * fsync, rename), `keepalived --config-test` checks it, and SIGHUP to the running keepalived
 * reloads it. A refused file is replaced by the previous one again, so a later restart of
 * keepalived still starts from a config it accepted.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ConfigSpec } from '@canopy/core';
import { TaskError, type KeepalivedTarget } from './controller.ts';
import { fsyncDir, tail, writeSynced } from './config.ts';
import { runProgram } from './config-nginx.ts';

/**
 * Warnings keepalived raises for a virtual server whose real servers are all drained (weight 0):
 * the intended state of a drained service, so these lines alone do not refuse the file (the
 * control center's check accepts them too).
 */
const BENIGN = [
  /Warning - quorum \d+ for \S+ exceeds total weight of real servers 0, reducing quorum to 0$/,
  /Virtual server \S+: hysteresis \d+ >= quorum 0; setting hysteresis to \d+$/,
];

function replace(path: string, content: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  writeSynced(tmp, content, 0o644);
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

function runningPid(pidFile: string): number {
  try {
    const pid = Number.parseInt(readFileSync(pidFile, 'utf8'), 10);
    if (Number.isInteger(pid) && pid > 0 && existsSync(`/proc/${pid}`)) return pid;
  } catch {
    // no pid file
  }
  throw new TaskError(`keepalived is not running: no live pid in ${pidFile}`);
}

/** Write, check and reload one version; returns keepalived's output. */
export async function applyKeepalived(t: KeepalivedTarget, spec: ConfigSpec, taskDir: string): Promise<string> {
  const file = spec.files[0];
  if (!file) throw new TaskError('an LVS config needs its keepalived file');
  const savedPrev = join(taskDir, 'keepalived-previous');
  if (!existsSync(savedPrev)) writeSynced(savedPrev, existsSync(t.conf) ? readFileSync(t.conf, 'utf8') : '', 0o600);
  const prev = readFileSync(savedPrev, 'utf8');

  replace(t.conf, file.content);
  const test = await runProgram(t.bin, ['--config-test', '--all-config', '-f', t.conf]);
  const lines = test.output.split('\n').filter((l) => l.trim() !== '');
  const onlyBenign = test.code === 5 && lines.length > 0 && lines.every((l) => BENIGN.some((re) => re.test(l)));
  if (test.code !== 0 && !onlyBenign) {
    replace(t.conf, prev);
    throw new TaskError(`keepalived --config-test refused v${spec.version}; the previous file was put back:\n${tail(test.output)}`);
  }
  const pid = runningPid(t.pidFile);
  try {
    process.kill(pid, 'SIGHUP');
  } catch (err) {
    throw new TaskError(`keepalived (pid ${pid}) could not be signalled to reload: ${(err as Error).message}`);
  }
  return `${test.output}reloaded keepalived (SIGHUP to pid ${pid})\n`;
}
