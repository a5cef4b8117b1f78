/**
 * Shared by the console's browser tests: build the console (once per output dir, when a source is
 * newer), start a real Canopy over a PGlite test database (or PostgreSQL, see startConsoleE2E)
 * serving it on a loopback port, and drive it with headless Chromium. Each test file uses its own output dir, so no test reads a build that
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
  /** Click a dialog's button once the dialog has stopped moving, and leave the outcome to the caller. */
  press(dialog: Locator, button: string): Promise<void>;
  /** Click the open popconfirm's `button` once it has stopped moving, and wait for it to close. */
  confirm(button: string): Promise<void>;
  /** Log in on `page` (default: this harness's page) through the login form and wait for the home page. */
  signIn(username: string, password: string, page?: Page): Promise<void>;
  /** Call `/api/v1{url}` as admin; insists on 2xx; answers parsed JSON (or text). */
  call(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, contentType?: string): Promise<any>;
  close(): Promise<void>;
}

/**
 * Wait until `el` and what it holds stop moving. A click that lands while a dialog or popconfirm
 * still zooms in can miss its button on a loaded machine (a frame-starved animation looks stable
 * to Playwright), and a miss that lands on the mask closes the dialog unapplied: the test then
 * waits for a result that never comes. Endless animations, such as a spinner's, are left alone.
 */
export async function settle(el: Locator): Promise<void> {
  await el.evaluate((node) => Promise.all(node.getAnimations({ subtree: true }).filter((a) => a.effect?.getComputedTiming().iterations !== Infinity).map((a) => a.finished.catch(() => undefined))));
}

/** Start everything a browser test needs; close it in `after()`. */
export async function startConsoleE2E(outDir: string, viewport = { width: 1400, height: 900 }): Promise<ConsoleE2E> {
  ensureBuilt(outDir);
  // PGlite by default; CANOPY_E2E_BACKEND=postgres (with CANOPY_TEST_DATABASE_URL) runs the page over PostgreSQL.
  const wanted = process.env['CANOPY_E2E_BACKEND'] ?? 'pglite';
  const backend = testBackends().find((b) => b.name === wanted);
  if (!backend) throw new Error(`no ${wanted} test backend (postgres needs CANOPY_TEST_DATABASE_URL)`);
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
  // CANOPY_E2E_CPU_THROTTLE=N slows the page's CPU N times (Chromium's DevTools emulation): the
  // frame-starved page of a busy CI machine, on demand, to check that no step races the page.
  const throttle = Number(process.env['CANOPY_E2E_CPU_THROTTLE'] ?? 1);
  if (throttle > 1) await (await page.context().newCDPSession(page)).send('Emulation.setCPUThrottlingRate', { rate: throttle });
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
      await settle(dialog);
      // Errors still shown from an earlier attempt are not this click's answer.
      const errors = '.ant-alert-error, .ant-form-item-explain-error';
      await dialog.locator(errors).evaluateAll((els) => els.forEach((el) => el.setAttribute('data-e2e-stale', '')));
      await dialog.getByRole('button', { name: button }).click();
      const error = dialog.locator(`:is(${errors}):not([data-e2e-stale])`).first();
      const outcome = await Promise.race([
        dialog.waitFor({ state: 'hidden' }).then(() => 'closed'),
        error.waitFor({ state: 'visible' }).then(() => 'error'),
      ]);
      if (outcome === 'error') assert.fail(`the ${button} dialog refused: ${await error.innerText()}`);
    },
    async press(dialog, button) {
      await settle(dialog);
      await dialog.getByRole('button', { name: button }).click();
    },
    async confirm(button) {
      const pop = page.locator('.ant-popconfirm:visible').filter({ has: page.getByRole('button', { name: button }) }).last();
      await pop.waitFor();
      await settle(pop);
      await pop.getByRole('button', { name: button }).click();
      await pop.waitFor({ state: 'hidden' });
    },
    async signIn(username, password, on = page) {
      await on.goto(`${base}/`);
      await on.getByLabel('Username').fill(username);
      await on.getByLabel('Password').fill(password);
      await on.getByRole('button', { name: 'Sign in' }).click();
      await on.getByText(/^Welcome, /).waitFor();
    },
    async close() {
      await browser.close();
      await app.close();
      await services.stop();
      await database.close();
    },
  };
}
