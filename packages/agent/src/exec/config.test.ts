/**
 * The `config` appliers against the real programs, on this machine: keepalived (run for real in
 * its VRRP-only mode, since this kernel has no IPVS, so a reload is observed in its own log) and
 * the agent's own checks of specs and flags.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseTaskSpec, type ConfigSpec } from '@canopy/core';
import { applyKeepalived } from './config-keepalived.ts';
import { checkFiles, configTargets } from './config.ts';

const KEEPALIVED = ['/usr/sbin/keepalived', '/usr/local/sbin/keepalived', '/sbin/keepalived'].find((p) => existsSync(p));
if (!KEEPALIVED) console.error('\n!!! SKIPPING keepalived applier tests: keepalived not installed (apt-get install keepalived)\n');

const vs = (real: string) => `global_defs { router_id canopy_test }
virtual_server 10.99.0.1 80 {
  delay_loop 6
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server ${real} 80 { weight 1 }
}
`;
const spec = (version: number, content: string): ConfigSpec => ({ target: 'lvs', cluster: 'corp.lvs', version, files: [{ name: 'canopy-lvs.conf', content }] });

describe('the agent’s own checks of config specs and flags', () => {
  test('file names must be plain: a path, `..` or a hidden name is refused before anything is written', () => {
    assert.equal(parseTaskSpec('config', { target: 'nginx', cluster: 'x', version: 1, files: [{ name: '../etc/passwd', content: '' }] }).ok, false);
    for (const name of ['a..conf', '.hidden', 'x/y']) {
      assert.throws(() => checkFiles({ target: 'nginx', cluster: 'x', version: 1, files: [{ name, content: '' }] }), /must be a plain file name/);
    }
    assert.throws(() => checkFiles({ target: 'nginx', cluster: 'x', version: 1, files: [{ name: 'a.conf', content: '' }, { name: 'a.conf', content: '' }] }), /listed twice/);
    assert.throws(() => checkFiles({ target: 'lvs', cluster: 'x', version: 1, files: [] }), /one keepalived file/);
    assert.doesNotThrow(() => checkFiles(spec(1, vs('10.99.0.11'))));
  });

  test('flags: both nginx paths or none, absolute only; keepalived needs its pid file', () => {
    assert.deepEqual(configTargets({}), {});
    assert.throws(() => configTargets({ 'nginx-conf': '/etc/nginx/nginx.conf' }), /go together/);
    assert.throws(() => configTargets({ 'nginx-conf': 'nginx.conf', 'nginx-include-dir': '/etc/nginx/canopy' }), /absolute path/);
    assert.throws(() => configTargets({ 'keepalived-conf': '/etc/keepalived/keepalived.conf' }), /go together/);
    assert.deepEqual(configTargets({ 'nginx-conf': '/etc/nginx/nginx.conf', 'nginx-include-dir': '/etc/nginx/canopy' }).nginx, { conf: '/etc/nginx/nginx.conf', includeDir: '/etc/nginx/canopy', bin: '/usr/sbin/nginx' });
  });
});

describe('applying LVS versions to a running keepalived', { skip: KEEPALIVED ? false : 'keepalived not installed' }, () => {
  let dir = '';
  let proc: ChildProcess | undefined;
  const log: string[] = [];
  const target = () => ({ conf: join(dir, 'keepalived.conf'), pidFile: join(dir, 'keepalived.pid'), bin: KEEPALIVED! });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'canopy-keepalived-apply-'));
    writeFileSync(join(dir, 'keepalived.conf'), vs('10.99.0.10'));
    // VRRP only (-P): this kernel has no IPVS for the checker; the config is still read on every reload.
    proc = spawn(KEEPALIVED!, ['-n', '-l', '-P', '-f', join(dir, 'keepalived.conf'), '-p', join(dir, 'keepalived.pid'), '-r', join(dir, 'vrrp.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [proc.stdout, proc.stderr]) s?.on('data', (d: Buffer) => log.push(...String(d).split('\n')));
    for (let i = 0; i < 200 && !existsSync(join(dir, 'keepalived.pid')); i++) await sleep(25);
  });
  after(async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc!.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const reloads = () => log.filter((l) => l.includes('Reloading')).length;

  test('a valid version replaces the file and keepalived reloads it', async () => {
    const task = mkdtempSync(join(dir, 'task-'));
    const out = await applyKeepalived(target(), spec(2, vs('10.99.0.11')), task);
    assert.match(out, /reloaded keepalived \(SIGHUP to pid \d+\)/);
    assert.equal(readFileSync(target().conf, 'utf8'), vs('10.99.0.11'));
    for (let i = 0; i < 200 && reloads() === 0; i++) await sleep(25);
    assert.equal(reloads(), 1, log.join('\n'));
  });

  test('a version keepalived refuses puts the previous file back and does not reload', async () => {
    const task = mkdtempSync(join(dir, 'task-'));
    const before = reloads();
    await assert.rejects(applyKeepalived(target(), spec(3, 'virtual_server 10.99.0.1 80 {\n  lb_kind NOPE\n  real_server bogus\n'), task), /keepalived --config-test refused v3; the previous file was put back/);
    assert.equal(readFileSync(target().conf, 'utf8'), vs('10.99.0.11'));
    await sleep(300);
    assert.equal(reloads(), before);
  });

  test('a keepalived that is not running fails the task, naming its pid file', async () => {
    const task = mkdtempSync(join(dir, 'task-'));
    await assert.rejects(applyKeepalived({ ...target(), pidFile: join(dir, 'nope.pid') }, spec(4, vs('10.99.0.12')), task), /keepalived is not running: no live pid in .*nope\.pid/);
  });
});
