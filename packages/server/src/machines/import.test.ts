/** Bulk import from CSV and JSON: per-row reports, upserts, malformed files, and authorization per row. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { rows } from '../db/connection.ts';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';

for (const backend of testBackends()) {
  describe(`machine import (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
      for (const [parentPath, name] of [[null, 'im'], ['im', 'web'], ['im', 'db'], [null, 'other']] as const) {
        assert.equal((await s.call('POST', '/api/v1/nodes', { parentPath, name })).status, 201);
      }
    });
    after(() => s.close());

    const csv = (text: string, query = '', token?: string) =>
      s.call('POST', `/api/v1/machines/import${query}`, text, { headers: { 'content-type': 'text/csv' }, ...(token ? { token } : {}) });
    const json = (body: unknown, query = '', token?: string) => s.call('POST', `/api/v1/machines/import${query}`, body, token ? { token } : {});
    const get = async (hostname: string) => (await s.call('GET', `/api/v1/machines/${hostname}`)).body;
    /** Rows of the tables an import touches, and the change feed's head: all must stay put on refusal. */
    const state = async () =>
      (await rows<{ v: string }>(s.database.db, sql`SELECT concat_ws('/', (SELECT count(*) FROM machines), (SELECT count(*) FROM machine_nodes),
        (SELECT count(*) FROM audit_log), (SELECT coalesce(max(revision), 0) FROM changes)) AS v`))[0]?.v;

    test('a JSON import lands the good rows and says why each bad row failed', async () => {
      await json([{ hostname: 'pre.im.example', nodes: ['im.db'] }]);
      const r = await json([
        { hostname: 'j1.im.example', ips: ['10.1.0.1'], nodes: ['im.web'], status: 'online' },
        { hostname: 'Not A Hostname', nodes: ['im.web'] },
        { hostname: 'j2.im.example', nodes: ['im.nowhere'] },
        { hostname: 'j1.im.example', nodes: ['im.db'] },
        { hostname: 'pre.im.example', nodes: ['im.db'] },
        { hostname: 'j3.im.example', cpuCores: 'many' },
        null,
        { hostname: 'j4.im.example', nodes: ['im.web', 'im.db'], labels: { tier: 'front' } },
      ]);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual([r.body.created, r.body.updated, r.body.failed], [2, 0, 6]);
      const why = (row: number) => (r.body.rows.find((x: { row: number }) => x.row === row)?.errors ?? []).join(' ');
      assert.match(why(2), /hostname/);
      assert.match(why(3), /unknown node 'im\.nowhere'/);
      assert.match(why(4), /earlier in this import/);
      assert.match(why(5), /already exists/);
      assert.match(why(6), /cpuCores/);
      assert.ok(why(7).length > 0);
      assert.deepEqual((await get('j4.im.example')).nodes, ['im.db', 'im.web']);
      assert.equal((await s.call('GET', '/api/v1/machines/j2.im.example')).status, 404, 'a failed row leaves no trace');
      assert.equal((await json({ machines: [{ hostname: 'wrapped.im.example' }] })).body.created, 1);
      assert.equal((await json({ rows: [] })).status, 400);
    });

    test('a CSV import maps columns, lists and labels, and reports per row', async () => {
      const r = await csv(
        [
          'hostname,ips,nodes,labels,cpu_cores,memory_mb,status,zone',
          'c1.im.example,10.2.0.1;10.2.0.2,im.web,rack=r1;tier=front,8,16384,online,z1',
          'c2.im.example,,im.db;im.web,,,,maintenance,',
          'c3.im.example,not-an-ip,im.web,,,,,',
          'c4.im.example,,im.web,,eight,,,',
        ].join('\n'),
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual([r.body.created, r.body.failed], [2, 2]);
      assert.deepEqual(r.body.rows.filter((x: { ok: boolean }) => !x.ok).map((x: { hostname: string }) => x.hostname), ['c3.im.example', 'c4.im.example']);
      const c1 = await get('c1.im.example');
      assert.deepEqual([c1.ips, c1.labels, c1.cpuCores, c1.memoryMb, c1.status, c1.zone], [['10.2.0.1', '10.2.0.2'], { rack: 'r1', tier: 'front' }, 8, 16384, 'online', 'z1']);
      assert.deepEqual((await get('c2.im.example')).nodes, ['im.db', 'im.web']);
    });

    test('a short or long CSV row and a label without = fail that row alone, saying why; the other rows land', async () => {
      const r = await csv(
        [
          'hostname,os,nodes,labels',
          'sr1.im.example,debian,im.web,tier=front',
          'sr2.im.example,debian',
          'sr3.im.example,debian,im.web,tier=front,surplus',
          'sr4.im.example,debian,im.web,rack',
          'sr5.im.example,debian,im.web,=r1',
          'sr6.im.example,,im.db,',
        ].join('\n'),
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual([r.body.created, r.body.failed], [2, 4]);
      const why = (row: number) => (r.body.rows.find((x: { row: number }) => x.row === row)?.errors ?? []).join(' ');
      assert.match(why(2), /row has 2 cell\(s\), the header has 4/);
      assert.match(why(3), /row has 5 cell\(s\), the header has 4/);
      assert.match(why(4), /labels: 'rack' is not key=value/);
      assert.match(why(5), /labels: '=r1' is not key=value/);
      assert.deepEqual(r.body.rows.filter((x: { ok: boolean }) => !x.ok).map((x: { hostname: string }) => x.hostname), ['sr2.im.example', 'sr3.im.example', 'sr4.im.example', 'sr5.im.example']);
      assert.deepEqual((await get('sr1.im.example')).labels, { tier: 'front' });
      assert.equal((await s.call('GET', '/api/v1/machines/sr4.im.example')).status, 404, 'no machine with labels {rack: rack}');
      assert.equal((await get('sr6.im.example')).nodes[0], 'im.db');
    });

    test('a row naming a node by its path before a rename binds to where the node is now, and its report says so', async () => {
      await s.call('POST', '/api/v1/nodes', { parentPath: null, name: 'rn' });
      await s.call('POST', '/api/v1/nodes', { parentPath: 'rn', name: 'search' });
      await s.call('POST', '/api/v1/nodes', { parentPath: 'rn.search', name: 'query' });
      const renamed = await s.call('PATCH', '/api/v1/nodes/rn.search', { name: 'find' });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      const r = await csv('hostname,nodes\nrn1.im.example,rn.search.query\n');
      assert.deepEqual([r.body.created, r.body.failed], [1, 0], JSON.stringify(r.body));
      assert.deepEqual(r.body.rows[0].notes, ['rn.search.query moved to rn.find.query']);
      assert.deepEqual((await get('rn1.im.example')).nodes, ['rn.find.query']);
      const j = await json([{ hostname: 'rn1.im.example', nodes: ['rn.search.query', 'im.web'] }], '?mode=upsert');
      assert.deepEqual(j.body.rows[0].notes, ['rn.search.query moved to rn.find.query']);
      assert.deepEqual((await get('rn1.im.example')).nodes, ['im.web', 'rn.find.query']);
      // Someone who may not write (or see) the node's new place is refused in the row's own words.
      assert.equal((await s.call('POST', '/api/v1/users', { username: 'rn-ops', password: 'pw-of-rn-ops' })).status, 201);
      assert.equal((await s.call('POST', '/api/v1/grants', { user: 'rn-ops', role: 'ops', nodePath: 'im.web' })).status, 201);
      const ops = await s.login('rn-ops', 'pw-of-rn-ops');
      const refused = await json([{ hostname: 'rn2.im.example', nodes: ['rn.search.query'] }], '', ops);
      assert.equal(refused.body.failed, 1);
      assert.doesNotMatch(JSON.stringify(refused.body), /rn\.find/);
    });

    test('a malformed CSV answers 400 and nothing lands', async () => {
      const before = await state();
      for (const bad of [
        'hostname,os\nm1.im.example,"unterminated\n',
        'hostname,os\nm3.im.example,deb\u0000ian\n',
      ]) {
        const r = await csv(bad);
        assert.equal(r.status, 400, `${JSON.stringify(bad)} → ${r.status} ${JSON.stringify(r.body)}`);
        assert.equal(r.body.code, 'validation_failed');
        assert.match(r.body.detail, /malformed CSV/);
      }
      const junk = await s.call('POST', '/api/v1/machines/import', '[{"hostname": ', { headers: { 'content-type': 'text/plain; charset=json' } });
      assert.equal(junk.status, 400);
      assert.equal(await state(), before);
    });

    test('mode=upsert updates only the fields a row names; mode=create refuses existing machines', async () => {
      await json([{ hostname: 'up.im.example', os: 'debian 11', serial: 'SN-UP', nodes: ['im.web'] }]);
      const refused = await csv('hostname,os\nup.im.example,debian 12\n');
      assert.deepEqual([refused.body.created, refused.body.updated, refused.body.failed], [0, 0, 1]);
      assert.match(refused.body.rows[0].errors[0], /mode=upsert/);
      const r = await csv('hostname,os\nup.im.example,debian 12\nnew-up.im.example,debian 12\n', '?mode=upsert');
      assert.deepEqual([r.body.created, r.body.updated, r.body.failed], [1, 1, 0]);
      assert.deepEqual(r.body.rows.map((x: { action: string }) => x.action), ['updated', 'created']);
      const up = await get('up.im.example');
      assert.deepEqual([up.os, up.serial, up.nodes, up.version], ['debian 12', 'SN-UP', ['im.web'], 2]);
      assert.equal((await json([], '?mode=sideways')).status, 400);
    });

    test('rows are authorized one by one: ops import into their subtree only, and cannot upsert machines elsewhere', async () => {
      assert.equal((await s.call('POST', '/api/v1/users', { username: 'imp-ops', password: 'pw-of-imp-ops' })).status, 201);
      assert.equal((await s.call('POST', '/api/v1/grants', { user: 'imp-ops', role: 'ops', nodePath: 'im.web' })).status, 201);
      const ops = await s.login('imp-ops', 'pw-of-imp-ops');
      await json([{ hostname: 'victim.other.example', os: 'kept', nodes: ['other'] }]);
      const r = await json(
        [
          { hostname: 'ok.im.example', nodes: ['im.web'] },
          { hostname: 'db.im.example', nodes: ['im.db'] },
          { hostname: 'free.im.example' },
          { hostname: 'victim.other.example', os: 'pwned', nodes: ['im.web'] },
        ],
        '?mode=upsert',
        ops,
      );
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.rows.map((x: { ok: boolean }) => x.ok), [true, false, false, false]);
      assert.match(r.body.rows[1].errors[0], /not allowed/);
      assert.match(r.body.rows[3].errors[0], /not allowed/);
      const victim = await get('victim.other.example');
      assert.deepEqual([victim.os, victim.nodes], ['kept', ['other']]);
    });

    test('an upsert row sets the nodes it names, leaves them alone when it names none, and reports each row', async () => {
      await json([{ hostname: 'rb1.im.example', os: 'v1', nodes: ['im.web'] }, { hostname: 'rb2.im.example', nodes: ['im.web'] }]);
      const moved = await json([{ hostname: 'rb1.im.example', nodes: ['im.db', 'other'] }, { hostname: 'rb2.im.example', nodes: ['im.web'] }], '?mode=upsert');
      assert.deepEqual([moved.body.created, moved.body.updated, moved.body.failed], [0, 1, 0]);
      assert.deepEqual(moved.body.rows.map((x: { action: string }) => x.action), ['updated', 'skipped'], 'a row naming the nodes it already has changes nothing');
      assert.deepEqual([(await get('rb1.im.example')).nodes, (await get('rb1.im.example')).version], [['im.db', 'other'], 1]);
      const audit = (await s.call('GET', '/api/v1/audit?limit=10')).body.items.filter((e: { target: string; operation: string }) => e.target === 'rb1.im.example' && e.operation !== 'machine.create');
      assert.deepEqual(audit.map((e: { operation: string; nodePath: string }) => `${e.operation} ${e.nodePath}`).sort(), ['machine.bind im.db', 'machine.bind other', 'machine.unbind im.web']);
      const csvUp = await csv('hostname,os,nodes\nrb1.im.example,v2,im.web;im.db\nrb2.im.example,v2,\n', '?mode=upsert');
      assert.deepEqual([csvUp.body.updated, csvUp.body.failed], [2, 0], JSON.stringify(csvUp.body));
      assert.deepEqual([(await get('rb1.im.example')).os, (await get('rb1.im.example')).nodes], ['v2', ['im.db', 'im.web']]);
      assert.deepEqual([(await get('rb2.im.example')).os, (await get('rb2.im.example')).nodes], ['v2', ['im.web']], 'an empty nodes cell, like any empty cell, changes nothing');
      assert.equal((await csv('hostname,os\nrb1.im.example,v3\n', '?mode=upsert')).body.updated, 1);
      assert.deepEqual((await get('rb1.im.example')).nodes, ['im.db', 'im.web'], 'no nodes column: bindings stay');
      const bad = await json([{ hostname: 'rb1.im.example', os: 'v4', nodes: ['im.nowhere'] }], '?mode=upsert');
      assert.match(bad.body.rows[0].errors[0], /unknown node 'im\.nowhere'/);
      const rb1 = await get('rb1.im.example');
      assert.deepEqual([rb1.os, rb1.nodes], ['v3', ['im.db', 'im.web']], 'a failed row leaves neither its fields nor its nodes');
      assert.equal((await json([{ hostname: 'rb2.im.example', nodes: [] }], '?mode=upsert')).body.updated, 1);
      assert.deepEqual((await get('rb2.im.example')).nodes, [], 'an explicit empty list unbinds');
    });

    test('an upsert row needs machine.write on every node the machine is on and every node it names; a refused row changes nothing', async () => {
      assert.equal((await s.call('POST', '/api/v1/users', { username: 'rb-ops', password: 'pw-of-rb-ops' })).status, 201);
      assert.equal((await s.call('POST', '/api/v1/grants', { user: 'rb-ops', role: 'ops', nodePath: 'im.web' })).status, 201);
      const ops = await s.login('rb-ops', 'pw-of-rb-ops');
      await json([{ hostname: 'shared.im.example', os: 'kept', nodes: ['im.web', 'im.db'] }, { hostname: 'own.im.example', os: 'v1', nodes: ['im.web'] }]);
      const before = await state();
      const rowsRefused = [
        { hostname: 'shared.im.example', os: 'pwned' },
        { hostname: 'shared.im.example', nodes: ['im.web'] },
        { hostname: 'own.im.example', os: 'v2', nodes: ['im.web', 'im.db'] },
      ];
      for (const row of rowsRefused) {
        const r = await json([row], '?mode=upsert', ops);
        assert.deepEqual([r.status, r.body.updated, r.body.failed], [200, 0, 1]);
        assert.match(r.body.rows[0].errors?.[0] ?? '', /not allowed: machine\.write on im\.db/, JSON.stringify(row));
      }
      assert.equal(await state(), before);
      assert.deepEqual([(await get('shared.im.example')).os, (await get('shared.im.example')).nodes], ['kept', ['im.db', 'im.web']]);
      const own = await json([{ hostname: 'own.im.example', os: 'v2' }], '?mode=upsert', ops);
      assert.deepEqual([own.body.updated, own.body.failed], [1, 0], 'a row naming no nodes updates a machine wholly in the user\'s subtree');
      assert.deepEqual([(await get('own.im.example')).os, (await get('own.im.example')).nodes], ['v2', ['im.web']]);
    });

    test('an import that lands nothing writes nothing, not even an audit entry; a viewer is refused outright', async () => {
      const before = await state();
      const r = await json([{ hostname: 'BAD' }, { hostname: 'x.im.example', nodes: ['nope'] }]);
      assert.deepEqual([r.status, r.body.failed], [200, 2]);
      assert.equal(await state(), before);
      assert.equal((await s.call('POST', '/api/v1/users', { username: 'imp-viewer', password: 'pw-of-imp-viewer' })).status, 201);
      assert.equal((await s.call('POST', '/api/v1/grants', { user: 'imp-viewer', role: 'viewer', nodePath: 'im' })).status, 201);
      const viewer = await s.login('imp-viewer', 'pw-of-imp-viewer');
      const mid = await state();
      const refused = await json([{ hostname: 'v.im.example', nodes: ['im.web'] }], '', viewer);
      assert.equal(refused.status, 403);
      assert.equal(await state(), mid);
    });
  });
}
