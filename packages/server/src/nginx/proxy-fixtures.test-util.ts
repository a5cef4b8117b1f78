/** Builders shared by the nginx and LVS API tests: nodes, machines, discovery instances, users. */
import assert from 'node:assert/strict';
import { mkNodes, type Reply, type TestServer } from '../testing/index.ts';

export { mkNodes };

/** Fails with the answer's body when the status is not one of `ok`. */
export function expectStatus(r: Reply, ...ok: number[]): Reply {
  assert.ok(ok.includes(r.status), `expected ${ok.join('|')}, got ${r.status}: ${JSON.stringify(r.body)}`);
  return r;
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
 * Watch until the published config satisfies `ok`; returns the config. Each watch answers as soon
 * as a newer version is published, so the long wait costs nothing when things work: it is there so
 * a busy machine does not fail the test, and only a publication that never comes does.
 */
export async function watchUntil(s: TestServer, url: string, from: number, ok: (config: any) => boolean, waitMs = 120_000): Promise<any> {
  let version = from;
  for (let i = 0; i < 10; i++) {
    const r = expectStatus(await s.call('GET', `${url}/watch?version=${version}&wait=${waitMs}ms`), 200);
    assert.ok(r.body.version > version, `no version after v${version} within ${waitMs} ms`);
    if (ok(r.body)) return r.body;
    version = r.body.version;
  }
  assert.fail('the config never reached the expected state');
}
