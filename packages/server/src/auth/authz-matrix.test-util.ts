/**
 * The authorization matrix: one entry per write route (method + pattern, as Fastify registered it).
 * Each entry says who may call the route and builds a request against fresh fixtures, so
 * authz-matrix.test.ts can call it as a viewer, an outsider, anonymous, and as the holder of the
 * least built-in role that allows it, inside and outside the holder's subtree. A route without an
 * entry fails that test: add one here when you add a write route.
 */
import assert from 'node:assert/strict';
import type { TestServer } from '../testing/index.ts';
import { findProgram } from '../nginx/nginx-binary.ts';
import { findKeepalived } from '../lvs/keepalived-binary.ts';

/** Programs an apply runs, when installed; fixtures publish configs only where they can. */
export const PROGRAMS = { nginx: findProgram('nginx') !== null, keepalived: findKeepalived() !== null };

export interface Call {
  method: string;
  url: string;
  body?: unknown;
}

/** Admin-side builders of fresh, uniquely named fixtures under a scope (a subtree root path). */
export interface Fixture {
  admin(method: string, url: string, body?: unknown): Promise<any>;
  uid(prefix: string): string;
  node(scope: string): Promise<string>;
  machine(node: string): Promise<string>;
  service(scope: string): Promise<string>;
  instance(scope: string): Promise<{ path: string; host: string }>;
  /** A new domain, owned by `owner` when given (else unowned: superusers only route from it). */
  domain(owner?: string): Promise<string>;
  vip(): string;
  /** A new job over a fresh node's one machine (no agent: it stays running); returns its id. */
  job(scope: string): Promise<number>;
  nginxCluster(scope: string, apply: boolean): Promise<string>;
  lvsCluster(scope: string, apply: boolean): Promise<string>;
}

type Prepare = (fx: Fixture, scope: string) => Promise<Call>;

export type Entry =
  /** Needs an operation on the node(s) the call names: `holder` is the least built-in role with it. */
  | {
      kind: 'node';
      holder: 'ops' | 'admin';
      success: 'ok' | 'authorized';
      /** Outside its subtree the holder gets a 200 report refusing every row (bulk import), not a 403. */
      outside?: 'report';
      /** The program the holder's successful call runs; without it only the refusals are checked. */
      needs?: 'nginx' | 'keepalived';
      prepare: Prepare;
    }
  /** Needs the operation on some node, whichever: refused to viewers and outsiders, allowed to `holder`. */
  | { kind: 'anywhere'; holder: 'ops'; success: 'authorized'; prepare: Prepare }
  /** Superusers only, or only the owner of the resource (another user's token). */
  | { kind: 'restricted'; who: 'superuser' | 'owner'; prepare: Prepare }
  /** A POST that computes and writes nothing: allowed to readers, refused to outsiders. */
  | { kind: 'readonly'; prepare: Prepare }
  /** Acts only on the caller's own account (checked by the self-service test). */
  | { kind: 'self'; why: string }
  | { kind: 'public'; why: string };

const admin = (method: string, url: string, body?: unknown): Call => ({ method, url, ...(body === undefined ? {} : { body }) });

/** Build the fixture helpers over a server. */
export function createFixture(s: TestServer): Fixture {
  let n = 0;
  const fx: Fixture = {
    async admin(method, url, body) {
      const r = await s.call(method, url, body);
      assert.ok(r.status >= 200 && r.status < 300, `fixture ${method} ${url} → ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    uid: (prefix) => `${prefix}${++n}`,
    async job(scope) {
      const node = await fx.node(scope);
      await fx.machine(node);
      return (await fx.admin('POST', '/api/v1/jobs', { target: { under: node }, command: 'true' })).id as number;
    },
    async node(scope) {
      const name = fx.uid('n');
      await fx.admin('POST', '/api/v1/nodes', { parentPath: scope, name });
      return `${scope}.${name}`;
    },
    async machine(node) {
      const hostname = `${fx.uid('m')}.mx.example`;
      const k = ++n;
      await fx.admin('POST', '/api/v1/machines', { hostname, ips: [`10.78.${k >> 8}.${k & 255}`], status: 'online', nodes: [node] });
      return hostname;
    },
    async service(scope) {
      const path = await fx.node(scope);
      await fx.admin('PUT', `/api/v1/services/${path}`, { ports: [{ name: 'http', port: 8080 }] });
      return path;
    },
    async instance(scope) {
      const path = await fx.service(scope);
      return { path, host: await fx.machine(path) };
    },
    async domain(owner) {
      const d = `${fx.uid('d')}.mx.example.com`;
      await fx.admin('PUT', `/api/v1/domains/${d}`, { ports: [{ port: 8080 }], ...(owner ? { owner } : {}) });
      return d;
    },
    vip() {
      const k = ++n;
      return `10.77.${k >> 8}.${k & 255}`;
    },
    async nginxCluster(scope, apply) {
      const path = await fx.node(scope);
      await fx.admin('PUT', `/api/v1/nginx/clusters/${path}`, { domains: [await fx.domain()] });
      if (apply && PROGRAMS.nginx) await fx.admin('POST', `/api/v1/nginx/clusters/${path}/apply`, { reason: 'matrix fixture' });
      return path;
    },
    async lvsCluster(scope, apply) {
      const svc = await fx.node(scope);
      await fx.admin('PUT', `/api/v1/nodes/${svc}/lvs`, { virtualServices: [{ vip: fx.vip(), port: 80 }] });
      const path = await fx.node(scope);
      await fx.admin('PUT', `/api/v1/lvs/clusters/${path}`, { services: [svc] });
      if (apply && PROGRAMS.keepalived) await fx.admin('POST', `/api/v1/lvs/clusters/${path}/apply`, { reason: 'matrix fixture' });
      return path;
    },
  };
  return fx;
}

const node = (holder: 'ops' | 'admin', prepare: Prepare, success: 'ok' | 'authorized' = 'ok') => ({ kind: 'node' as const, holder, success, prepare });
const superuser = (prepare: Prepare): Entry => ({ kind: 'restricted', who: 'superuser', prepare });

/** Every write route, keyed `METHOD /api/v1/pattern`. */
export const MATRIX: Record<string, Entry> = {
  // Tree.
  'POST /api/v1/nodes': node('ops', async (fx, scope) => admin('POST', '/api/v1/nodes', { parentPath: await fx.node(scope), name: fx.uid('k') })),
  'PATCH /api/v1/nodes/:path': node('ops', async (fx, scope) => admin('PATCH', `/api/v1/nodes/${await fx.node(scope)}`, { description: 'changed' })),
  'DELETE /api/v1/nodes/:path': node('ops', async (fx, scope) => admin('DELETE', `/api/v1/nodes/${await fx.node(scope)}`)),
  'POST /api/v1/nodes/:path/move': node('ops', async (fx, scope) => admin('POST', `/api/v1/nodes/${await fx.node(scope)}/move`, { parentPath: await fx.node(scope) })),
  'POST /api/v1/trash/:id/restore': superuser(async (fx, scope) => {
    const path = await fx.node(scope);
    await fx.admin('DELETE', `/api/v1/nodes/${path}`);
    const trash = await fx.admin('GET', '/api/v1/trash');
    return admin('POST', `/api/v1/trash/${trash.items.find((t: { path: string }) => t.path === path).id}/restore`);
  }),

  // Machines.
  'POST /api/v1/machines': node('ops', async (fx, scope) => admin('POST', '/api/v1/machines', { hostname: `${fx.uid('new')}.mx.example`, nodes: [await fx.node(scope)] })),
  'POST /api/v1/machines/import': {
    ...node('ops', async (fx, scope) => admin('POST', '/api/v1/machines/import', [{ hostname: `${fx.uid('imp')}.mx.example`, nodes: [await fx.node(scope)] }])),
    outside: 'report',
  },
  'PATCH /api/v1/machines/:hostname': node('ops', async (fx, scope) => admin('PATCH', `/api/v1/machines/${await fx.machine(await fx.node(scope))}`, { os: 'changed' })),
  'POST /api/v1/machines/:hostname/credentials': node('ops', async (fx, scope) => admin('POST', `/api/v1/machines/${await fx.machine(await fx.node(scope))}/credentials`, { name: fx.uid('cred') })),
  'DELETE /api/v1/machines/:hostname/credentials/:id': node('ops', async (fx, scope) => {
    const host = await fx.machine(await fx.node(scope));
    const c = await fx.admin('POST', `/api/v1/machines/${host}/credentials`, { name: fx.uid('cred') });
    return { method: 'DELETE', url: `/api/v1/machines/${host}/credentials/${c.id}` };
  }),
  'POST /api/v1/jobs': node('ops', async (fx, scope) => {
    const n = await fx.node(scope);
    await fx.machine(n);
    return admin('POST', '/api/v1/jobs', { target: { under: n }, command: 'true' });
  }),
  'POST /api/v1/jobs/:id/pause': node('ops', async (fx, scope) => admin('POST', `/api/v1/jobs/${await fx.job(scope)}/pause`)),
  'POST /api/v1/jobs/:id/resume': node('ops', async (fx, scope) => {
    const id = await fx.job(scope);
    await fx.admin('POST', `/api/v1/jobs/${id}/pause`);
    return admin('POST', `/api/v1/jobs/${id}/resume`);
  }),
  'POST /api/v1/jobs/:id/stop': node('ops', async (fx, scope) => admin('POST', `/api/v1/jobs/${await fx.job(scope)}/stop`)),
  // No host failed (no agent runs it): the holder gets a 409, which still proves it was let through.
  'POST /api/v1/jobs/:id/skip': node('ops', async (fx, scope) => {
    const id = await fx.job(scope);
    const d = await fx.admin('GET', `/api/v1/jobs/${id}`);
    return admin('POST', `/api/v1/jobs/${id}/skip`, { hosts: [d.hosts[0].hostname] });
  }),
  'POST /api/v1/jobs/:id/retry': node('ops', async (fx, scope) => admin('POST', `/api/v1/jobs/${await fx.job(scope)}/retry`), 'authorized'),
  'PUT /api/v1/nodes/:path/collect-rules': node('ops', async (fx, scope) => admin('PUT', `/api/v1/nodes/${await fx.node(scope)}/collect-rules`, { rules: [{ name: 'ssh', kind: 'port', port: 22 }] })),
  'PUT /api/v1/nodes/:path/init-command': node('ops', async (fx, scope) => admin('PUT', `/api/v1/nodes/${await fx.node(scope)}/init-command`, { argv: ['/bin/true'] })),
  'DELETE /api/v1/nodes/:path/init-command': node('ops', async (fx, scope) => {
    const path = await fx.node(scope);
    await fx.admin('PUT', `/api/v1/nodes/${path}/init-command`, { argv: ['/bin/true'] });
    return admin('DELETE', `/api/v1/nodes/${path}/init-command`);
  }),
  'POST /api/v1/machines/:hostname/retire': node('ops', async (fx, scope) => admin('POST', `/api/v1/machines/${await fx.machine(await fx.node(scope))}/retire`)),
  'PUT /api/v1/nodes/:path/machines/:hostname': node('ops', async (fx, scope) => admin('PUT', `/api/v1/nodes/${await fx.node(scope)}/machines/${await fx.machine(await fx.node(scope))}`)),
  'DELETE /api/v1/nodes/:path/machines/:hostname': node('ops', async (fx, scope) => {
    const path = await fx.node(scope);
    return admin('DELETE', `/api/v1/nodes/${path}/machines/${await fx.machine(path)}`);
  }),
  'POST /api/v1/provisioning': node('ops', async (fx, scope) => admin('POST', '/api/v1/provisioning', { hostname: `${fx.uid('prov')}.mx.example`, nodePath: await fx.node(scope) })),
  'DELETE /api/v1/provisioning/:id': node('ops', async (fx, scope) => {
    const made = await fx.admin('POST', '/api/v1/provisioning', { hostname: `${fx.uid('prov')}.mx.example`, nodePath: await fx.node(scope) });
    return admin('DELETE', `/api/v1/provisioning/${made.id}`);
  }),

  // Accounts and permissions.
  'POST /api/v1/users': superuser(async (fx) => admin('POST', '/api/v1/users', { username: fx.uid('u'), password: 'password-123' })),
  'PATCH /api/v1/users/:username': superuser(async () => admin('PATCH', '/api/v1/users/mx-victim', { displayName: 'changed by someone else' })),
  'POST /api/v1/groups': superuser(async (fx) => admin('POST', '/api/v1/groups', { name: fx.uid('g') })),
  'PUT /api/v1/groups/:name/members': superuser(async (fx) => {
    const name = fx.uid('g');
    await fx.admin('POST', '/api/v1/groups', { name });
    return admin('PUT', `/api/v1/groups/${name}/members`, { members: ['mx-victim'] });
  }),
  'POST /api/v1/roles': superuser(async (fx) => admin('POST', '/api/v1/roles', { name: fx.uid('r'), operations: ['tree.read'] })),
  'PATCH /api/v1/roles/:name': superuser(async (fx) => {
    const name = fx.uid('r');
    await fx.admin('POST', '/api/v1/roles', { name, operations: ['tree.read'] });
    return admin('PATCH', `/api/v1/roles/${name}`, { operations: ['tree.read', 'tree.write'] });
  }),
  'DELETE /api/v1/roles/:name': superuser(async (fx) => {
    const name = fx.uid('r');
    await fx.admin('POST', '/api/v1/roles', { name, operations: ['tree.read'] });
    return admin('DELETE', `/api/v1/roles/${name}?force=true`);
  }),
  'DELETE /api/v1/users/:username': superuser(async (fx) => {
    const username = fx.uid('u');
    await fx.admin('POST', '/api/v1/users', { username, password: 'password-123' });
    return admin('DELETE', `/api/v1/users/${username}`);
  }),
  'DELETE /api/v1/groups/:name': superuser(async (fx) => {
    const name = fx.uid('g');
    await fx.admin('POST', '/api/v1/groups', { name, members: ['mx-victim'] });
    return admin('DELETE', `/api/v1/groups/${name}?force=true`);
  }),
  'POST /api/v1/grants': node('admin', async (fx, scope) => admin('POST', '/api/v1/grants', { user: 'mx-victim', role: 'viewer', nodePath: await fx.node(scope) })),
  'DELETE /api/v1/grants/:id': node('admin', async (fx, scope) => {
    const g = await fx.admin('POST', '/api/v1/grants', { user: 'mx-victim', role: 'viewer', nodePath: await fx.node(scope) });
    return admin('DELETE', `/api/v1/grants/${g.id}`);
  }),
  'DELETE /api/v1/tokens/:id': { kind: 'restricted', who: 'owner', prepare: async (fx) => admin('DELETE', `/api/v1/tokens/${(await fx.admin('POST', '/api/v1/tokens', { name: fx.uid('t') })).id}`) },
  'POST /api/v1/tokens': { kind: 'self', why: 'creates a token for the caller only' },
  'POST /api/v1/auth/logout': { kind: 'self', why: "ends the caller's own session only" },
  'POST /api/v1/auth/login': { kind: 'public', why: 'how one gets credentials at all' },
  'POST /api/v1/agent/enroll': { kind: 'public', why: 'the single-use enrollment token in the body is the authority (a new machine has no credential yet)' },

  // Puppet ENC.
  'PUT /api/v1/puppet/classes': superuser(async () => admin('PUT', '/api/v1/puppet/classes', ['base'])),
  'PUT /api/v1/puppet/defaults': superuser(async () => admin('PUT', '/api/v1/puppet/defaults', { classes: { base: {} } })),
  'POST /api/v1/puppet/classes/refresh': { kind: 'anywhere', holder: 'ops', success: 'authorized', prepare: async () => admin('POST', '/api/v1/puppet/classes/refresh') },
  'PUT /api/v1/nodes/:path/puppet': node('ops', async (fx, scope) => admin('PUT', `/api/v1/nodes/${await fx.node(scope)}/puppet`, { classes: { base: {} } })),
  'DELETE /api/v1/nodes/:path/puppet': node('ops', async (fx, scope) => {
    const path = await fx.node(scope);
    await fx.admin('PUT', `/api/v1/nodes/${path}/puppet`, { classes: { base: {} } });
    return admin('DELETE', `/api/v1/nodes/${path}/puppet`);
  }),

  // Service discovery.
  'PUT /api/v1/services/:path': node('ops', async (fx, scope) => admin('PUT', `/api/v1/services/${await fx.node(scope)}`, { ports: [{ name: 'http', port: 8080 }] })),
  'DELETE /api/v1/services/:path': node('ops', async (fx, scope) => admin('DELETE', `/api/v1/services/${await fx.service(scope)}`)),
  'PUT /api/v1/services/:path/dependencies': node('ops', async (fx, scope) => admin('PUT', `/api/v1/services/${await fx.service(scope)}/dependencies`, { services: [await fx.service(scope)] })),
  'PUT /api/v1/services/:path/instances/:hostname/:port': node('ops', async (fx, scope) => {
    const { path, host } = await fx.instance(scope);
    return admin('PUT', `/api/v1/services/${path}/instances/${host}/8080`, { ttlSeconds: null });
  }),
  'DELETE /api/v1/services/:path/instances/:hostname/:port': node('ops', async (fx, scope) => {
    const { path, host } = await fx.instance(scope);
    await fx.admin('PUT', `/api/v1/services/${path}/instances/${host}/8080`, { ttlSeconds: null });
    return admin('DELETE', `/api/v1/services/${path}/instances/${host}/8080`);
  }),
  'PUT /api/v1/services/:path/instances/:hostname/:port/heartbeat': node('ops', async (fx, scope) => {
    const { path, host } = await fx.instance(scope);
    await fx.admin('PUT', `/api/v1/services/${path}/instances/${host}/8080`, { ttlSeconds: null });
    return admin('PUT', `/api/v1/services/${path}/instances/${host}/8080/heartbeat`, { status: 'pass' });
  }),
  'PUT /api/v1/aliases/:path': node('ops', async (fx, scope) => admin('PUT', `/api/v1/aliases/${scope}.${fx.uid('al')}`, { target: await fx.service(scope) })),
  'DELETE /api/v1/aliases/:path': node('ops', async (fx, scope) => {
    const path = `${scope}.${fx.uid('al')}`;
    await fx.admin('PUT', `/api/v1/aliases/${path}`, { target: await fx.service(scope) });
    return admin('DELETE', `/api/v1/aliases/${path}`);
  }),

  // Nginx: a domain's ports and certificate belong to its owner or to whoever runs every cluster
  // serving it; deleting and delegating need the owner; attaching a URI needs the owner (or a delegation).
  'PUT /api/v1/domains/:domain': node('ops', async (fx, scope) => {
    const path = await fx.nginxCluster(scope, false);
    const domain = (await fx.admin('GET', `/api/v1/nginx/clusters/${path}`)).domains[0];
    return admin('PUT', `/api/v1/domains/${domain}`, { ports: [{ port: 8081 }] });
  }),
  'DELETE /api/v1/domains/:domain': node('ops', async (fx, scope) => admin('DELETE', `/api/v1/domains/${await fx.domain(scope)}`)),
  'POST /api/v1/domains/:domain/delegations': node('ops', async (fx, scope) => admin('POST', `/api/v1/domains/${await fx.domain(scope)}/delegations`, { uriPrefix: '/d/', node: await fx.node(scope) })),
  'DELETE /api/v1/domains/:domain/delegations/:id': node('ops', async (fx, scope) => {
    const d = await fx.domain(scope);
    const { id } = await fx.admin('POST', `/api/v1/domains/${d}/delegations`, { uriPrefix: '/d/', node: await fx.node(scope) });
    return admin('DELETE', `/api/v1/domains/${d}/delegations/${id}`);
  }),
  'PUT /api/v1/nodes/:path/nginx': node('ops', async (fx, scope) => admin('PUT', `/api/v1/nodes/${await fx.node(scope)}/nginx`, { domainUris: [{ domain: await fx.domain(scope), uri: '/' }], port: 8080 })),
  'DELETE /api/v1/nodes/:path/nginx': node('ops', async (fx, scope) => {
    const path = await fx.node(scope);
    await fx.admin('PUT', `/api/v1/nodes/${path}/nginx`, { domainUris: [{ domain: await fx.domain(), uri: '/' }], port: 8080 });
    return admin('DELETE', `/api/v1/nodes/${path}/nginx`);
  }),
  'PUT /api/v1/nginx/clusters/:path': node('ops', async (fx, scope) => admin('PUT', `/api/v1/nginx/clusters/${await fx.node(scope)}`, { domains: [await fx.domain()] })),
  'POST /api/v1/nginx/clusters/:path/plan': { kind: 'readonly', prepare: async (fx, scope) => admin('POST', `/api/v1/nginx/clusters/${await fx.nginxCluster(scope, false)}/plan`) },
  'POST /api/v1/nginx/clusters/:path/apply': { ...node('ops', async (fx, scope) => admin('POST', `/api/v1/nginx/clusters/${await fx.nginxCluster(scope, false)}/apply`, { reason: 'matrix' }), 'authorized'), needs: 'nginx' },
  'POST /api/v1/nginx/clusters/:path/rollback': { ...node('ops', async (fx, scope) => admin('POST', `/api/v1/nginx/clusters/${await fx.nginxCluster(scope, true)}/rollback`, { version: 1 }), 'authorized'), needs: 'nginx' },

  // LVS.
  'PUT /api/v1/nodes/:path/lvs': node('ops', async (fx, scope) => admin('PUT', `/api/v1/nodes/${await fx.node(scope)}/lvs`, { virtualServices: [{ vip: fx.vip(), port: 80 }] })),
  'DELETE /api/v1/nodes/:path/lvs': node('ops', async (fx, scope) => {
    const path = await fx.node(scope);
    await fx.admin('PUT', `/api/v1/nodes/${path}/lvs`, { virtualServices: [{ vip: fx.vip(), port: 80 }] });
    return admin('DELETE', `/api/v1/nodes/${path}/lvs`);
  }),
  'PUT /api/v1/lvs/clusters/:path': node('ops', async (fx, scope) => {
    const svc = await fx.node(scope);
    await fx.admin('PUT', `/api/v1/nodes/${svc}/lvs`, { virtualServices: [{ vip: fx.vip(), port: 80 }] });
    return admin('PUT', `/api/v1/lvs/clusters/${await fx.node(scope)}`, { services: [svc] });
  }),
  'POST /api/v1/lvs/clusters/:path/plan': { kind: 'readonly', prepare: async (fx, scope) => admin('POST', `/api/v1/lvs/clusters/${await fx.lvsCluster(scope, false)}/plan`) },
  'POST /api/v1/lvs/clusters/:path/apply': { ...node('ops', async (fx, scope) => admin('POST', `/api/v1/lvs/clusters/${await fx.lvsCluster(scope, false)}/apply`, { reason: 'matrix' }), 'authorized'), needs: 'keepalived' },
  'POST /api/v1/lvs/clusters/:path/rollback': { ...node('ops', async (fx, scope) => admin('POST', `/api/v1/lvs/clusters/${await fx.lvsCluster(scope, true)}/rollback`, { version: 1 }), 'authorized'), needs: 'keepalived' },

  // SSH access (ssh/): settings and break-glass keys decide who gets in, so they need grant.write.
  'PUT /api/v1/nodes/:path/ssh/settings': node('admin', async (fx, scope) => admin('PUT', `/api/v1/nodes/${await fx.node(scope)}/ssh/settings`, { cacheSeconds: 3600 })),
  'POST /api/v1/nodes/:path/ssh/break-glass': node('admin', async (fx, scope) => admin('POST', `/api/v1/nodes/${await fx.node(scope)}/ssh/break-glass`)),
  'DELETE /api/v1/nodes/:path/ssh/break-glass/:id': node('admin', async (fx, scope) => {
    const path = await fx.node(scope);
    const k = await fx.admin('POST', `/api/v1/nodes/${path}/ssh/break-glass`);
    return admin('DELETE', `/api/v1/nodes/${path}/ssh/break-glass/${k.id}`);
  }),
  'POST /api/v1/ssh/certificates': { kind: 'self', why: "signs one of the caller's own keys, for the caller" },
  'DELETE /api/v1/ssh/certificates/:serial': {
    kind: 'restricted',
    who: 'owner',
    prepare: async (fx) => {
      const c = await fx.admin('POST', '/api/v1/ssh/certificates', { publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIdk3P7S9B6N+L7Zs8z+wVHewErSywaRPhR0l/poVsHJ' });
      return admin('DELETE', `/api/v1/ssh/certificates/${c.serial}`);
    },
  },

  // Artifacts (artifacts/): pushing, removing and pruning versions need artifact.write on the service.
  'PUT /api/v1/artifacts/:path/:version': node('ops', async (fx, scope) => admin('PUT', `/api/v1/artifacts/${await fx.node(scope)}/1.0.0`, 'matrix artifact bytes')),
  'DELETE /api/v1/artifacts/:path/:version': node('ops', async (fx, scope) => {
    const path = await fx.node(scope);
    await fx.admin('PUT', `/api/v1/artifacts/${path}/1.0.0`, 'matrix artifact bytes');
    return admin('DELETE', `/api/v1/artifacts/${path}/1.0.0`);
  }),
  'POST /api/v1/artifacts/:path/prune': node('ops', async (fx, scope) => admin('POST', `/api/v1/artifacts/${await fx.node(scope)}/prune`)),

  // Availability (availability/): a service's SLO and ejection settings need availability.write on it.
  'PUT /api/v1/monitor/availability/services/:path/settings': node('ops', async (fx, scope) => admin('PUT', `/api/v1/monitor/availability/services/${await fx.node(scope)}/settings`, { slo: { target: 0.999 } })),
  'DELETE /api/v1/monitor/availability/services/:path/settings': node('ops', async (fx, scope) => {
    const path = await fx.node(scope);
    await fx.admin('PUT', `/api/v1/monitor/availability/services/${path}/settings`, { slo: { target: 0.999 } });
    return admin('DELETE', `/api/v1/monitor/availability/services/${path}/settings`);
  }),

  // Supervised processes (processes/): a declaration as a non-root user needs deploy.run.
  'PUT /api/v1/nodes/:path/process': node('ops', async (fx, scope) => admin('PUT', `/api/v1/nodes/${await fx.node(scope)}/process`, { argv: ['/bin/true'], user: 'nobody' }), 'authorized'),
  'DELETE /api/v1/nodes/:path/process': node('ops', async (fx, scope) => {
    const path = await fx.node(scope);
    await fx.admin('PUT', `/api/v1/nodes/${path}/process`, { argv: ['/bin/true'], user: 'nobody' });
    return admin('DELETE', `/api/v1/nodes/${path}/process`);
  }, 'authorized'),
  'POST /api/v1/nodes/:path/processes/:action': node('ops', async (fx, scope) => {
    const path = await fx.node(scope);
    await fx.admin('PUT', `/api/v1/nodes/${path}/process`, { argv: ['/bin/true'], user: 'nobody' });
    return admin('POST', `/api/v1/nodes/${path}/processes/restart`);
  }, 'authorized'),

  // Deployments (deploy/): a node with a process and an artifact, no machines (it finishes at once).
  'POST /api/v1/deployments': node('ops', async (fx, scope) => {
    const path = await fx.node(scope);
    await fx.admin('PUT', `/api/v1/nodes/${path}/process`, { argv: ['/bin/true'], user: 'nobody' });
    await fx.admin('PUT', `/api/v1/artifacts/${path}/1.0.0`, 'matrix artifact bytes');
    return admin('POST', '/api/v1/deployments', { nodePath: path, version: '1.0.0' });
  }, 'authorized'),
  'POST /api/v1/deployments/:id/:action': node('ops', async (fx, scope) => {
    const path = await fx.node(scope);
    await fx.admin('PUT', `/api/v1/nodes/${path}/process`, { argv: ['/bin/true'], user: 'nobody' });
    await fx.admin('PUT', `/api/v1/artifacts/${path}/1.0.0`, 'matrix artifact bytes');
    const d = (await fx.admin('POST', '/api/v1/deployments', { nodePath: path, version: '1.0.0' })) as { id: number };
    return admin('POST', `/api/v1/deployments/${d.id}/stop`);
  }, 'authorized'),
  'PUT /api/v1/nodes/:path/deploy-policy': node('ops', async (fx, scope) => admin('PUT', `/api/v1/nodes/${await fx.node(scope)}/deploy-policy`, { requireApproval: false })),
  // Builds (builds/): the pool setting and builds; the upload is the building machine's own.
  'PUT /api/v1/nodes/:path/build-settings': node('ops', async (fx, scope) => admin('PUT', `/api/v1/nodes/${await fx.node(scope)}/build-settings`, { maxPerMachine: 2 }), 'authorized'),
  'POST /api/v1/builds': node('ops', async (fx, scope) => admin('POST', '/api/v1/builds', { nodePath: await fx.node(scope), repo: 'https://git.example.com/corp/app.git', ref: 'main', command: 'make', outputPath: 'dist' }), 'authorized'),
  // Refusals checked in builds.test.ts. Here a build left queued in a pool with no connected agent
  // gets its waiting reason rewritten on later machine changes, which the "nothing changes" checks see.
  'POST /api/v1/builds/:id/cancel': { kind: 'self', why: 'refusals covered in builds.test.ts (see the comment above)' },
  'PUT /api/v1/builds/:id/artifact': { kind: 'self', why: 'only the machine running that build, with its own credential (builds.test.ts)' },

  // Cron (cron/): entries on a node.
  'PUT /api/v1/nodes/:path/cron/:name': node('ops', async (fx, scope) => admin('PUT', `/api/v1/nodes/${await fx.node(scope)}/cron/rotate`, { schedule: '0 * * * *', argv: ['/bin/true'], user: 'nobody' }), 'authorized'),
  'DELETE /api/v1/nodes/:path/cron/:name': node('ops', async (fx, scope) => {
    const path = await fx.node(scope);
    await fx.admin('PUT', `/api/v1/nodes/${path}/cron/rotate`, { schedule: '0 * * * *', argv: ['/bin/true'], user: 'nobody' });
    return admin('DELETE', `/api/v1/nodes/${path}/cron/rotate`);
  }, 'authorized'),

  // Alerts (alerts/): rules, receivers, silences and acks need monitor.write.
  'PUT /api/v1/nodes/:path/alert-rules/:name': node('ops', async (fx, scope) => admin('PUT', `/api/v1/nodes/${await fx.node(scope)}/alert-rules/load`, { conditions: [{ metric: 'node_load1', fn: 'avg(#3)', op: '>', threshold: 8 }] }), 'authorized'),
  'DELETE /api/v1/nodes/:path/alert-rules/:name': node('ops', async (fx, scope) => {
    const path = await fx.node(scope);
    await fx.admin('PUT', `/api/v1/nodes/${path}/alert-rules/load`, { conditions: [{ metric: 'node_load1', fn: 'avg(#3)', op: '>', threshold: 8 }] });
    return admin('DELETE', `/api/v1/nodes/${path}/alert-rules/load`);
  }, 'authorized'),
  'PUT /api/v1/nodes/:path/alert-receivers/:name': node('ops', async (fx, scope) => admin('PUT', `/api/v1/nodes/${await fx.node(scope)}/alert-receivers/hook`, { format: 'json', url: 'http://127.0.0.1:9/hook' }), 'authorized'),
  'DELETE /api/v1/nodes/:path/alert-receivers/:name': node('ops', async (fx, scope) => {
    const path = await fx.node(scope);
    await fx.admin('PUT', `/api/v1/nodes/${path}/alert-receivers/hook`, { format: 'json', url: 'http://127.0.0.1:9/hook' });
    return admin('DELETE', `/api/v1/nodes/${path}/alert-receivers/hook`);
  }, 'authorized'),
  'POST /api/v1/monitor/silences': node('ops', async (fx, scope) => admin('POST', '/api/v1/monitor/silences', { node: await fx.node(scope), endsAt: new Date(Date.now() + 3_600_000).toISOString(), comment: 'matrix' }), 'authorized'),
  'DELETE /api/v1/monitor/silences/:id': node('ops', async (fx, scope) => {
    const sil = await fx.admin('POST', '/api/v1/monitor/silences', { node: await fx.node(scope), endsAt: new Date(Date.now() + 3_600_000).toISOString(), comment: 'matrix' });
    return admin('DELETE', `/api/v1/monitor/silences/${sil.id}`);
  }, 'authorized'),
  'POST /api/v1/monitor/alerts/:id/ack': { kind: 'self', why: 'an alert exists only once a rule fired; acks are checked per node in alerts.test.ts' },
  'POST /api/v1/monitor/alertmanager': { kind: 'self', why: 'Alertmanager authenticates with its own webhook token, not a grant (alerts-prometheus.test.ts)' },
};
