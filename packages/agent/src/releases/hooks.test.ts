import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessTaskSpec } from '@canopy/core';
import { TaskError } from '../exec/controller.ts';
import { hookOf, runHook, taskLog, type TaskLog } from './index.ts';

let work: string;
let n = 0;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'canopy-hooks-'));
  chmodSync(work, 0o755);
});
after(() => rmSync(work, { recursive: true, force: true }));

function fresh(): { dir: string; log: TaskLog } {
  const dir = join(work, `t${++n}`);
  mkdirSync(dir, { mode: 0o755 });
  return { dir, log: taskLog(dir) };
}

const read = (p: string) => readFileSync(p, 'utf8');

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const spec = (over: Record<string, unknown>) =>
  ProcessTaskSpec.parse({ argv: ['/bin/true'], nodeId: 7, service: 'corp.web', generation: 3, env: { GREETING: 'hi' }, ...over });

describe('release hooks', () => {
  test('a hook runs its argv without a shell, in its directory with the process env, output in the task log', async () => {
    const { dir, log } = fresh();
    const s = spec({ release: { version: '2.0.0', dir }, hooks: { preStart: ['/bin/sh', '-c', 'echo "$GREETING from $(pwd) release $CANOPY_RELEASE in $CANOPY_RELEASE_DIR"; echo oops >&2', 'ignored $0'] } });
    await runHook('preStart', hookOf(s, 'preStart', log)!);
    const out = read(log.stdoutPath);
    assert.match(out, new RegExp(`hi from ${dir} release 2\\.0\\.0 in ${dir}\n`));
    assert.match(out, /canopy: preStart hook: \["\/bin\/sh"/);
    assert.match(out, /canopy: preStart hook passed/);
    assert.equal(read(log.stderrPath), 'oops\n');
    const literal = fresh();
    await runHook('postStart', { argv: ['/bin/echo', '$HOME; rm -rf /'], cwd: literal.dir, env: {}, timeoutSeconds: 5, log: literal.log });
    assert.match(read(literal.log.stdoutPath), /^\$HOME; rm -rf \/$/m, 'arguments are passed as they are');
  });

  test('a hook exiting non-zero fails with its status, as a fatal task error', async () => {
    const { dir, log } = fresh();
    await assert.rejects(
      runHook('postStart', { argv: ['/bin/sh', '-c', 'echo smoke test failed >&2; exit 3'], cwd: dir, env: {}, timeoutSeconds: 5, log }),
      (err: unknown) => err instanceof TaskError && !err.temporary && err.message === 'postStart hook exited with status 3',
    );
    assert.match(read(log.stderrPath), /smoke test failed/);
    assert.match(read(log.stdoutPath), /postStart hook exited with status 3/);
  });

  test('a hook outliving its timeout is killed with its whole process group', async () => {
    const { dir, log } = fresh();
    const pidFile = join(dir, 'child.pid');
    await assert.rejects(
      runHook('preStop', { argv: ['/bin/sh', '-c', `sleep 300 & echo $! > ${pidFile}; wait`], cwd: dir, env: {}, timeoutSeconds: 1, log }),
      (err: unknown) => err instanceof TaskError && /preStop hook timed out after 1 s \(killed\)/.test(err.message),
    );
    const child = Number(read(pidFile));
    for (let i = 0; i < 200 && alive(child); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(alive(child), false, 'the hook\'s own child is gone too');
  });

  test('a hook that cannot start fails with why', async () => {
    const { dir, log } = fresh();
    await assert.rejects(runHook('preStart', { argv: ['/nonexistent/migrate'], cwd: dir, env: {}, timeoutSeconds: 5, log }), /preStart hook could not start: .*ENOENT/);
    await assert.rejects(runHook('preStart', { argv: ['/bin/true'], cwd: join(dir, 'gone'), env: {}, timeoutSeconds: 5, log }), /does not exist/);
  });

  test('a hook runs as the process user', async (t) => {
    try {
      execFileSync('getent', ['passwd', 'nobody']);
    } catch {
      return t.skip('no "nobody" user on this machine');
    }
    if (process.getuid?.() !== 0) return t.skip('switching users needs root');
    const { dir, log } = fresh();
    await runHook('preStart', hookOf(spec({ user: 'nobody', release: { version: '1', dir }, hooks: { preStart: ['id', '-un'] } }), 'preStart', log)!);
    assert.match(read(log.stdoutPath), /^nobody$/m);
  });

  test('a spec without the hook has none to run', () => {
    assert.equal(hookOf(spec({}), 'postStart', fresh().log), undefined);
  });
});
