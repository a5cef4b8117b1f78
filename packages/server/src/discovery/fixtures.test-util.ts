/** Small builders shared by the discovery test files: nodes, machines, services, users. */
import assert from 'node:assert/strict';
import { mkNodes, type TestServer } from '../testing/index.ts';

export { mkNodes };

/** A machine bound to `nodes`, with one address and a zone. */
export async function mkMachine(s: TestServer, hostname: string, ip: string, nodes: string[], zone = ''): Promise<void> {
  const r = await s.call('POST', '/api/v1/machines', { hostname, ips: [ip], zone, nodes, status: 'online' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
}

/** The node (and ancestors) and a service on it. */
export async function mkService(s: TestServer, path: string, extra: object = {}): Promise<any> {
  await mkNodes(s, path);
  const r = await s.call('PUT', `/api/v1/services/${path}`, { ports: [{ name: 'http', port: 8080 }], ...extra });
  assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.body));
  return r.body;
}

/** Register `hostname` (creating the machine bound to the service's node) on port 8080. */
export async function mkInstance(s: TestServer, path: string, hostname: string, ip: string, body: object = {}, zone = ''): Promise<any> {
  await mkMachine(s, hostname, ip, [path], zone);
  const r = await s.call('PUT', `/api/v1/services/${path}/instances/${hostname}/8080`, body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

/** A user holding `role` on `nodePath` (or nothing, when role is null); returns a bearer token. */
export async function userWith(s: TestServer, username: string, role: string | null, nodePath: string): Promise<string> {
  const password = 'password-123';
  const u = await s.call('POST', '/api/v1/users', { username, password });
  assert.equal(u.status, 201, JSON.stringify(u.body));
  if (role) {
    const g = await s.call('POST', '/api/v1/grants', { user: username, role, nodePath });
    assert.equal(g.status, 201, JSON.stringify(g.body));
  }
  return s.login(username, password);
}

/** Instances of an answer as `hostname:health` strings, in answer order. */
export function hosts(answer: { instances: { hostname: string }[] }): string[] {
  return answer.instances.map((i) => i.hostname);
}
