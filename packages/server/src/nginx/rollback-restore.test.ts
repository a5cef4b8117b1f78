/**
 * A rollback sticks: the settings become the rolled-back version's, so the next apply by anyone
 * publishes nothing; what the roller may not restore is reported and the plan says it diverges.
 * Also the diff between two versions and whose change each part of a plan is. Real nginx -t and
 * keepalived -t check every apply.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { findKeepalived } from '../lvs/keepalived-binary.ts';
import { findProgram } from './nginx-binary.ts';
import { expectStatus, mkDiscoveryService, mkDomain, mkInstance, mkNodes, userWith } from './proxy-fixtures.test-util.ts';

const missing = findProgram('nginx') === null ? 'nginx not installed: apt-get install nginx-light' : findKeepalived() === null ? 'keepalived not installed: apt-get install keepalived' : '';
if (missing) console.error(`\n!!! SKIPPING rollback restore tests: ${missing}\n`);

for (const backend of testBackends()) {
  describe(`rollback restores settings (${backend.name})`, { skip: missing || false }, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    const audits = async (under: string) => expectStatus(await s.call('GET', `/api/v1/audit?under=${under}&limit=100`), 200).body.items.map((e: { operation: string }) => e.operation);

    /** Cluster `<p>.edge` serving `<p>.example.com` → service `<p>.web` on `/`; v1 published. */
    async function setup(p: string, port: number): Promise<string> {
      await mkNodes(s, `${p}.edge`);
      await mkDiscoveryService(s, `${p}.web`, port);
      await mkInstance(s, `${p}.web`, `${p}-a.example`, '10.9.1.1', port);
      await mkDomain(s, `${p}.example.com`, 8080, { owner: p });
      expectStatus(await s.call('PUT', `/api/v1/nodes/${p}.web/nginx`, { domainUris: [{ domain: `${p}.example.com`, uri: '/' }], port }), 201);
      expectStatus(await s.call('PUT', `/api/v1/nginx/clusters/${p}.edge`, { domains: [`${p}.example.com`], listenAddress: '127.0.0.1' }), 201);
      const url = `/api/v1/nginx/clusters/${p}.edge`;
      expectStatus(await s.call('POST', `${url}/apply`, { reason: 'v1' }), 200);
      return url;
    }

    test('apply v2, roll back to v1: the service settings are v1 again, audited, and the next apply publishes nothing', async () => {
      const url = await setup('rbk', 8201);
      expectStatus(await s.call('PUT', '/api/v1/nodes/rbk.web/nginx', { domainUris: [{ domain: 'rbk.example.com', uri: '/' }, { domain: 'rbk.example.com', uri: '/new/' }], port: 8201, balance: { method: 'least_conn' } }), 200);
      expectStatus(await s.call('PUT', '/api/v1/nginx/clusters/rbk.edge', { domains: ['rbk.example.com'], listenAddress: '127.0.0.1', defaultServers: false }), 200);
      expectStatus(await s.call('POST', `${url}/apply`, { reason: 'v2' }), 200);
      const rb = expectStatus(await s.call('POST', `${url}/rollback`, { version: 1 }), 200).body;
      assert.deepEqual([rb.version.version, rb.version.rollbackOf], [3, 1]);
      assert.deepEqual(rb.restored, { restored: ['cluster rbk.edge', 'service rbk.web'], notRestored: [] });
      const svc = expectStatus(await s.call('GET', '/api/v1/nodes/rbk.web/nginx'), 200).body;
      assert.deepEqual([svc.balance, svc.domainUris], [{ method: 'wrr' }, [{ domain: 'rbk.example.com', uri: '/' }]]);
      assert.equal(expectStatus(await s.call('GET', '/api/v1/nginx/clusters/rbk.edge'), 200).body.defaultServers, true);
      const plan = expectStatus(await s.call('POST', `${url}/plan`), 200).body;
      assert.deepEqual([plan.changed, plan.note], [false, undefined]);
      const again = expectStatus(await s.call('POST', `${url}/apply`, { reason: 'anyone applies' }), 200).body;
      assert.equal(again.published, false, 'the rolled-back change is not re-published');
      const ops = await audits('rbk');
      assert.ok(ops.includes('nginx.service.restore') && ops.includes('nginx.cluster.restore') && ops.includes('nginx.rollback'), ops.join());
    });

    test("what the roller may not write stays, is reported, and the plan says the settings diverge", async () => {
      const url = await setup('rbp', 8202);
      const edge = await userWith(s, 'edge-ops', 'ops', 'rbp.edge');
      expectStatus(await s.call('PUT', '/api/v1/nodes/rbp.web/nginx', { domainUris: [{ domain: 'rbp.example.com', uri: '/' }], port: 8203 }), 200);
      expectStatus(await s.call('POST', `${url}/apply`, { reason: 'port 8203' }), 200);
      const rb = expectStatus(await s.call('POST', `${url}/rollback`, { version: 1 }, { token: edge }), 200).body;
      assert.deepEqual(rb.restored.notRestored, [{ target: 'service rbp.web', reason: 'needs nginx.write on rbp.web' }]);
      assert.equal(expectStatus(await s.call('GET', '/api/v1/nodes/rbp.web/nginx'), 200).body.port, 8203, "the other team's row is untouched");
      const plan = expectStatus(await s.call('POST', `${url}/plan`, undefined, { token: edge }), 200).body;
      assert.equal(plan.changed, true);
      assert.match(plan.note, /the settings differ from v3 \(a rollback to v1\)/);
    });

    test('the diff between two versions, both ways; the plan names whose change each part is', async () => {
      const url = await setup('dif', 8204);
      const web = await userWith(s, 'dif-dev', 'ops', 'dif.web');
      expectStatus(await s.call('PUT', '/api/v1/nodes/dif.web/nginx', { domainUris: [{ domain: 'dif.example.com', uri: '/' }], port: 8204, balance: { method: 'ip_hash' } }, { token: web }), 200);
      const plan = expectStatus(await s.call('POST', `${url}/plan`), 200).body;
      assert.equal(plan.origins.length, 1, JSON.stringify(plan.origins));
      assert.deepEqual([plan.origins[0].kind, plan.origins[0].target, plan.origins[0].change, plan.origins[0].by], ['service', 'dif.web', 'changed', 'dif-dev']);
      assert.match(plan.origins[0].diff, /^\+ {4}ip_hash;$/m);
      assert.match(plan.origins[0].at, /Z$/);
      expectStatus(await s.call('POST', `${url}/apply`, { reason: 'ip_hash' }), 200);
      const d = expectStatus(await s.call('GET', `${url}/versions/1/diff/2`), 200).body;
      assert.deepEqual([d.from, d.to, d.added, d.removed], [1, 2, 1, 0]);
      assert.match(d.diff, /^--- a\/10-canopy-upstreams\.conf\tv1\n\+\+\+ b\/10-canopy-upstreams\.conf\tv2$/m);
      const back = expectStatus(await s.call('GET', `${url}/versions/2/diff/1`), 200).body;
      assert.match(back.diff, /^- {4}ip_hash;$/m);
      assert.equal((await s.call('GET', `${url}/versions/1/diff/9`)).status, 404);
      assert.equal((await s.call('GET', `${url}/versions/1/diff/x`)).status, 400);
    });

    test('LVS: roll back to v1 and the virtual services are v1 again; the next apply publishes nothing', async () => {
      await mkNodes(s, 'lrb.lb');
      await mkDiscoveryService(s, 'lrb.web', 80);
      await mkInstance(s, 'lrb.web', 'lrb-a.example', '10.21.9.1', 80);
      const vs = (scheduler: string) => ({ virtualServices: [{ vip: '10.20.7.1', port: 80, scheduler }] });
      expectStatus(await s.call('PUT', '/api/v1/nodes/lrb.web/lvs', vs('wrr')), 201);
      expectStatus(await s.call('PUT', '/api/v1/lvs/clusters/lrb.lb', { services: ['lrb.web'] }), 201);
      const url = '/api/v1/lvs/clusters/lrb.lb';
      expectStatus(await s.call('POST', `${url}/apply`, { reason: 'v1' }), 200);
      expectStatus(await s.call('PUT', '/api/v1/nodes/lrb.web/lvs', vs('lc')), 200);
      expectStatus(await s.call('POST', `${url}/apply`, { reason: 'lc' }), 200);
      const rb = expectStatus(await s.call('POST', `${url}/rollback`, { version: 1 }), 200).body;
      assert.deepEqual(rb.restored, { restored: ['service lrb.web'], notRestored: [] });
      assert.equal(expectStatus(await s.call('GET', '/api/v1/nodes/lrb.web/lvs'), 200).body.virtualServices[0].scheduler, 'wrr');
      assert.equal(expectStatus(await s.call('POST', `${url}/apply`, { reason: 'again' }), 200).body.published, false);
      assert.ok((await audits('lrb')).includes('lvs.service.restore'));
      const d = expectStatus(await s.call('GET', `${url}/versions/2/diff/3`), 200).body;
      assert.match(d.diff, /^-\s+lb_algo lc$/m);
    });
  });
}
