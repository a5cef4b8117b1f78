/** A whole Canopy server over a test database, driven with `app.inject()`; shared per test file. */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Database } from '../db/connection.ts';
import { buildApp, type AppOptions } from '../http/app.ts';
import { createServices, type ServiceOptions, type Services } from '../services.ts';
import type { TestBackend } from './db.ts';

export const ADMIN_PASSWORD = 'admin-password-1';

export interface TestServer {
  backend: TestBackend['name'];
  database: Database;
  services: Services;
  app: FastifyInstance;
  adminToken: string;
  /** Call the API as `token` (default: admin); JSON in, parsed JSON out. */
  call(method: string, url: string, body?: unknown, opts?: { token?: string | null; headers?: Record<string, string> }): Promise<Reply>;
  /** Log in as a user and return their bearer token. */
  login(username: string, password: string): Promise<string>;
  close(): Promise<void>;
}

export interface Reply {
  status: number;
  body: any;
  headers: LightMyRequestResponse['headers'];
}

/** Start services (with `opts`, if given) and the app (with `appOpts`: HTTPS) over a fresh database from `backend`. */
export async function startTestServer(backend: TestBackend, opts: ServiceOptions = {}, appOpts: Pick<AppOptions, 'https'> = {}): Promise<TestServer> {
  const database = await backend.open();
  const services = createServices(database, { onError: (err) => console.error(err), ...opts });
  await services.start();
  await services.auth.bootstrap(ADMIN_PASSWORD);
  const app = await buildApp(services, { logLevel: 'silent', ...appOpts });
  await app.ready();

  async function call(method: string, url: string, body?: unknown, opts: { token?: string | null; headers?: Record<string, string> } = {}): Promise<Reply> {
    const token = opts.token === undefined ? server.adminToken : opts.token;
    const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...opts.headers };
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    if (body !== undefined && typeof body !== 'string') headers['content-type'] ??= 'application/json';
    const res = await app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload } : {}) });
    let parsed: unknown = res.body;
    try {
      parsed = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      // Not JSON (YAML, text): leave as text.
    }
    return { status: res.statusCode, body: parsed, headers: res.headers };
  }

  async function login(username: string, password: string): Promise<string> {
    const res = await call('POST', '/api/v1/auth/login', { username, password }, { token: null });
    if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.token as string;
  }

  const server: TestServer = {
    backend: backend.name,
    database,
    services,
    app,
    adminToken: '',
    call,
    login,
    async close() {
      await app.close();
      await services.stop();
      await database.close();
    },
  };
  server.adminToken = await login('admin', ADMIN_PASSWORD);
  return server;
}
