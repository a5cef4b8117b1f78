import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { mkMachine, mkService, userWith } from '../discovery/fixtures.test-util.ts';

for (const backend of testBackends()) {
  describe(`machine credentials (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
      await mkService(s, 'ag.web');
      await mkService(s, 'ag.api');
      await mkService(s, 'ag.db');
      await mkMachine(s, 'ag1.example', '10.60.0.1', ['ag.web'], 'z1');
      await mkMachine(s, 'ag2.example', '10.60.0.2', ['ag.web'], 'z2');
      await mkMachine(s, 'ag3.example', '10.60.0.3', ['ag.web', 'ag.db']);
    });
    after(() => s.close());

    const issue = async (hostname: string, name?: string, token?: string) => s.call('POST', `/api/v1/machines/${hostname}/credentials`, name === undefined ? {} : { name }, token === undefined ? {} : { token });
    const as = (token: string) => ({ token });

    test('an issued credential lets the agent register, heartbeat and deregister its own instances only', async () => {
      const r = await issue('ag1.example', 'agent');
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const token = r.body.token as string;
      assert.match(token, /^cnm_[A-Za-z0-9_-]{43}$/);
      assert.equal(r.body.prefix, token.slice(0, 8));

      const own = await s.call('PUT', '/api/v1/services/ag.web/instances/ag1.example/8080', { ttlSeconds: 30 }, as(token));
      assert.equal(own.status, 201, JSON.stringify(own.body));
      assert.equal((await s.call('PUT', '/api/v1/services/ag.web/instances/ag1.example/8080/heartbeat', { status: 'pass' }, as(token))).status, 200);
      const other = await s.call('PUT', '/api/v1/services/ag.web/instances/ag2.example/8080', {}, as(token));
      assert.equal(other.status, 403, 'another machine’s instance');
      assert.match(other.body.detail ?? other.body.title, /own machine/);
      assert.equal((await s.call('PUT', '/api/v1/services/ag.web', { ports: [{ name: 'http', port: 9090 }] }, as(token))).status, 404, 'service definitions stay with users');
      assert.equal((await s.call('DELETE', '/api/v1/services/ag.web/instances/ag1.example/8080', undefined, as(token))).status, 204);

      const audit = await s.call('GET', '/api/v1/audit?limit=5');
      assert.equal(audit.status, 200);
      assert.ok(audit.body.items.some((e: { actor: string; operation: string }) => e.actor === 'machine:ag1.example'), JSON.stringify(audit.body.items.map((e: { actor: string }) => e.actor)));
    });

    test('an agent reads services, and its machine names its zone and calling node', async () => {
      const token = (await issue('ag2.example', 'reader')).body.token as string;
      assert.equal((await s.call('PUT', '/api/v1/services/ag.db/instances/ag3.example/8080', {})).status, 201);
      const read = await s.call('GET', '/api/v1/services/ag.db/instances', undefined, as(token));
      assert.equal(read.status, 200, JSON.stringify(read.body));
      assert.deepEqual(read.body.instances.map((i: { hostname: string }) => i.hostname), ['ag3.example']);
      assert.equal((await s.call('GET', '/api/v1/services/ag.db/instances?caller=ag.api', undefined, as(token))).status, 403, 'a caller node its machine does not run in');
      // Without ?caller= the machine's own node is the caller: the lookup shows in the graph as ag.web → ag.db.
      await s.services.discovery.edges.flush();
      const graph = await s.call('GET', '/api/v1/services/ag.db/graph');
      assert.equal(graph.status, 200, JSON.stringify(graph.body));
      assert.ok(JSON.stringify(graph.body).includes('ag.web'), JSON.stringify(graph.body));
    });

    test("a zone-aware answer to an agent prefers its own machine's zone unless it names one", async () => {
      await mkService(s, 'agz.web', { zoneAware: true, zoneMinHealthy: 1 });
      await mkMachine(s, 'agz-1.example', '10.61.0.1', ['agz.web'], 'z1');
      await mkMachine(s, 'agz-2.example', '10.61.0.2', ['agz.web'], 'z2');
      for (const h of ['agz-1.example', 'agz-2.example']) assert.equal((await s.call('PUT', `/api/v1/services/agz.web/instances/${h}/8080`, {})).status, 201);
      await mkMachine(s, 'ag4.example', '10.60.0.4', ['ag.web'], 'z2');
      const token = (await issue('ag4.example', 'zoned')).body.token as string;
      const names = (r: { body: { instances: { hostname: string }[] } }) => r.body.instances.map((i) => i.hostname);
      assert.deepEqual(names(await s.call('GET', '/api/v1/services/agz.web/instances?healthy=true', undefined, as(token))), ['agz-2.example']);
      assert.deepEqual(names(await s.call('GET', '/api/v1/services/agz.web/instances?healthy=true&zone=z1', undefined, as(token))), ['agz-1.example']);
      assert.deepEqual(names(await s.call('GET', '/api/v1/services/agz.web/instances?healthy=true')).sort(), ['agz-1.example', 'agz-2.example'], 'a user with no zone gets all');
    });

    test('listing shows no secrets; names are unique per machine; agents cannot manage credentials', async () => {
      const token = (await issue('ag2.example', 'lister')).body.token as string;
      const list = await s.call('GET', '/api/v1/machines/ag2.example/credentials');
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.items.map((c: { name: string }) => c.name), ['lister', 'reader']);
      assert.ok(!JSON.stringify(list.body).includes(token), 'no secret in a listing');
      assert.equal((await issue('ag2.example', 'lister')).status, 409);
      assert.equal((await issue('ag2.example', 'Bad Name!')).status, 400);
      assert.equal((await issue('no-such.example')).status, 404);
      assert.equal((await issue('ag2.example', 'more', token)).status, 404, 'an agent sees no machine to manage');
    });

    test('managing a credential needs machine.write on every node the machine runs in', async () => {
      const webOps = await userWith(s, 'ag-webops', 'ops', 'ag.web');
      assert.equal((await issue('ag1.example', 'by-ops', webOps)).status, 201);
      const refused = await issue('ag3.example', 'by-ops', webOps);
      assert.equal(refused.status, 403, JSON.stringify(refused.body));
      const before = await s.call('GET', '/api/v1/machines/ag3.example/credentials');
      assert.deepEqual(before.body.items, [], 'nothing was issued');
    });

    test('a revoked credential, or one of a retired machine, is refused at once', async () => {
      const a = await issue('ag1.example', 'revoke-me');
      const b = await issue('ag2.example', 'retire-me');
      const ok = (t: string) => s.call('GET', '/api/v1/services/ag.web/instances', undefined, as(t));
      assert.equal((await ok(a.body.token)).status, 200);
      assert.equal((await s.call('DELETE', `/api/v1/machines/ag1.example/credentials/${a.body.id}`)).status, 204);
      assert.equal((await ok(a.body.token)).status, 401);
      assert.equal((await s.call('DELETE', `/api/v1/machines/ag1.example/credentials/${a.body.id}`)).status, 404);

      assert.equal((await ok(b.body.token)).status, 200);
      const retire = await s.call('PATCH', '/api/v1/machines/ag2.example', { status: 'retired' });
      assert.equal(retire.status, 200, JSON.stringify(retire.body));
      assert.equal((await ok(b.body.token)).status, 401);
    });
  });
}
