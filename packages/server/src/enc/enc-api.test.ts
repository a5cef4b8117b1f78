/** The ENC API end to end through the HTTP stack, on PGlite and (when configured) PostgreSQL. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';

const CATALOG = ['# classes published by the Puppet code base', 'base', 'profile::web', 'profile::db', 'motd', ''].join('\n');
const CATALOG_JSON = [{ name: 'nginx', parameters: ['worker_processes', 'listen'] }, 'base', 'profile::web', 'profile::db', 'motd'];

for (const backend of testBackends()) {
  describe(`Puppet ENC API (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
      const up = await s.call('PUT', '/api/v1/puppet/classes', CATALOG_JSON);
      assert.equal(up.status, 200, JSON.stringify(up.body));
    });
    after(() => s.close());

    const mk = (parentPath: string | null, name: string) => s.call('POST', '/api/v1/nodes', { parentPath, name });
    const put = (path: string, body: unknown, opts?: { token?: string; headers?: Record<string, string> }) => s.call('PUT', `/api/v1/nodes/${path}/puppet`, body, opts);
    const auditCount = async () => (await s.call('GET', '/api/v1/audit?limit=1000')).body.items.length as number;

    test('the catalog takes a text upload, lists it, and a bad file changes nothing', async () => {
      const text = await s.call('PUT', '/api/v1/puppet/classes', CATALOG, { headers: { 'content-type': 'text/plain' } });
      assert.equal(text.status, 200);
      assert.deepEqual(text.body.classes.map((c: { name: string }) => c.name), ['base', 'motd', 'profile::db', 'profile::web']);
      assert.equal(text.body.source, 'upload');
      const bad = await s.call('PUT', '/api/v1/puppet/classes', 'base\nWeb-Server\n', { headers: { 'content-type': 'text/plain' } });
      assert.equal(bad.status, 400);
      assert.match(bad.body.detail, /line 2 'Web-Server'/);
      assert.equal((await s.call('GET', '/api/v1/puppet/classes')).body.classes.length, 4, 'the previous catalog is kept');
      const json = await s.call('PUT', '/api/v1/puppet/classes', CATALOG_JSON);
      assert.equal(json.status, 200);
      const got = await s.call('GET', '/api/v1/puppet/classes');
      assert.deepEqual(got.body.classes.find((c: { name: string }) => c.name === 'nginx'), { name: 'nginx', parameters: ['listen', 'worker_processes'] });
      assert.equal(got.body.lastError, null);
    });

    test('refuses an unknown class or an unlisted parameter with 400 naming it', async () => {
      await mk(null, 'cat');
      const unknown = await put('cat', { classes: { apache: {} } });
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.detail, /class 'apache' is not in the classes catalog/);
      assert.deepEqual(unknown.body.issues[0].path, ['classes', 'apache']);
      const param = await put('cat', { classes: { nginx: { worker_processes: 4, color: 'red' } } });
      assert.equal(param.status, 400);
      assert.match(param.body.detail, /class 'nginx' has no parameter 'color'/);
      const meta = await put('cat', { classes: { nginx: { worker_processes: 4, stage: 'setup' } } });
      assert.equal(meta.status, 200, 'metaparameters are always allowed');
    });

    test('refuses bad class, parameter and environment names, naming each field', async () => {
      await mk(null, 'names');
      for (const [body, field] of [
        [{ classes: { 'Bad-Name': {} } }, 'Bad-Name'],
        [{ classes: { nginx: { Title: 1 } } }, 'Title'],
        [{ parameters: { canopy_zone: 'x' } }, 'canopy_zone'],
        [{ parameters: { trusted: 'x' } }, 'trusted'],
        [{ environment: 'Prod' }, 'environment'],
        [{ classes: { '::nginx': {} } }, '::nginx'],
        [{ classes: {}, extra: 1 }, 'extra'],
      ] as const) {
        const r = await put('names', body);
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(r.body.code, 'validation_failed');
        assert.ok(JSON.stringify(r.body.issues).includes(field), `${field} named in ${JSON.stringify(r.body.issues)}`);
      }
      assert.equal((await s.call('GET', '/api/v1/nodes/names/puppet')).body.own, null, 'nothing was stored');
    });

    test('values with quotes, newlines, ": " and a leading "!" round-trip through the API and the YAML', async () => {
      await mk(null, 'vals');
      await mk('vals', 'app');
      const parameters = {
        quote: 'say "hi" and \'bye\'',
        lines: 'one\ntwo\r\nthree',
        colon: 'key: value',
        bang: '!not_a_tag',
        hash: '# not a comment',
        yes: 'yes',
        nested: { 'a: b': ['!x', '- y', null, true, 1.5], '<<': 'merge?' },
      };
      const r = await put('vals', { classes: { motd: {} }, parameters });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.own.parameters, parameters);
      await s.call('POST', '/api/v1/machines', { hostname: 'vals1.example.com', nodes: ['vals.app'] });
      const yaml = await s.call('GET', '/api/v1/enc/vals1.example.com');
      assert.equal(yaml.status, 200);
      assert.match(String(yaml.headers['content-type']), /^text\/yaml/);
      const doc = parseYaml(yaml.body as string);
      for (const [k, v] of Object.entries(parameters)) assert.deepEqual(doc.parameters[k], v, k);
      const nul = await put('vals', { parameters: { bad: 'a\u0000b' } });
      assert.equal(nul.status, 400);
      assert.match(nul.body.detail, /NUL|U\+0000/, 'PostgreSQL cannot store U+0000, so it is refused, not mangled');
    });

    test('a node inherits classes whole from its nearest ancestor; parameters merge, nearer wins', async () => {
      await mk(null, 'inh');
      await mk('inh', 'web');
      await mk('inh.web', 'api');
      assert.equal((await put('inh', { classes: { base: {} }, parameters: { ntp: 'pool', tier: 'none' }, environment: 'stable' })).status, 200);
      assert.equal((await put('inh.web', { classes: { base: {}, 'profile::web': {} }, parameters: { tier: 'front' } })).status, 200);
      const got = await s.call('GET', '/api/v1/nodes/inh.web.api/puppet');
      assert.equal(got.status, 200);
      assert.equal(got.body.own, null);
      assert.deepEqual(got.body.effective.classes, { base: {}, 'profile::web': {} });
      assert.equal(got.body.effective.classesFrom, 'inh.web');
      assert.deepEqual(got.body.effective.parameters, { ntp: { value: 'pool', from: 'inh' }, tier: { value: 'front', from: 'inh.web' } });
      assert.equal(got.body.effective.environment, 'stable');
      assert.equal(got.body.effective.environmentFrom, 'inh');
      assert.equal((await put('inh.web.api', { classes: {} })).status, 200);
      const none = await s.call('GET', '/api/v1/nodes/inh.web.api/puppet');
      assert.deepEqual(none.body.effective.classes, {}, '{} means no classes, on purpose');
    });

    test('a tree rename or move keeps the association and the ENC follows the new path', async () => {
      await mk(null, 'rn');
      await mk('rn', 'old');
      await mk('rn', 'other');
      await put('rn.old', { classes: { 'profile::db': {} }, parameters: { role: 'db' } });
      await s.call('POST', '/api/v1/machines', { hostname: 'rn1.example.com', nodes: ['rn.old'] });
      assert.equal((await s.call('PATCH', '/api/v1/nodes/rn.old', { name: 'new' })).status, 200);
      const got = await s.call('GET', '/api/v1/nodes/rn.new/puppet');
      assert.deepEqual(got.body.own.classes, { 'profile::db': {} });
      let enc = await s.call('GET', '/api/v1/enc/rn1.example.com?format=json');
      assert.equal(enc.body.parameters.canopy_node, 'rn.new');
      assert.deepEqual(enc.body.classes, { 'profile::db': {} });
      assert.equal((await s.call('POST', '/api/v1/nodes/rn.new/move', { parentPath: 'rn.other' })).status, 200);
      enc = await s.call('GET', '/api/v1/enc/rn1.example.com?format=json');
      assert.equal(enc.body.parameters.canopy_node, 'rn.other.new');
      assert.equal(enc.body.parameters.role, 'db');
    });

    test('the YAML answer follows every change: association, rename, defaults, placement', async () => {
      await mk(null, 'live');
      await mk('live', 'a');
      await mk('live', 'b');
      await put('live.a', { classes: { base: {} }, parameters: { v: 1 } });
      await put('live.b', { classes: { motd: {} } });
      await s.call('POST', '/api/v1/machines', { hostname: 'live1.example.com', nodes: ['live.a'], zone: 'z1' });
      await s.call('POST', '/api/v1/machines', { hostname: 'live2.example.com', nodes: ['live.a', 'live.b'] });
      const doc = async (host: string) => parseYaml((await s.call('GET', `/api/v1/enc/${host}`)).body as string);
      assert.equal((await doc('live1.example.com')).parameters.v, 1);
      await put('live.a', { classes: { base: {} }, parameters: { v: 2 } });
      assert.equal((await doc('live1.example.com')).parameters.v, 2);
      await s.call('PATCH', '/api/v1/nodes/live.a', { name: 'aa' });
      assert.equal((await doc('live1.example.com')).parameters.canopy_node, 'live.aa');
      await s.call('PATCH', '/api/v1/machines/live1.example.com', { zone: 'z2' });
      assert.equal((await doc('live1.example.com')).parameters.canopy_zone, 'z2');
      await s.call('PUT', '/api/v1/puppet/defaults', { classes: { base: { } } });
      assert.deepEqual((await doc('live2.example.com')).classes, { base: {} });
      await s.call('PUT', '/api/v1/puppet/defaults', { classes: { motd: {} } });
      assert.deepEqual((await doc('live2.example.com')).classes, { motd: {} });
      await s.call('DELETE', '/api/v1/nodes/live.b/machines/live2.example.com');
      assert.deepEqual((await doc('live2.example.com')).classes, { base: {} });
    });

    test('a failed request leaves the association and the audit log unchanged', async () => {
      await mk(null, 'fail');
      const ok = await put('fail', { classes: { base: {} }, parameters: { a: 1 } });
      const etag = String(ok.headers.etag);
      const audits = await auditCount();
      const stale = await put('fail', { classes: { motd: {} } }, { headers: { 'if-match': '"p1v999"' } });
      assert.equal(stale.status, 412);
      const unknown = await put('fail', { classes: { base: {}, nosuch: {} }, parameters: { a: 2 } });
      assert.equal(unknown.status, 400);
      const got = await s.call('GET', '/api/v1/nodes/fail/puppet');
      assert.deepEqual(got.body.own.classes, { base: {} });
      assert.deepEqual(got.body.own.parameters, { a: 1 });
      assert.equal(String(got.headers.etag), etag);
      assert.equal(await auditCount(), audits);
      const good = await put('fail', { classes: { motd: {} } }, { headers: { 'if-match': etag } });
      assert.equal(good.status, 200);
      assert.equal(await auditCount(), audits + 1);
    });

    test('GET /enc answers YAML, JSON on request, an explanation, and 404 for an unknown host', async () => {
      await mk(null, 'fmt');
      await put('fmt', { classes: { base: {} }, parameters: { tier: 'x' } });
      await s.call('POST', '/api/v1/machines', { hostname: 'fmt1.example.com', nodes: ['fmt'], zone: 'east', idc: 'dc1' });
      const yaml = await s.call('GET', '/api/v1/enc/fmt1.example.com');
      assert.deepEqual(parseYaml(yaml.body as string), {
        classes: { base: {} },
        parameters: { canopy_node: 'fmt', canopy_zone: 'east', canopy_idc: 'dc1', tier: 'x' },
        environment: 'production',
      });
      const json = await s.call('GET', '/api/v1/enc/fmt1.example.com', undefined, { headers: { accept: 'application/json' } });
      assert.equal(json.body.reason, 'single-node');
      assert.ok(Array.isArray(json.body.explain));
      const explain = await s.call('GET', '/api/v1/enc/fmt1.example.com?explain=1');
      assert.match(String(explain.headers['content-type']), /^text\/plain/);
      assert.match(explain.body as string, /base {2}← set on fmt/);
      const ghost = await s.call('GET', '/api/v1/enc/ghost.example.com');
      assert.equal(ghost.status, 404);
      assert.equal(ghost.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.match(ghost.body.detail, /machine 'ghost\.example\.com' not found/);
    });

    test('two nodes that disagree give the default classes; defaults need a superuser and the catalog', async () => {
      await mk(null, 'two');
      await mk('two', 'a');
      await mk('two', 'b');
      await put('two.a', { classes: { 'profile::web': {} } });
      await put('two.b', { classes: { 'profile::db': {} } });
      assert.equal((await s.call('PUT', '/api/v1/puppet/defaults', { classes: { nosuch: {} } })).status, 400);
      const d = await s.call('PUT', '/api/v1/puppet/defaults', { classes: { base: {} } });
      assert.equal(d.status, 200);
      assert.equal(d.body.environment, 'production');
      await s.call('POST', '/api/v1/machines', { hostname: 'two1.example.com', nodes: ['two.a', 'two.b'] });
      const r = await s.call('GET', '/api/v1/enc/two1.example.com?format=json');
      assert.equal(r.body.reason, 'nodes-differ');
      assert.deepEqual(r.body.classes, { base: {} });
      assert.match(r.body.explain[0].message, /disagree/);
    });

    test('permissions: enc.read to see, enc.write to change; a hidden host is not found', async () => {
      await mk(null, 'perm');
      await mk('perm', 'mine');
      await mk('perm', 'theirs');
      await put('perm.mine', { classes: { base: {} } });
      await s.call('POST', '/api/v1/machines', { hostname: 'perm1.example.com', nodes: ['perm.mine'] });
      await s.call('POST', '/api/v1/machines', { hostname: 'perm2.example.com', nodes: ['perm.theirs'] });
      await s.call('POST', '/api/v1/users', { username: 'encviewer', password: 'viewer-password-1' });
      await s.call('POST', '/api/v1/grants', { user: 'encviewer', role: 'viewer', nodePath: 'perm.mine' });
      const token = await s.login('encviewer', 'viewer-password-1');
      assert.equal((await s.call('GET', '/api/v1/enc/perm1.example.com', undefined, { token })).status, 200);
      assert.equal((await s.call('GET', '/api/v1/enc/perm2.example.com', undefined, { token })).status, 404);
      assert.equal((await s.call('GET', '/api/v1/nodes/perm.mine/puppet', undefined, { token })).status, 200);
      assert.equal((await put('perm.mine', { classes: {} }, { token })).status, 403);
      assert.equal((await s.call('PUT', '/api/v1/puppet/defaults', { classes: {} }, { token })).status, 403);
      assert.equal((await s.call('PUT', '/api/v1/puppet/classes', ['base'], { token })).status, 403);
      assert.equal((await s.call('GET', '/api/v1/enc/perm1.example.com', undefined, { token: null })).status, 401);
    });

    test('a catalog that drops a class in use keeps the association and flags it; refresh needs a URL', async () => {
      await mk(null, 'shrink');
      await put('shrink', { classes: { motd: {}, base: {} } });
      await s.call('PUT', '/api/v1/puppet/classes', CATALOG_JSON.filter((c) => c !== 'motd'));
      const got = await s.call('GET', '/api/v1/nodes/shrink/puppet');
      assert.deepEqual(got.body.own.classes, { base: {}, motd: {} });
      assert.deepEqual(got.body.catalogIssues.map((i: { path: string[] }) => i.path), [['classes', 'motd']]);
      await s.call('PUT', '/api/v1/puppet/classes', CATALOG_JSON);
      const refresh = await s.call('POST', '/api/v1/puppet/classes/refresh');
      assert.equal(refresh.status, 409);
      assert.match(refresh.body.detail, /CANOPY_PUPPET_CLASSES_URL/);
    });

    test('DELETE removes the association and the node inherits again', async () => {
      await mk(null, 'del');
      await mk('del', 'kid');
      await put('del', { classes: { base: {} } });
      await put('del.kid', { classes: { motd: {} } });
      assert.equal((await s.call('DELETE', '/api/v1/nodes/del.kid/puppet')).status, 204);
      assert.equal((await s.call('DELETE', '/api/v1/nodes/del.kid/puppet')).status, 404);
      const got = await s.call('GET', '/api/v1/nodes/del.kid/puppet');
      assert.deepEqual(got.body.effective.classes, { base: {} });
      const audit = await s.call('GET', '/api/v1/audit?under=del');
      assert.deepEqual(audit.body.items.map((e: { operation: string }) => e.operation).slice(0, 3), ['enc.unassociate', 'enc.associate', 'enc.associate']);
    });
  });
}
