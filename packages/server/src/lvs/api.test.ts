import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { expectStatus, fileOf, mkDiscoveryService, mkInstance, mkNodes, setInstance, userWith, watchUntil } from '../nginx/proxy-fixtures.test-util.ts';
import { findKeepalived } from './keepalived-binary.ts';

const missing = findKeepalived() === null ? 'keepalived not installed: apt-get install keepalived' : '';
if (missing) console.error(`\n!!! SKIPPING LVS apply tests: ${missing}\n`);

for (const backend of testBackends()) {
  describe(`LVS settings and configs (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    const vs = (extra: object = {}) => ({ vip: '10.20.0.1', port: 80, ...extra });

    /** Service `<p>.web` on port 80 with two real servers, in director cluster `<p>.lb`. */
    async function setup(p: string, vip: string, cluster: object = {}, settings: object = {}): Promise<string> {
      await mkNodes(s, `${p}.lb`);
      await mkDiscoveryService(s, `${p}.web`, 80);
      await mkInstance(s, `${p}.web`, `${p}-a.example`, '10.21.0.1', 80);
      await mkInstance(s, `${p}.web`, `${p}-b.example`, '10.21.0.2', 80, { weight: 2 });
      expectStatus(await s.call('PUT', `/api/v1/nodes/${p}.web/lvs`, { virtualServices: [{ ...vs({ vip }), ...settings }] }), 201);
      expectStatus(await s.call('PUT', `/api/v1/lvs/clusters/${p}.lb`, { services: [`${p}.web`], ...cluster }), 201);
      return `/api/v1/lvs/clusters/${p}.lb`;
    }

    test('refuses virtual services LVS cannot run, and a VIP:port another service already has', async () => {
      await mkNodes(s, 'vsv.a');
      await mkNodes(s, 'vsv.b');
      for (const bad of [vs({ vip: 'lvs.example.com' }), vs({ realPort: 8080 }), vs({ synProxy: true }), vs({ healthCheck: { type: 'HTTP_GET', path: '/h#x' } })]) {
        assert.equal((await s.call('PUT', '/api/v1/nodes/vsv.a/lvs', { virtualServices: [bad] })).status, 400, JSON.stringify(bad));
      }
      assert.equal((await s.call('GET', '/api/v1/nodes/vsv.a/lvs')).status, 404, 'nothing stored');
      expectStatus(await s.call('PUT', '/api/v1/nodes/vsv.a/lvs', { virtualServices: [vs({ vip: '10.20.9.1' })] }), 201);
      const clash = await s.call('PUT', '/api/v1/nodes/vsv.b/lvs', { virtualServices: [vs({ vip: '10.20.9.1' })] });
      assert.equal(clash.status, 409);
      assert.match(clash.body.detail, /vsv\.a/);
      const got = expectStatus(await s.call('GET', '/api/v1/nodes/vsv.a/lvs'), 200).body;
      assert.deepEqual([got.virtualServices[0].scheduler, got.virtualServices[0].forwarding], ['wrr', 'DR']);
    });

    test('a cluster lists services that have LVS settings and that the caller may read; FNAT needs the fullnat flavor', async () => {
      await mkNodes(s, 'lbc.lb');
      await mkNodes(s, 'lbc.bare');
      await mkNodes(s, 'lbc.fnat');
      await mkNodes(s, 'secret.web');
      expectStatus(await s.call('PUT', '/api/v1/nodes/secret.web/lvs', { virtualServices: [vs({ vip: '10.20.8.1' })] }), 201);
      const bare = await s.call('PUT', '/api/v1/lvs/clusters/lbc.lb', { services: ['lbc.bare'] });
      assert.equal(bare.status, 400);
      assert.match(bare.body.detail, /no LVS settings/);
      expectStatus(await s.call('PUT', '/api/v1/nodes/lbc.fnat/lvs', { virtualServices: [vs({ vip: '10.20.8.2', forwarding: 'FNAT', localAddressGroup: 'lg1', synProxy: true })] }), 201);
      const stock = await s.call('PUT', '/api/v1/lvs/clusters/lbc.lb', { services: ['lbc.fnat'], localAddressGroups: [{ name: 'lg1', addresses: ['10.30.0.1'] }] });
      assert.equal(stock.status, 400);
      assert.match(stock.body.detail, /fullnat/);
      const ok = expectStatus(await s.call('PUT', '/api/v1/lvs/clusters/lbc.lb', { services: ['lbc.fnat'], flavor: 'fullnat', localAddressGroups: [{ name: 'lg1', addresses: ['10.30.0.1'] }] }), 201);
      assert.deepEqual([ok.body.services, ok.body.flavor], [['lbc.fnat'], 'fullnat']);
      const lbOps = await userWith(s, 'lvs-ops', 'ops', 'lbc');
      const hidden = await s.call('PUT', '/api/v1/lvs/clusters/lbc.lb', { services: ['secret.web'] }, { token: lbOps });
      assert.equal(hidden.status, 404, 'a service the caller cannot see');
      assert.equal((await s.call('PUT', '/api/v1/nodes/secret.web/lvs', { virtualServices: [] }, { token: lbOps })).status, 404);
      const inUse = await s.call('DELETE', '/api/v1/nodes/lbc.fnat/lvs');
      assert.equal(inUse.status, 409);
    });

    test('apply checks with keepalived -t; draining a real server publishes weight 0 by itself', { skip: missing || false }, async () => {
      const url = await setup('lva', '10.20.1.1', {}, { persistenceTimeout: 300 });
      const v1 = expectStatus(await s.call('POST', `${url}/apply`, { reason: 'first' }), 200).body;
      assert.equal(v1.version.version, 1);
      const config = expectStatus(await s.call('GET', `${url}/config`), 200).body;
      assert.deepEqual(config.files.map((f: { path: string }) => f.path), ['canopy-lvs.conf']);
      const text = fileOf(config, 'lvs');
      assert.match(text, /^# lva\.web\nvirtual_server 10\.20\.1\.1 80 \{$/m);
      assert.match(text, /real_server 10\.21\.0\.2 80 \{\n {8}weight 2\n/);
      const waiting = s.call('GET', `${url}/watch?version=1&wait=20s`);
      await setInstance(s, 'lva.web', 'lva-b.example', 80, { status: 'draining' });
      const next = expectStatus(await waiting, 200).body;
      assert.equal(next.version, 2, 'a new version, published by the backend change alone');
      assert.match(fileOf(next, 'lvs'), /real_server 10\.21\.0\.2 80 \{\n {8}weight 0\n/);
      assert.match(next.reason, /lva\.web: 10\.21\.0\.2:80 up weight 2 → draining weight 2/);
      const rb = expectStatus(await s.call('POST', `${url}/rollback`, { version: 1 }), 200).body;
      assert.equal(rb.published, false, 'v1 settings with the current instances are what v2 already is');
    });

    test('a FULLNAT cluster is checked structurally and by stock keepalived, and the check output says so', { skip: missing || false }, async () => {
      const url = await setup('lvf', '10.20.2.1', { flavor: 'fullnat', localAddressGroups: [{ name: 'lg_f', addresses: ['10.31.0.1', '10.31.0.2'] }] }, { forwarding: 'FNAT', synProxy: true, localAddressGroup: 'lg_f' });
      const applied = expectStatus(await s.call('POST', `${url}/apply`, { reason: 'fullnat' }), 200).body;
      assert.match(applied.checkOutput, /FULLNAT keywords .* checked structurally/);
      const text = fileOf(expectStatus(await s.call('GET', `${url}/config`), 200).body, 'lvs');
      assert.match(text, /^local_address_group lg_f \{$/m);
      assert.match(text, /^ {4}syn_proxy$/m);
      assert.match(text, /^ {4}laddr_group_name lg_f$/m);
    });

    test('plan of an LVS cluster diffs against the published version', { skip: missing || false }, async () => {
      const url = await setup('lvp', '10.20.3.1');
      expectStatus(await s.call('POST', `${url}/apply`, { reason: 'first' }), 200);
      expectStatus(await s.call('PUT', '/api/v1/nodes/lvp.web/lvs', { virtualServices: [vs({ vip: '10.20.3.1', scheduler: 'sh' })] }), 200);
      const plan = expectStatus(await s.call('POST', `${url}/plan`), 200).body;
      assert.deepEqual([plan.baseVersion, plan.changed], [1, true]);
      assert.match(plan.diff, /^- {4}lb_algo wrr\n\+ {4}lb_algo sh$/m);
    });
  });
}
