/** The classes catalog fetched from the Puppet code base's URL: start, refresh, and failures that keep the old catalog. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../http/app.ts';
import { createServices, type Services } from '../services.ts';
import { ADMIN_PASSWORD, testBackends } from '../testing/index.ts';
import type { Database } from '../db/connection.ts';

for (const backend of testBackends()) {
  describe(`classes catalog from a URL (${backend.name})`, () => {
    // What the Puppet code base publishes; tests change it between refreshes.
    let published: { status: number; type: string; body: string } = { status: 200, type: 'text/plain', body: 'base\nprofile::web\n' };
    let http: Server;
    let database: Database;
    let services: Services;
    let app: FastifyInstance;
    let token = '';

    const call = async (method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown, as = token) => {
      const res = await app.inject({ method, url, headers: { authorization: `Bearer ${as}` }, ...(body === undefined ? {} : { payload: body as object }) });
      return { status: res.statusCode, body: res.json() };
    };

    before(async () => {
      http = createServer((_req, res) => res.writeHead(published.status, { 'content-type': published.type }).end(published.body));
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/classes.txt`;
      database = await backend.open();
      services = createServices(database, { puppetClassesUrl: url, puppetClassesRefreshSeconds: 0, onError: () => {} });
      await services.start();
      await services.auth.bootstrap(ADMIN_PASSWORD);
      app = await buildApp(services, { logLevel: 'silent' });
      const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin', password: ADMIN_PASSWORD } });
      token = login.json().token;
    });
    after(async () => {
      await app.close();
      await services.stop();
      await database.close();
      await new Promise((resolve) => http.close(resolve));
    });

    test('the catalog is fetched at start from CANOPY_PUPPET_CLASSES_URL', async () => {
      // The start-up fetch is under way; a refresh now shares it rather than starting another.
      const first = await call('POST', '/api/v1/puppet/classes/refresh');
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const got = await call('GET', '/api/v1/puppet/classes');
      assert.deepEqual(got.body.classes, [{ name: 'base', parameters: null }, { name: 'profile::web', parameters: null }]);
      assert.equal(got.body.source, 'url');
      assert.ok(got.body.fetchedAt);
      assert.equal(got.body.lastError, null);
    });

    test('a refresh picks up a changed file, JSON with parameters included, and audits the change', async () => {
      published = { status: 200, type: 'application/json', body: JSON.stringify(['base', { name: 'nginx', parameters: ['port'] }]) };
      const r = await call('POST', '/api/v1/puppet/classes/refresh');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.classes, [{ name: 'base', parameters: null }, { name: 'nginx', parameters: ['port'] }]);
      const audit = await call('GET', '/api/v1/audit?operation=enc.catalog');
      assert.deepEqual(audit.body.items[0].after.added, ['nginx']);
      assert.deepEqual(audit.body.items[0].after.removed, ['profile::web']);
    });

    test('a failed fetch keeps the previous catalog and reports the time and the error', async () => {
      const before = (await call('GET', '/api/v1/puppet/classes')).body;
      published = { status: 500, type: 'text/plain', body: 'boom' };
      const down = await call('POST', '/api/v1/puppet/classes/refresh');
      assert.equal(down.status, 503);
      assert.match(down.body.detail, /HTTP 500.*the previous catalog \(2 classes\) is kept/);
      published = { status: 200, type: 'text/plain', body: 'base\nNot A Class\n' };
      const bad = await call('POST', '/api/v1/puppet/classes/refresh');
      assert.equal(bad.status, 503);
      assert.match(bad.body.detail, /line 2 'Not A Class'/);
      const after = (await call('GET', '/api/v1/puppet/classes')).body;
      assert.deepEqual(after.classes, before.classes);
      assert.equal(after.fetchedAt, before.fetchedAt);
      assert.match(after.lastError, /line 2/);
      assert.notEqual(after.lastAttemptAt, before.lastAttemptAt);
      assert.equal((await call('PUT', '/api/v1/nodes/x/puppet', { classes: { nginx: { port: 80 } } })).status, 404, 'the node does not exist; the class still would');
      published = { status: 200, type: 'text/plain', body: 'base\nnginx\n' };
      const back = await call('POST', '/api/v1/puppet/classes/refresh');
      assert.equal(back.status, 200);
      assert.equal(back.body.lastError, null);
    });

    test('refreshing needs enc.write on some node', async () => {
      await call('POST', '/api/v1/nodes', { parentPath: null, name: 'team' });
      await call('POST', '/api/v1/users', { username: 'viewer1', password: 'viewer-password-1' });
      await call('POST', '/api/v1/users', { username: 'ops1', password: 'ops-password-12' });
      await call('POST', '/api/v1/grants', { user: 'viewer1', role: 'viewer', nodePath: 'team' });
      await call('POST', '/api/v1/grants', { user: 'ops1', role: 'ops', nodePath: 'team' });
      const login = async (username: string, password: string) => (await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } })).json().token as string;
      assert.equal((await call('POST', '/api/v1/puppet/classes/refresh', undefined, await login('viewer1', 'viewer-password-1'))).status, 403);
      assert.equal((await call('POST', '/api/v1/puppet/classes/refresh', undefined, await login('ops1', 'ops-password-12'))).status, 200);
    });
  });
}
