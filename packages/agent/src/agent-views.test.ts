import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { canMakeTestHosts, mkNodes, testBackends, type TestHosts, type TestServer } from '@canopy/server/testing';
import { AGENT_VERSION } from './daemon.ts';
import { startFleet, until, type Fleet, type RunningAgent } from './testing.ts';

const noHosts = canMakeTestHosts();
const CANOPY = join(import.meta.dirname, '../../../node_modules/.bin/canopy');
const noNginx = ['/usr/sbin/nginx', '/usr/bin/nginx'].some(existsSync) ? '' : 'nginx not installed (apt-get install nginx-light): the nginx render is not checked';
if (noNginx) console.error(`\n!!! ${noNginx}\n`);

for (const backend of testBackends()) {
  describe(`agent state in machine views, and unreachable machines' instances (${backend.name})`, { skip: noHosts && `test hosts unavailable: ${noHosts}` }, () => {
    let s: TestServer;
    let hosts: TestHosts;
    let url: string;
    let dir: string;
    let creds: Map<string, { id: number; token: string }>;
    let agents: RunningAgent[] = [];
    let fleet: Fleet | undefined;
    const bootFile = (i: number) => join(dir, `boot-id-${i}`);
    const machine = async (h: string) => (await s.call('GET', `/api/v1/machines/${h}`)).body;
    const canopy = (args: string[]) => promisify(execFile)(CANOPY, args, { env: { ...process.env, CANOPY_URL: url, CANOPY_TOKEN: s.adminToken, HOME: '/nonexistent' } });

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'canopy-views-'));
      fleet = await startFleet({
        backend,
        count: 2,
        name: `views-${backend.name}`,
        server: { agents: { heartbeatMs: 300 }, proxyDebounceMs: 50 },
        agent: (_h, i) => {
          writeFileSync(bootFile(i), `${randomUUID()}\n`);
          return { args: ['--boot-id-file', bootFile(i), '--facts-check-seconds', '1'] };
        },
      });
      ({ s, hosts, url, creds, agents } = fleet);
      await mkNodes(s, 'corp.views.web');
      for (const h of hosts.hosts) assert.ok((await s.call('PUT', `/api/v1/nodes/corp.views.web/machines/${h.hostname}`)).status < 300);
      assert.equal((await s.call('POST', '/api/v1/machines', { hostname: 'views-x-no-agent', ips: ['10.77.0.9'], nodes: ['corp.views.web'], status: 'online' })).status, 201);
    });
    after(async () => {
      await fleet?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('a machine, the subtree listing and `canopy machine show` carry the agent: state, heartbeat, version, facts', async () => {
      const [h0] = hosts.hosts;
      const m = await machine(h0!.hostname);
      assert.equal(m.agent.state, 'connected');
      assert.equal(m.agent.version, AGENT_VERSION);
      assert.ok(Date.parse(m.agent.lastHeartbeatAt) > 0 && Date.parse(m.agent.connectedAt) > 0);
      assert.equal(m.agent.facts.hostname, h0!.hostname);
      assert.ok(m.agent.facts.ips.includes(h0!.address), JSON.stringify(m.agent.facts.ips));
      assert.ok(m.agent.facts.cpus >= 1 && m.agent.facts.memoryBytes > 0);

      const list = (await s.call('GET', '/api/v1/machines?under=corp.views&limit=10')).body.items;
      assert.deepEqual(list.map((x: { hostname: string; agent: { state: string } }) => [x.hostname, x.agent.state]), [
        [hosts.hosts[0]!.hostname, 'connected'], [hosts.hosts[1]!.hostname, 'connected'], ['views-x-no-agent', 'never'],
      ]);
      const none = await machine('views-x-no-agent');
      assert.deepEqual(none.agent, { state: 'never', lastHeartbeatAt: null, connectedAt: null, version: null, facts: null });

      const shown = await canopy(['machine', 'show', h0!.hostname]);
      assert.match(shown.stdout, /^agent: +connected$/m);
      assert.match(shown.stdout, new RegExp(`^agent version: +${AGENT_VERSION.replaceAll('.', '\\.')}$`, 'm'));
      assert.match(shown.stdout, new RegExp(`^facts: ips: +.*${h0!.address.replaceAll('.', '\\.')}`, 'm'));
      assert.equal(JSON.parse((await canopy(['machine', 'show', h0!.hostname, '--json'])).stdout).agent.state, 'connected');
      assert.match((await canopy(['machine', 'show', 'views-x-no-agent'])).stdout, /^agent: +never enrolled$/m);
    });

    test('facts that change on the machine reach its view without a reconnect', async () => {
      const h1 = hosts.hosts[1]!;
      const connectedAt = (await machine(h1.hostname)).agent.connectedAt;
      const next = randomUUID();
      writeFileSync(bootFile(1), `${next}\n`);
      await until('the new facts', async () => (await machine(h1.hostname)).agent.facts.bootId === next, 30_000);
      assert.equal((await machine(h1.hostname)).agent.connectedAt, connectedAt, 'sent on the open session');
    });

    test('a cut link: the machine shows unreachable and its instances stop serving in discovery and nginx; restored, they serve again', async () => {
      const [h0, h1] = hosts.hosts as [typeof hosts.hosts[0], typeof hosts.hosts[0]];
      assert.equal((await s.call('PUT', '/api/v1/services/corp.views.web', { ports: [{ name: 'http', port: 8080 }] })).status, 201);
      for (const h of [h0, h1]) assert.equal((await s.call('PUT', `/api/v1/services/corp.views.web/instances/${h.hostname}/8080`, {})).status, 201);
      const serving = async () => {
        const a = (await s.call('GET', '/api/v1/services/corp.views.web/instances')).body;
        return a.instances.filter((i: { serving: boolean }) => i.serving).map((i: { hostname: string }) => i.hostname).sort();
      };
      assert.deepEqual(await serving(), [h0!.hostname, h1!.hostname]);

      const cluster = '/api/v1/nginx/clusters/corp.views.edge';
      let upstreams = async () => '';
      if (!noNginx) {
        await mkNodes(s, 'corp.views.edge');
        assert.ok((await s.call('PUT', '/api/v1/domains/views.example.com', { ports: [{ port: 8080 }] })).status < 300);
        assert.ok((await s.call('PUT', '/api/v1/nodes/corp.views.web/nginx', { domainUris: [{ domain: 'views.example.com', uri: '/' }], port: 8080 })).status < 300);
        assert.ok((await s.call('PUT', cluster, { domains: ['views.example.com'], listenAddress: '127.0.0.1' })).status < 300);
        const applied = await s.call('POST', `${cluster}/apply`, { reason: 'views test' });
        assert.equal(applied.status, 200, JSON.stringify(applied.body));
        upstreams = async () => {
          const c = (await s.call('GET', `${cluster}/config`)).body;
          return (c.files as { path: string; content: string }[]).find((f) => f.path.includes('upstreams'))?.content ?? '';
        };
        assert.match(await upstreams(), new RegExp(`server ${h0.address.replaceAll('.', '\\.')}:8080 weight=1;`));
      }

      h0.setLink(false);
      try {
        await until('unreachable', async () => (await machine(h0.hostname)).agent.state === 'unreachable', 15_000);
        await until('out of the serving set', async () => (await serving()).length === 1);
        assert.deepEqual(await serving(), [h1.hostname]);
        const inst = (await s.call('GET', '/api/v1/services/corp.views.web/instances')).body.instances.find((i: { hostname: string }) => i.hostname === h0.hostname);
        assert.equal(inst.health, 'critical');
        assert.equal(inst.agentUnreachable, true, 'the answer says why');
        const healthy = (await s.call('GET', '/api/v1/services/corp.views.web/instances?healthy=true')).body.instances.map((i: { hostname: string }) => i.hostname);
        assert.deepEqual(healthy, [h1.hostname]);
        if (!noNginx) await until('nginx marks it down', async () => new RegExp(`server ${h0.address.replaceAll('.', '\\.')}:8080 weight=1 down;`).test(await upstreams()));
        const listed = (await s.call('GET', '/api/v1/machines?under=corp.views&limit=10')).body.items.find((x: { hostname: string }) => x.hostname === h0.hostname);
        assert.equal(listed.agent.state, 'unreachable');
      } finally {
        h0.setLink(true);
      }
      await until('connected again', async () => (await machine(h0.hostname)).agent.state === 'connected', 60_000);
      await until('serving again', async () => (await serving()).length === 2);
      const back = (await s.call('GET', '/api/v1/services/corp.views.web/instances')).body.instances.find((i: { hostname: string }) => i.hostname === h0.hostname);
      assert.equal(back.health, 'passing', 'its own health, which the cut never changed');
      assert.equal(back.agentUnreachable, undefined);
      if (!noNginx) await until('nginx routes to it again', async () => new RegExp(`server ${h0.address.replaceAll('.', '\\.')}:8080 weight=1;`).test(await upstreams()));
    });
  });
}
