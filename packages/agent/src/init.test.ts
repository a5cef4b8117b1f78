import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { canMakeTestHosts, mkNodes, testBackends, type TestHosts, type TestServer } from '@canopy/server/testing';
import { startFleet, until, type Fleet } from './testing.ts';

const noHosts = canMakeTestHosts();
const CANOPY = join(import.meta.dirname, '../../../node_modules/.bin/canopy');

for (const backend of testBackends()) {
  describe(`init jobs on test hosts (${backend.name})`, { skip: noHosts && `test hosts unavailable: ${noHosts}` }, () => {
    let s: TestServer;
    let hosts: TestHosts;
    let url: string;
    let fleet: Fleet | undefined;
    const job = async (id: number) => (await s.call('GET', `/api/v1/jobs/${id}`)).body;
    const canopy = async (args: string[]) => {
      const env = { ...process.env, CANOPY_URL: url, CANOPY_TOKEN: s.adminToken, HOME: '/nonexistent' };
      try {
        const r = await promisify(execFile)(CANOPY, args, { env });
        return { code: 0, stdout: r.stdout, stderr: r.stderr };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };

    before(async () => {
      fleet = await startFleet({ backend, count: 2, name: `init-${backend.name}`, server: { agents: { heartbeatMs: 300 } } });
      ({ s, hosts, url } = fleet);
      await mkNodes(s, 'corp.init.inherits');
      await mkNodes(s, 'corp.init.own');
      for (const [h, node] of [[hosts.hosts[0]!, 'corp.init.inherits'], [hosts.hosts[1]!, 'corp.init.own']] as const) {
        assert.ok((await s.call('PUT', `/api/v1/nodes/${node}/machines/${h.hostname}`)).status < 300);
      }
    });
    after(() => fleet?.close());

    test("each machine runs its node's init command: one inherited from the parent, one its own", async () => {
      // The parent's is a script reading the host's own address, so the output proves where it ran.
      const parent = await canopy(['machine', 'init-command', 'set', 'corp.init', '--', '/bin/sh', '-c', 'echo parent-init on $(ip -o -4 addr show eth0 | cut -d" " -f7)']);
      assert.equal(parent.code, 0, parent.stderr);
      assert.equal((await s.call('PUT', '/api/v1/nodes/corp.init.own/init-command', { script: 'echo own-init\nexit 3\n', okExitCodes: [0, 3] })).status, 200);
      const shown = await canopy(['machine', 'init-command', 'get', 'corp.init.inherits']);
      assert.match(shown.stdout, /^corp\.init\.inherits: \/bin\/sh -c echo parent-init .*inherited from corp\.init\)$/m);

      const r = await s.call('POST', '/api/v1/jobs', { kind: 'init', target: { under: 'corp.init' }, batch: { size: 1 } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      await until(`job ${r.body.id} to end`, async () => ['succeeded', 'failed', 'paused'].includes((await job(r.body.id)).state), 60_000);
      const d = await job(r.body.id);
      assert.equal(d.state, 'succeeded', JSON.stringify(d));
      const out = Object.fromEntries(d.groups.map((g: { hosts: string[]; stdout: string; exitCode: number }) => [g.hosts[0], [g.stdout, g.exitCode]]));
      assert.deepEqual(out, {
        [hosts.hosts[0]!.hostname]: [`parent-init on ${hosts.hosts[0]!.address}/24\n`, 0],
        [hosts.hosts[1]!.hostname]: ['own-init\n', 3],
      });
      const audited = (await s.call('GET', '/api/v1/audit?operation=job.create&limit=5')).body.items.find((e: { target: string }) => e.target === String(r.body.id));
      assert.equal(audited.after.kind, 'init');
    });

    test('an init job given its own command runs that on every machine instead', async () => {
      const r = await s.call('POST', '/api/v1/jobs', { kind: 'init', target: { under: 'corp.init' }, command: ['/bin/echo', 'override'] });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      await until(`job ${r.body.id} to end`, async () => ['succeeded', 'failed'].includes((await job(r.body.id)).state), 60_000);
      const d = await job(r.body.id);
      assert.deepEqual(d.groups.map((g: { count: number; stdout: string }) => [g.count, g.stdout]), [[2, 'override\n']]);
    });

    test('a bad command is refused by the CLI and the API, and the node keeps its own', async () => {
      const before = (await s.call('GET', '/api/v1/nodes/corp.init.own/init-command')).body;
      const empty = await s.call('PUT', '/api/v1/nodes/corp.init.own/init-command', { argv: [] });
      assert.equal(empty.status, 400);
      // A NUL cannot travel in argv; a script file can carry one.
      const file = join(mkdtempSync(join(tmpdir(), 'canopy-init-')), 'init.sh');
      writeFileSync(file, 'echo a\u0000b\n');
      const nul = await canopy(['machine', 'init-command', 'set', 'corp.init.own', '--script', file]);
      rmSync(dirname(file), { recursive: true, force: true });
      assert.notEqual(nul.code, 0);
      assert.match(nul.stderr, /NUL/);
      assert.deepEqual((await s.call('GET', '/api/v1/nodes/corp.init.own/init-command')).body, before);
      const rm = await canopy(['machine', 'init-command', 'rm', 'corp.init.own']);
      assert.equal(rm.code, 0, rm.stderr);
      assert.equal((await s.call('GET', '/api/v1/nodes/corp.init.own/init-command')).body.from, 'corp.init');
    });
  });
}
