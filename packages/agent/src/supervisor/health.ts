/** One health check of a supervised app: an HTTP GET, a TCP connect, or a command (argv, no shell). */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { HealthCheck } from '@canopy/core';

/** Where the app listens: checks go to loopback (the app's own machine). */
const HOST = '127.0.0.1';

/** Run `check` once; resolves with undefined when it passed, else with why it failed. */
export function runCheck(check: HealthCheck, opts: { cwd: string; env: Record<string, string> }): Promise<string | undefined> {
  const ms = check.timeoutSeconds * 1000;
  switch (check.type) {
    case 'http':
      return new Promise((resolve) => {
        const req = request({ host: HOST, port: check.port, path: check.path, method: 'GET', timeout: ms, headers: { 'user-agent': 'canopy-agent health' } }, (res) => {
          res.resume();
          const code = res.statusCode ?? 0;
          resolve(code >= 200 && code < 400 ? undefined : `HTTP ${code} from ${check.path}`);
        });
        req.on('timeout', () => req.destroy(new Error(`no answer within ${check.timeoutSeconds} s`)));
        req.on('error', (err) => resolve(`GET ${check.path} on port ${check.port}: ${err.message}`));
        req.end();
      });
    case 'tcp':
      return new Promise((resolve) => {
        const sock = connect({ host: HOST, port: check.port, timeout: ms });
        sock.once('connect', () => {
          sock.destroy();
          resolve(undefined);
        });
        sock.once('timeout', () => {
          sock.destroy();
          resolve(`TCP ${check.port}: no connection within ${check.timeoutSeconds} s`);
        });
        sock.once('error', (err) => resolve(`TCP ${check.port}: ${err.message}`));
      });
    case 'command':
      return new Promise((resolve) => {
        const [cmd, ...args] = check.argv;
        const p = spawn(cmd!, args, { cwd: opts.cwd, env: opts.env, stdio: 'ignore', timeout: ms, killSignal: 'SIGKILL' });
        p.once('error', (err) => resolve(`${cmd}: ${err.message}`));
        p.once('exit', (code, signal) => resolve(code === 0 ? undefined : signal ? `${cmd} killed by ${signal} (timeout ${check.timeoutSeconds} s)` : `${cmd} exited ${code}`));
      });
  }
}
