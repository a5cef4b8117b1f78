/**
 * Shared by the console's browser tests: build the console (once per output dir, when a source is
 * newer), start a real Canopy over a PGlite test database serving it on a loopback port, and drive
 * it with headless Chromium. Each test file uses its own output dir, so no test reads a build that
 * another is rewriting.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, globSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import type { Database } from '../../server/src/db/connection.ts';
import { buildApp } from '../../server/src/http/app.ts';
import { createServices, type Services } from '../../server/src/services.ts';
import { ADMIN_PASSWORD, testBackends } from '../../server/src/testing/index.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const ROOT = join(import.meta.dirname, '../../..');
const WEB = join(ROOT, 'packages/web');

/** The skip reason when Chromium is absent (false when present). */
export const chromiumMissing: string | false = existsSync(CHROMIUM) ? false : `SKIPPED: ${CHROMIUM} not installed (apt-get install chromium)`;

/** Build the console into `outDir` when it is missing or older than a source file. */
export function ensureBuilt(outDir: string): void {
  const index = join(outDir, 'index.html');
  const sources = globSync('src/**/*.{ts,tsx}', { cwd: WEB }).filter((f) => !f.endsWith('.test.ts'));
  const newest = Math.max(...[...sources, 'index.html', 'vite.config.ts'].map((f) => statSync(join(WEB, f)).mtimeMs));
  if (existsSync(index) && statSync(index).mtimeMs >= newest) return;
  const bin = join(ROOT, 'node_modules/.bin');
  const res = spawnSync('npm', ['run', 'build', '-w', '@canopy/web', '--silent', '--', '--outDir', outDir, '--emptyOutDir'], {
    cwd: ROOT,
    env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` },
    encoding: 'utf8',
  });
  if (res.status !== 0) throw new Error(`console build failed:\n${res.stdout}\n${res.stderr}`);
}

export interface ConsoleE2E {
  database: Database;
  services: Services;
  app: FastifyInstance;
  /** `http://127.0.0.1:PORT` of the running console. */
  base: string;
  /** An admin session token, for API calls made behind the page's back. */
  token: string;
  browser: Browser;
  page: Page;
  /** JavaScript errors the page raised; a test asserts this stays empty. */
  pageErrors: string[];
  /** Click a dialog's submit button and wait for it to close; if it shows an error instead, fail with that text. */
  submit(dialog: Locator, button: string): Promise<void>;
  /** Call `/api/v1{url}` as admin; insists on 2xx; answers parsed JSON (or text). */
  call(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, contentType?: string): Promise<any>;
  close(): Promise<void>;
}

/** Start everything a browser test needs; close it in `after()`. */
export async function startConsoleE2E(outDir: string, viewport = { width: 1400, height: 900 }): Promise<ConsoleE2E> {
  ensureBuilt(outDir);
  const backend = testBackends()[0];
  if (!backend) throw new Error('no test backend');
  const database = await backend.open();
  const services = createServices(database, { onError: (err) => console.error(err) });
  await services.start();
  await services.auth.bootstrap(ADMIN_PASSWORD);
  const app = await buildApp(services, { logLevel: 'silent', webDir: outDir });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin', password: ADMIN_PASSWORD } });
  const token = (login.json() as { token: string }).token;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport });
  // Generous: CI runs two test files at once on two cores, next to nginx, keepalived and Puppet.
  page.setDefaultTimeout(30_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  return {
    database,
    services,
    app,
    base,
    token,
    browser,
    page,
    pageErrors,
    async call(method, url, body, contentType) {
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...(contentType ? { 'content-type': contentType } : {}) };
      const res = await app.inject({ method, url: `/api/v1${url}`, headers, ...(body === undefined ? {} : { payload: body as object }) });
      assert.ok(res.statusCode < 300, `${method} ${url}: ${res.statusCode} ${res.body}`);
      if (!res.body) return undefined;
      return res.headers['content-type']?.includes('json') ? JSON.parse(res.body) : res.body;
    },
    async submit(dialog, button) {
      // A click that lands while the dialog still zooms in can miss its button on a loaded machine
      // (a frame-starved animation looks stable to Playwright): let the animations finish first.
      // (Endless ones, such as a spinner's, are left alone.)
      await dialog.evaluate((el) => Promise.all(el.getAnimations({ subtree: true }).filter((a) => a.effect?.getComputedTiming().iterations !== Infinity).map((a) => a.finished)));
      await dialog.getByRole('button', { name: button }).click();
      const error = dialog.locator('.ant-alert-error, .ant-form-item-explain-error').first();
      const outcome = await Promise.race([
        dialog.waitFor({ state: 'hidden' }).then(() => 'closed'),
        error.waitFor({ state: 'visible' }).then(() => 'error'),
      ]);
      if (outcome === 'error') assert.fail(`the ${button} dialog refused: ${await error.innerText()}`);
    },
    async close() {
      await browser.close();
      await app.close();
      await services.stop();
      await database.close();
    },
  };
}
