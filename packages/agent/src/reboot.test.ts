import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { canMakeTestHosts, mkNodes, testBackends, type TestHosts, type TestServer } from '@canopy/server/testing';
import { parseRebootCommand } from './exec/reboot.ts';
import { startFleet, until, type Fleet, type RunningAgent } from './testing.ts';

const noHosts = canMakeTestHosts();
const CANOPY = join(import.meta.dirname, '../../../node_modules/.bin/canopy');
// A reboot on a test host: a new boot id, then the agent dies with the "machine" (kill -9 of its parent).
const REBOOT_SCRIPT = 'cat /proc/sys/kernel/random/uuid > "$1"\nkill -9 $PPID\n';

describe('--reboot-command', () => {
  test('takes words or a JSON array, and refuses an empty command or a NUL', () => {
    assert.deepEqual(parseRebootCommand('systemctl reboot'), ['systemctl', 'reboot']);
    assert.deepEqual(parseRebootCommand('["/bin/sh", "/x y.sh", "a;b"]'), ['/bin/sh', '/x y.sh', 'a;b']);
    assert.throws(() => parseRebootCommand('   '), /give a command/);
    assert.throws(() => parseRebootCommand('[]'), /give a command/);
    assert.throws(() => parseRebootCommand('["a", 1]'), /give a command/);
    assert.throws(() => parseRebootCommand('["a\\u0000b"]'), /NUL/);
    assert.throws(() => parseRebootCommand('[oops'), /JSON array/);
  });
});

for (const backend of testBackends()) {
  describe(`reboot jobs on test hosts (${backend.name})`, { skip: noHosts && `test hosts unavailable: ${noHosts}` }, () => {
    let s: TestServer;
    let hosts: TestHosts;
    let url: string;
    let dir: string;
    let agents: RunningAgent[] = [];
    let fleet: Fleet | undefined;
    const bootFile = (i: number) => join(dir, `boot-id-${i}`);

    const job = async (id: number) => (await s.call('GET', `/api/v1/jobs/${id}`)).body;
    const settled = (id: number, states: string[]) =>
      until(`job ${id} to be ${states.join('/')}`, async () => states.includes((await job(id)).state), 60_000).catch(async (err) => {
        const logs = agents.map((a) => `--- ${a.host.hostname}\n${a.log.slice(-15).join('\n')}`).join('\n');
        throw new Error(`${(err as Error).message}: ${JSON.stringify(await job(id))}\n${logs}`);
      });

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'canopy-reboot-'));
      writeFileSync(join(dir, 'reboot.sh'), REBOOT_SCRIPT, { mode: 0o755 });
      fleet = await startFleet({
        backend,
        count: 3,
        name: `reboot-${backend.name}`,
        server: { agents: { heartbeatMs: 300 } },
        agent: (_h, i) => {
          writeFileSync(bootFile(i), `${randomUUID()}\n`);
          // Host 2's "reboot" does nothing: its machine never goes down.
          const command = i < 2 ? JSON.stringify(['/bin/sh', join(dir, 'reboot.sh'), bootFile(i)]) : 'true';
          return { args: ['--boot-id-file', bootFile(i), '--reboot-command', command, '--reboot-grace-seconds', '2'], restartOnExitMs: 1500 };
        },
      });
      ({ s, hosts, url, agents } = fleet);
      await mkNodes(s, 'corp.reboot.fleet');
      await mkNodes(s, 'corp.reboot.stuck');
      for (const [i, h] of hosts.hosts.entries()) {
        const node = i < 2 ? 'corp.reboot.fleet' : 'corp.reboot.stuck';
        assert.ok((await s.call('PUT', `/api/v1/nodes/${node}/machines/${h.hostname}`)).status < 300);
      }
    });
    after(async () => {
      await fleet?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('reboots a batch at a time: each host completes when its agent is back on a new boot, with its downtime', async () => {
      const before = [0, 1].map((i) => readFileSync(bootFile(i), 'utf8').trim());
      const r = await s.call('POST', '/api/v1/jobs', { kind: 'reboot', target: { under: 'corp.reboot.fleet' }, batch: { size: 1 }, description: 'kernel update' });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.deepEqual(r.body.batches, [1, 1]);
      await settled(r.body.id, ['succeeded']);
      const d = await job(r.body.id);
      const [first, second] = d.hosts;
      for (const h of d.hosts) {
        assert.equal(h.taskState, 'COMPLETE');
        // The agent was started again 1.5 s after it died: the downtime covers at least that.
        assert.ok(h.downtimeSeconds >= 1, `downtime of ${h.hostname}: ${h.downtimeSeconds}`);
      }
      assert.ok(Date.parse(second.startedAt) >= Date.parse(first.finishedAt), 'the second batch began only after the first host was back');
      for (const i of [0, 1]) {
        assert.notEqual(readFileSync(bootFile(i), 'utf8').trim(), before[i], 'the reboot command ran');
        assert.equal(agents[i]!.restarts, 1, 'each agent came back once');
      }
      // The machine view shows the new boot id the agent reported on its return.
      const m = await s.call('GET', `/api/v1/machines/${hosts.hosts[0]!.hostname}`);
      assert.equal(m.body.agent.facts.bootId, readFileSync(bootFile(0), 'utf8').trim());
      assert.equal(agents[2]!.restarts, 0);

      const env = { ...process.env, CANOPY_URL: url, CANOPY_TOKEN: s.adminToken, HOME: '/nonexistent' };
      const shown = await promisify(execFile)(CANOPY, ['job', 'show', String(r.body.id)], { env });
      assert.match(shown.stdout, /DOWNTIME/);
      assert.match(shown.stdout, new RegExp(`${hosts.hosts[0]!.hostname} +1 +succeeded +${first.downtimeSeconds} s`));
    });

    test('a machine still on its old boot a grace after the reboot command fails: "the machine did not reboot"', async () => {
      const bootBefore = readFileSync(bootFile(2), 'utf8');
      const r = await s.call('POST', '/api/v1/jobs', { kind: 'reboot', target: { hosts: [hosts.hosts[2]!.hostname] } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      await settled(r.body.id, ['failed']);
      const [h] = (await job(r.body.id)).hosts;
      assert.equal(h.taskState, 'FAILED');
      assert.match(h.error, /the machine did not reboot/);
      assert.equal(h.downtimeSeconds, null);
      assert.equal(readFileSync(bootFile(2), 'utf8'), bootBefore);
      assert.equal(agents[2]!.restarts, 0);
    });

    test('a reboot job takes no command, and a description that is no safe reason is refused', async () => {
      const withCommand = await s.call('POST', '/api/v1/jobs', { kind: 'reboot', target: { under: 'corp.reboot.fleet' }, command: 'true' });
      assert.equal(withCommand.status, 400);
      assert.match(JSON.stringify(withCommand.body), /takes no command/);
      const listed = (await s.call('GET', '/api/v1/jobs?under=corp.reboot&limit=200')).body.items.length;
      const bad = await s.call('POST', '/api/v1/jobs', { kind: 'reboot', target: { under: 'corp.reboot.fleet' }, description: 'a\u0000b' });
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.equal((await s.call('GET', '/api/v1/jobs?under=corp.reboot&limit=200')).body.items.length, listed);
    });
  });
}
