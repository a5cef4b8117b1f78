/** Builders shared by the nginx and LVS API tests: nodes, machines, discovery instances, users. */
import assert from 'node:assert/strict';
import { buildApp } from '../http/app.ts';
import { createServices, type ServiceOptions } from '../services.ts';
import { ADMIN_PASSWORD, type Reply, type TestBackend, type TestServer } from '../testing/index.ts';

/** Like `startTestServer`, with service options of the test's own (`startTestServer` takes none). */
export async function startServerWith(backend: TestBackend, opts: ServiceOptions): Promise<TestServer> {
  const database = await backend.open();
  const services = createServices(database, { onError: (err) => console.error(err), ...opts });
  await services.start();
  await services.auth.bootstrap(ADMIN_PASSWORD);
  const app = await buildApp(services, { logLevel: 'silent' });
  await app.ready();
  const call: TestServer['call'] = async (method, url, body, o = {}) => {
    const token = o.token === undefined ? server.adminToken : o.token;
    const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...o.headers };
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await app.inject({ method: method as 'GET', url, headers, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined, headers: res.headers };
  };
  const login = async (username: string, password: string) => expectStatus(await call('POST', '/api/v1/auth/login', { username, password }, { token: null }), 200).body.token as string;
  const server: TestServer = {
    backend: backend.name, database, services, app, adminToken: '', call, login,
    async close() {
      await app.close();
      await services.stop();
      await database.close();
    },
  };
  server.adminToken = await login('admin', ADMIN_PASSWORD);
  return server;
}

/** Fails with the answer's body when the status is not one of `ok`. */
export function expectStatus(r: Reply, ...ok: number[]): Reply {
  assert.ok(ok.includes(r.status), `expected ${ok.join('|')}, got ${r.status}: ${JSON.stringify(r.body)}`);
  return r;
}

/** Create `path` and any missing ancestors. */
export async function mkNodes(s: TestServer, path: string): Promise<void> {
  const parts = path.split('.');
  for (let i = 0; i < parts.length; i++) {
    const parentPath = i === 0 ? null : parts.slice(0, i).join('.');
    expectStatus(await s.call('POST', '/api/v1/nodes', { parentPath, name: parts[i] }), 201, 409);
  }
}

/** A discovery service on `path` declaring `port` as `http`. */
export async function mkDiscoveryService(s: TestServer, path: string, port: number): Promise<void> {
  await mkNodes(s, path);
  expectStatus(await s.call('PUT', `/api/v1/services/${path}`, { ports: [{ name: 'http', port }] }), 200, 201);
}

/** Register `hostname` (a machine with one address, bound to the service node) on `port`. */
export async function mkInstance(s: TestServer, path: string, hostname: string, ip: string, port: number, body: object = {}): Promise<void> {
  expectStatus(await s.call('POST', '/api/v1/machines', { hostname, ips: [ip], nodes: [path], status: 'online' }), 201);
  expectStatus(await s.call('PUT', `/api/v1/services/${path}/instances/${hostname}/${port}`, body), 201);
}

/** Change an instance (status, weight), as a deploy would before stopping it. */
export async function setInstance(s: TestServer, path: string, hostname: string, port: number, body: object): Promise<void> {
  expectStatus(await s.call('PUT', `/api/v1/services/${path}/instances/${hostname}/${port}`, body), 200);
}

/** A plain-http domain on `port`. */
export async function mkDomain(s: TestServer, domain: string, port = 8080, extra: object = {}): Promise<void> {
  expectStatus(await s.call('PUT', `/api/v1/domains/${domain}`, { ports: [{ port }], ...extra }), 200, 201);
}

/** A user holding `role` on `nodePath` (none when null); returns a bearer token. */
export async function userWith(s: TestServer, username: string, role: string | null, nodePath: string): Promise<string> {
  const password = 'password-123';
  expectStatus(await s.call('POST', '/api/v1/users', { username, password }), 201);
  if (role) expectStatus(await s.call('POST', '/api/v1/grants', { user: username, role, nodePath }), 201);
  return s.login(username, password);
}

/** The content of the generated file whose name contains `part`. */
export function fileOf(config: { files: { path: string; content: string }[] }, part: string): string {
  const f = config.files.find((x) => x.path.includes(part));
  assert.ok(f, `no file like ${part} in ${config.files.map((x) => x.path).join(', ')}`);
  return f.content;
}

/**
 * Watch until the published config satisfies `ok`, each wait at most `waitMs`; returns the config.
 * Fails when a wait ends with nothing new.
 */
export async function watchUntil(s: TestServer, url: string, from: number, ok: (config: any) => boolean, waitMs = 1000): Promise<any> {
  let version = from;
  for (let i = 0; i < 10; i++) {
    const r = expectStatus(await s.call('GET', `${url}/watch?version=${version}&wait=${waitMs}ms`), 200);
    assert.ok(r.body.version > version, `no version after v${version} within ${waitMs} ms`);
    if (ok(r.body)) return r.body;
    version = r.body.version;
  }
  assert.fail('the config never reached the expected state');
}
