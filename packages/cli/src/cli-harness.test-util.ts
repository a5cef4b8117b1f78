/** Shared by the CLI tests: a live server on a loopback port, and the CLI run as a real subprocess. */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, testBackends, type TestServer } from '../../server/src/testing/index.ts';

const ROOT = join(import.meta.dirname, '../../..');
export const NODE = join(ROOT, 'node_modules/.bin/node');
export const CLI_MAIN = join(ROOT, 'packages/cli/src/main.ts');
export const ENC_MAIN = join(ROOT, 'packages/cli/src/enc-main.ts');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `entry args…` with exactly `env` (undefined values dropped), asynchronously: the server answers from this very process. */
export function runNode(entry: string, args: string[], opts: { env: Record<string, string | undefined>; cwd: string; input?: string }): Promise<Run> {
  const env = Object.fromEntries(Object.entries(opts.env).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv;
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [entry, ...args], { env, cwd: opts.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

export interface CliServer {
  s: TestServer;
  url: string;
  /** A scratch directory (HOME and cwd of the CLI). */
  dir: string;
  /** An admin API token named `cli`. */
  token: string;
}

/** A PGlite test server listening on a free loopback port, with an admin API token. */
export async function startCliServer(prefix: string, opts?: Parameters<typeof startTestServer>[1]): Promise<CliServer> {
  const s = await startTestServer(testBackends()[0]!, opts);
  await s.app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), `canopy-${prefix}-`));
  const token = (await s.call('POST', '/api/v1/tokens', { name: 'cli' })).body.token as string;
  return { s, url, dir, token };
}
