/**
 * Retention of published versions, with CANOPY_CONFIG_KEEP_VERSIONS = 3: old versions stay listed
 * but lose their files, snapshot and diff; showing or rolling back to one is a clear 409 that
 * changes nothing; the current version, operators' recent versions and their rollback targets keep
 * their content; the stored content of a cluster stays bounded however many versions it publishes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../config.ts';
import { rows } from '../db/connection.ts';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { findKeepalived } from '../lvs/keepalived-binary.ts';
import { findProgram } from './nginx-binary.ts';
import { expectStatus, fileOf, mkDiscoveryService, mkDomain, mkInstance, mkNodes, setInstance } from './proxy-fixtures.test-util.ts';

const missing = findProgram('nginx') === null ? 'nginx not installed: apt-get install nginx-light' : '';
if (missing) console.error(`\n!!! SKIPPING nginx retention tests: ${missing}\n`);
const noKeepalived = findKeepalived() === null ? 'keepalived not installed: apt-get install keepalived' : '';

test('CANOPY_CONFIG_KEEP_VERSIONS defaults to 100 and refuses fewer than 2', () => {
  assert.equal(loadConfig({}).configKeepVersions, 100);
  assert.equal(loadConfig({ CANOPY_CONFIG_KEEP_VERSIONS: '7' }).configKeepVersions, 7);
  assert.throws(() => loadConfig({ CANOPY_CONFIG_KEEP_VERSIONS: '1' }), /invalid configuration/);
});

type Version = { version: number; contentPruned: boolean; added: number; removed: number; rollbackOf: number | null; author: string };

for (const backend of testBackends()) {
  describe(`config version retention, keeping 3 (${backend.name})`, { skip: missing || false }, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend, { configKeepVersions: 3 });
    });
    after(() => s.close());

    /** Cluster `<p>.edge` serving `<p>.example.com` from `<p>.web`, with `tries` in its settings; not applied. */
    async function setup(p: string, port: number): Promise<string> {
      await mkNodes(s, `${p}.edge`);
      await mkDiscoveryService(s, `${p}.web`, port);
      await mkInstance(s, `${p}.web`, `${p}-a.example`, '10.7.0.1', port);
      await mkDomain(s, `${p}.example.com`);
      await setTries(p, port, 0);
      expectStatus(await s.call('PUT', `/api/v1/nginx/clusters/${p}.edge`, { domains: [`${p}.example.com`], listenAddress: '127.0.0.1' }), 201);
      return `/api/v1/nginx/clusters/${p}.edge`;
    }

    async function setTries(p: string, port: number, tries: number): Promise<void> {
      const body = { domainUris: [{ domain: `${p}.example.com`, uri: '/' }], port, attributes: { proxy_next_upstream_tries: tries } };
      expectStatus(await s.call('PUT', `/api/v1/nodes/${p}.web/nginx`, body), 200, 201);
    }

    /** Apply a settings change as a new version; returns its diff stats. */
    async function applyTries(p: string, port: number, tries: number): Promise<{ version: number; added: number; removed: number }> {
      await setTries(p, port, tries);
      const a = expectStatus(await s.call('POST', `/api/v1/nginx/clusters/${p}.edge/apply`, { reason: `tries ${tries}` }), 200).body;
      assert.equal(a.published, true);
      return { version: a.version.version, added: a.version.added, removed: a.version.removed };
    }

    async function versions(url: string): Promise<Version[]> {
      return expectStatus(await s.call('GET', `${url}/versions?limit=100`), 200).body.items;
    }
    const pruned = (list: Version[]) => list.filter((v) => v.contentPruned).map((v) => v.version).sort((a, b) => a - b);

    /** Bytes of content the cluster's versions hold: their diffs and check outputs, and the blobs they name. */
    async function storedBytes(path: string): Promise<number> {
      const id = expectStatus(await s.call('GET', `/api/v1/nodes/${path}`), 200).body.id as number;
      const [r] = await rows<{ n: string | number }>(
        s.database.db,
        sql`SELECT (SELECT coalesce(sum(octet_length(diff) + octet_length(check_output)), 0) FROM config_versions WHERE kind = 'nginx' AND cluster_node_id = ${id})
           + (SELECT coalesce(sum(octet_length(b.content)), 0) FROM config_blobs b WHERE EXISTS (
               SELECT 1 FROM config_versions v WHERE v.kind = 'nginx' AND v.cluster_node_id = ${id}
               AND (v.input_sha256 = b.sha256 OR v.files @> jsonb_build_array(jsonb_build_object('sha256', b.sha256))))) AS n`,
      );
      return Number(r?.n);
    }

    test('of six applied versions the newest three keep their content; the older ones stay listed as pruned, with diff stats', async () => {
      const url = await setup('six', 8301);
      const applied = [];
      for (let i = 1; i <= 6; i++) applied.push(await applyTries('six', 8301, i));
      assert.deepEqual(applied.map((a) => a.version), [1, 2, 3, 4, 5, 6]);
      const list = await versions(url);
      assert.deepEqual(list.map((v) => v.version), [6, 5, 4, 3, 2, 1], 'every version is still listed');
      assert.deepEqual(pruned(list), [1, 2, 3]);
      for (const a of applied) {
        const v = list.find((x) => x.version === a.version);
        assert.deepEqual([v?.added, v?.removed], [a.added, a.removed], `v${a.version} keeps its diff stats`);
      }
      assert.ok(applied[1] && applied[1].added > 0, 'a settings change adds lines');

      const gone = await s.call('GET', `${url}/versions/2`);
      assert.equal(gone.status, 409);
      assert.deepEqual([gone.body.code, gone.body.contentPruned, gone.body.version], ['conflict', true, 2]);
      assert.match(gone.body.detail, /the content of v2 of the nginx config of 'six\.edge' was pruned: only the newest 3 versions, .*still shows its author, reason, time and diff stats$/);
      const kept = expectStatus(await s.call('GET', `${url}/versions/4`), 200).body;
      assert.match(kept.diff, /^\+ +proxy_next_upstream_tries 4;$/m);
      assert.match(fileOf(kept, 'servers'), /proxy_next_upstream_tries 4;/);
      assert.equal(typeof kept.input, 'object', 'with its settings snapshot');
    });

    test('rolling back to a pruned version is a 409 that publishes nothing; the current version is never pruned', async () => {
      const url = await setup('rbk', 8302);
      for (let i = 1; i <= 6; i++) await applyTries('rbk', 8302, i);
      const before = await versions(url);
      const refused = await s.call('POST', `${url}/rollback`, { version: 1, reason: 'undo everything' });
      assert.equal(refused.status, 409);
      assert.equal(refused.body.contentPruned, true);
      assert.match(refused.body.detail, /^cannot roll back to v1: the content of v1 .* was pruned: .*\. Nothing was changed$/);
      assert.deepEqual(await versions(url), before, 'no version was published or pruned');
      const current = expectStatus(await s.call('GET', `${url}/config`), 200).body;
      assert.deepEqual([current.version, current.contentPruned], [6, false]);
      assert.match(fileOf(current, 'servers'), /proxy_next_upstream_tries 6;/);
      const audit = expectStatus(await s.call('GET', '/api/v1/audit?under=rbk'), 200).body.items.map((e: { operation: string }) => e.operation);
      assert.ok(!audit.includes('nginx.rollback'), audit.join());
      // The oldest kept version can still be rolled back to, and becomes the current one.
      const rb = expectStatus(await s.call('POST', `${url}/rollback`, { version: 4 }), 200).body;
      assert.deepEqual([rb.version.version, rb.version.rollbackOf, rb.version.contentPruned], [7, 4, false]);
      assert.deepEqual(pruned(await versions(url)), [1, 2, 3], 'v4, rolled back to by the current version, keeps its content');
    });

    test('files and settings whose blobs were pruned are stored again when a new version renders them again', async () => {
      const url = await setup('bak', 8305);
      for (let i = 1; i <= 5; i++) await applyTries('bak', 8305, i);
      assert.deepEqual(pruned(await versions(url)), [1, 2]);
      assert.equal((await applyTries('bak', 8305, 1)).version, 6, "v6 renders v1's settings and files again");
      // Read back from the database, not from the memory of the replica that published it.
      await s.services.nginx.load(s.database.db);
      await s.services.nginx.publisher.flush();
      assert.match(fileOf(expectStatus(await s.call('GET', `${url}/config`), 200).body, 'servers'), /proxy_next_upstream_tries 1;/);
      const v6 = expectStatus(await s.call('GET', `${url}/versions/6`), 200).body;
      assert.equal(v6.input.services[0].attributes.proxy_next_upstream_tries, 1);
    });

    test('automatic versions do not push out what operators published, nor the versions they rolled back to', async () => {
      const url = await setup('aut', 8303);
      await applyTries('aut', 8303, 1);
      await applyTries('aut', 8303, 2);
      for (let w = 2; w <= 6; w++) {
        await setInstance(s, 'aut.web', 'aut-a.example', 8303, { weight: w });
        await s.services.nginx.publisher.flush();
        assert.equal(expectStatus(await s.call('GET', `${url}/config`), 200).body.version, w + 1, `weight ${w} publishes v${w + 1}`);
      }
      let list = await versions(url);
      assert.deepEqual(list.filter((v) => v.author === 'system').map((v) => v.version), [7, 6, 5, 4, 3]);
      assert.deepEqual(pruned(list), [3, 4], 'the newest three and both applied versions keep their content');
      expectStatus(await s.call('GET', `${url}/versions/1`), 200);

      const rb = expectStatus(await s.call('POST', `${url}/rollback`, { version: 1 }), 200).body;
      assert.equal(rb.version.version, 8);
      assert.match(fileOf(expectStatus(await s.call('GET', `${url}/config`), 200).body, 'upstreams'), /weight=6;/, 'rendered with today\'s instances');
      await applyTries('aut', 8303, 9);
      await applyTries('aut', 8303, 10);
      list = await versions(url);
      assert.deepEqual(pruned(list), [2, 3, 4, 5, 6, 7], 'v1 stays: the kept v8 rolled back to it');
      assert.equal(list.find((v) => v.version === 8)?.rollbackOf, 1);
      expectStatus(await s.call('GET', `${url}/versions/1`), 200);
      assert.equal((await s.call('GET', `${url}/versions/2`)).status, 409);
    });

    test('the content a cluster stores stays bounded however many versions it publishes', async () => {
      const url = await setup('bnd', 8304);
      // From v4 on, three versions of the same size keep content (v1's diff, against nothing, is larger).
      for (let i = 1; i <= 4; i++) await applyTries('bnd', 8304, 10 + i);
      const four = await storedBytes('bnd.edge');
      for (let i = 5; i <= 15; i++) await applyTries('bnd', 8304, 10 + i);
      const fifteen = await storedBytes('bnd.edge');
      assert.equal(pruned(await versions(url)).length, 12);
      assert.ok(four > 0 && fifteen <= four * 1.05, `15 versions store ${fifteen} bytes, 4 stored ${four}`);
      const [orphans] = await rows<{ n: string | number }>(
        s.database.db,
        sql`SELECT count(*) AS n FROM config_blobs b WHERE NOT EXISTS (SELECT 1 FROM config_versions v WHERE v.pruned_at IS NULL
              AND (v.input_sha256 = b.sha256 OR v.files @> jsonb_build_array(jsonb_build_object('sha256', b.sha256))))`,
      );
      assert.equal(Number(orphans?.n), 0, 'no blob outlives every kept version naming it');
      assert.match(fileOf(expectStatus(await s.call('GET', `${url}/config`), 200).body, 'servers'), /proxy_next_upstream_tries 25;/);
    });

    test('LVS clusters keep the same number of versions', { skip: noKeepalived || false }, async () => {
      await mkNodes(s, 'lvr.lb');
      await mkDiscoveryService(s, 'lvr.web', 80);
      await mkInstance(s, 'lvr.web', 'lvr-a.example', '10.7.1.1', 80);
      const url = '/api/v1/lvs/clusters/lvr.lb';
      for (const [i, scheduler] of ['rr', 'wrr', 'lc', 'wlc', 'sh'].entries()) {
        expectStatus(await s.call('PUT', '/api/v1/nodes/lvr.web/lvs', { virtualServices: [{ vip: '10.7.2.1', port: 80, scheduler }] }), 200, 201);
        if (i === 0) expectStatus(await s.call('PUT', url, { services: ['lvr.web'] }), 201);
        expectStatus(await s.call('POST', `${url}/apply`, { reason: scheduler }), 200);
      }
      assert.deepEqual(pruned(await versions(url)), [1, 2]);
      assert.equal((await s.call('POST', `${url}/rollback`, { version: 2 })).status, 409);
      assert.match(fileOf(expectStatus(await s.call('GET', `${url}/versions/3`), 200).body, 'lvs'), /lb_algo lc/);
    });
  });
}
