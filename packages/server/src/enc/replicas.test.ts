/**
 * Two server replicas over one PostgreSQL database: a change made through one reaches the other's
 * in-memory ENC model through the change feed, and an install request is bound once even though
 * both replicas see the machine appear. PostgreSQL only (PGlite has a single process, no replicas).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServices, type Services } from '../services.ts';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';

const postgres = testBackends().find((b) => b.name === 'postgres');

describe('ENC across two replicas (postgres)', { skip: postgres ? false : 'set CANOPY_TEST_DATABASE_URL to run the replica tests' }, () => {
  let s: TestServer;
  let b: Services;
  before(async () => {
    s = await startTestServer(postgres!);
    b = createServices(s.database, { onError: (err) => console.error(err) });
    await b.start();
  });
  after(async () => {
    await b.stop();
    await s.close();
  });

  // Replica B applies what A committed once its feed has reached A's revision (NOTIFY-driven).
  const level = () => b.feed.waitFor(s.services.feed.revision());

  test('an association, a rename and the catalog made on one replica show in the other\'s answers', async () => {
    await s.call('PUT', '/api/v1/puppet/classes', ['base', 'profile::web']);
    await s.call('POST', '/api/v1/nodes', { parentPath: null, name: 'rep' });
    await s.call('POST', '/api/v1/nodes', { parentPath: 'rep', name: 'web' });
    await s.call('PUT', '/api/v1/nodes/rep.web/puppet', { classes: { 'profile::web': {} }, parameters: { tier: 'front' } });
    await s.call('POST', '/api/v1/machines', { hostname: 'rep1.example.com', nodes: ['rep.web'], zone: 'z9' });
    await level();
    let answer = b.enc.answer('rep1.example.com');
    assert.deepEqual(answer.classes, { 'profile::web': {} });
    assert.deepEqual(answer.parameters, { canopy_node: 'rep.web', canopy_zone: 'z9', tier: 'front' });
    await s.call('PATCH', '/api/v1/nodes/rep.web', { name: 'www' });
    await level();
    answer = b.enc.answer('rep1.example.com');
    assert.equal(answer.parameters['canopy_node'], 'rep.www');
    assert.deepEqual(b.enc.model.catalog().classes.map((c) => c.name), ['base', 'profile::web']);
  });

  test('both replicas see the machine appear; the install request is bound exactly once', async () => {
    await s.call('POST', '/api/v1/nodes', { parentPath: 'rep', name: 'db' });
    const req = await s.call('POST', '/api/v1/provisioning', { hostname: 'rep2.example.com', nodePath: 'rep.db' });
    await level();
    assert.equal(b.enc.answer('rep2.example.com').source, 'provisioning');
    await s.call('POST', '/api/v1/machines', { hostname: 'rep2.example.com' });
    await level();
    await Promise.all([s.services.provisioning.settled(), b.provisioning.settled()]);
    await level();
    await Promise.all([s.services.provisioning.settled(), b.provisioning.settled()]);
    assert.equal((await s.call('GET', `/api/v1/provisioning/${req.body.id}`)).body.state, 'bound');
    const audit = await s.call('GET', '/api/v1/audit?under=rep.db');
    const ops = audit.body.items.map((e: { operation: string }) => e.operation).filter((o: string) => o !== 'tree.create');
    // The superuser's create claims the request in its own transaction: bound by the create, not a later bind.
    assert.deepEqual(ops.sort(), ['machine.create', 'provisioning.bind', 'provisioning.create']);
    await level();
    assert.equal(b.enc.answer('rep2.example.com').source, 'tree');
  });
});
