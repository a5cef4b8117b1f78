/** The HTTP boundary: URLs and JSON bodies the server refuses at the door, and how errors map to problems. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { sql } from 'drizzle-orm';
import { startTestServer, testBackends, type Reply, type TestServer } from '../testing/index.ts';
import { installErrorHandling } from './errors.ts';
import { MAX_JSON_DEPTH } from './json.ts';

const PROBLEM = 'application/problem+json; charset=utf-8';

for (const backend of testBackends()) {
  describe(`HTTP boundary (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    function refused(r: Reply, status: number, pattern: RegExp): void {
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.headers['content-type'], PROBLEM);
      assert.match(r.body.detail, pattern);
    }
    const raw = (method: string, url: string, text: string) => s.call(method, url, text, { headers: { 'content-type': 'application/json' } });
    const size = () => s.services.tree.model.size();

    test('a node path of the full 253 characters is served (the router used to stop at 100 with a 414)', async () => {
      const labels = ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(61)];
      for (let i = 0; i < labels.length; i++) {
        const r = await s.call('POST', '/api/v1/nodes', { parentPath: i === 0 ? null : labels.slice(0, i).join('.'), name: labels[i] });
        assert.equal(r.status, 201, JSON.stringify(r.body));
      }
      const path = labels.join('.');
      assert.equal(path.length, 253);
      assert.equal((await s.call('GET', `/api/v1/nodes/${path}`)).body.path, path);
      refused(await s.call('GET', `/api/v1/nodes/${path}x`), 400, /at most 253/);
      refused(await s.call('GET', `/api/v1/nodes/${'x'.repeat(5000)}`), 400, /too long/);
    });

    test('malformed percent-encoding and encoded NUL in a URL answer 400 problems', async () => {
      refused(await s.call('GET', '/api/v1/nodes/%ZZ'), 400, /percent-encoded/);
      refused(await s.call('DELETE', '/api/v1/nodes/%E0%A4%A'), 400, /percent-encoded/);
      refused(await s.call('GET', '/api/v1/machines?q=a%00b'), 400, /NUL/);
      const before = size();
      refused(await s.call('POST', '/api/v1/nodes?x=%00', { parentPath: null, name: 'nulurl' }), 400, /NUL/);
      assert.equal(size(), before);
    });

    test(`JSON is accepted ${MAX_JSON_DEPTH} levels deep and refused deeper, before any work`, async () => {
      const nest = (depth: number) => `${'['.repeat(depth - 2)}1${']'.repeat(depth - 2)}`;
      const ok = await raw('POST', '/api/v1/machines', `{"hostname":"deep-ok.example","facts":{"d":${nest(MAX_JSON_DEPTH)}}}`);
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      refused(await raw('POST', '/api/v1/machines', `{"hostname":"deep-no.example","facts":{"d":${nest(MAX_JSON_DEPTH + 1)}}}`), 400, /nest at most 64/);
      refused(await raw('POST', '/api/v1/machines', `{"hostname":"deeper.example","facts":{"d":${nest(50_000)}}}`), 400, /nest at most 64/);
      assert.equal((await s.call('GET', '/api/v1/machines/deep-no.example')).status, 404);
      const brackets = await raw('POST', '/api/v1/nodes', `{"parentPath":null,"name":"brackets","description":"${'['.repeat(500)}"}`);
      assert.equal(brackets.status, 201, 'brackets inside strings do not count');
    });

    test('text PostgreSQL cannot store is refused: NUL and unpaired surrogates; a surrogate pair is kept intact', async () => {
      const before = size();
      refused(await raw('POST', '/api/v1/nodes', '{"parentPath":null,"name":"nul","description":"a\\u0000b"}'), 400, /NUL/);
      refused(await raw('POST', '/api/v1/nodes', '{"parentPath":null,"name":"hi","labels":{"a":"\\ud800"}}'), 400, /surrogate/);
      refused(await raw('POST', '/api/v1/nodes', '{"parentPath":null,"name":"lo","description":"\\udc00"}'), 400, /surrogate/);
      refused(await raw('POST', '/api/v1/nodes', '{"parentPath":null,"name":"hi2","description":"\\ud800\\u0041"}'), 400, /surrogate/);
      assert.equal(size(), before);
      const pair = await raw('POST', '/api/v1/nodes', '{"parentPath":null,"name":"emoji","description":"\\ud83c\\udf33 canopy \\\\u0000 literal"}');
      assert.equal(pair.status, 201, JSON.stringify(pair.body));
      assert.equal((await s.call('GET', '/api/v1/nodes/emoji')).body.description, '🌳 canopy \\u0000 literal');
    });

    test('prototype-poisoning keys, broken JSON and bodies over the limit are refused', async () => {
      refused(await raw('POST', '/api/v1/users', '{"username":"proto","__proto__":{"superuser":true}}'), 400, /./);
      refused(await raw('POST', '/api/v1/nodes', '{"parentPath": null, "name": '), 400, /JSON/);
      const big = await raw('POST', '/api/v1/nodes', `{"parentPath":null,"name":"big","description":"${'x'.repeat(10 * 1024 * 1024)}"}`);
      refused(big, 413, /too large/);
      assert.equal(big.body.code, 'payload_too_large');
      assert.equal((await s.call('GET', '/api/v1/nodes/big')).status, 404);
    });

    test('a body in another media type, or with no Content-Type, is 415 and changes nothing', async () => {
      const before = size();
      const xml = await s.call('POST', '/api/v1/nodes', '<node><name>xml</name></node>', { headers: { 'content-type': 'application/xml' } });
      refused(xml, 415, /"application\/xml" is not accepted here: send application\/json/);
      assert.equal(xml.body.code, 'unsupported_media_type');
      const bare = await s.call('POST', '/api/v1/nodes', '{"parentPath":null,"name":"bare"}');
      refused(bare, 415, /needs a Content-Type header/);
      assert.equal(size(), before);
      assert.equal((await s.call('GET', '/api/v1/nodes/bare')).status, 404);
      // A route whose body is optional still answers without one (an empty heartbeat is a pass).
      assert.notEqual((await s.call('PUT', '/api/v1/services/nosuch/instances/h/80/heartbeat')).status, 415);
    });

    test('a __proto__ key is refused as such, at any depth and however it is spelled, not as broken JSON', async () => {
      const before = size();
      const top = await raw('POST', '/api/v1/nodes', '{"parentPath":null,"name":"proto1","__proto__":{"x":1}}');
      refused(top, 400, /^__proto__ is not allowed as a key \(at body\.__proto__\)$/);
      assert.deepEqual(top.body.issues, [{ path: ['body', '__proto__'], message: '__proto__ is not allowed as a key' }]);
      refused(await raw('POST', '/api/v1/nodes', '{"parentPath":null,"name":"proto2","labels":{"__proto__":"x"}}'), 400, /__proto__ is not allowed as a key \(at body\.labels\.__proto__\)/);
      refused(await raw('POST', '/api/v1/nodes', '{"parentPath":null,"name":"proto3","\\u005f_proto__":{"x":1}}'), 400, /__proto__ is not allowed as a key/);
      refused(await raw('POST', '/api/v1/nodes', '{"parentPath":null,"name":"proto4","constructor":{"prototype":{"x":1}}}'), 400, /constructor\.prototype is not allowed as a key/);
      assert.equal(size(), before);
      // The word itself in a value is nothing special.
      const ok = await raw('POST', '/api/v1/nodes', '{"parentPath":null,"name":"proto5","description":"__proto__ and constructor are words"}');
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
    });

    test('database errors map to problems: uniqueness and references 409, bad values 400, anything else 500 without details', async () => {
      const db = s.database.db;
      const app = Fastify({ logger: false });
      installErrorHandling(app);
      app.get('/unique', async () => db.execute(sql`INSERT INTO roles (name) VALUES ('admin')`));
      app.get('/reference', async () => db.execute(sql`INSERT INTO machine_nodes (machine_id, node_id) VALUES (-1, -1)`));
      app.get('/value', async () => db.execute(sql`SELECT ${'twelve'}::int`));
      app.get('/bug', async () => db.execute(sql`SELECT 1 / (SELECT count(*) FROM roles WHERE name = 'none')`));
      const call = async (url: string) => {
        const r = await app.inject({ url });
        return { status: r.statusCode, body: JSON.parse(r.body), type: r.headers['content-type'] };
      };
      const unique = await call('/unique');
      assert.deepEqual([unique.status, unique.body.code, unique.type], [409, 'conflict', PROBLEM]);
      assert.deepEqual([(await call('/reference')).status, (await call('/reference')).body.code], [409, 'conflict']);
      assert.deepEqual([(await call('/value')).status, (await call('/value')).body.code], [400, 'validation_failed']);
      const bug = await call('/bug');
      assert.deepEqual([bug.status, bug.body.code], [500, 'internal']);
      assert.ok(bug.body.requestId);
      assert.ok(!JSON.stringify(bug.body).includes('SELECT'), 'no SQL leaks into the answer');
      await app.close();
    });
  });
}
