/**
 * Running the real Puppet against an ENC script, in a private directory, as any user.
 *
 * Puppet reads and writes under /etc/puppet, /var/lib/puppet (root) or ~/.puppet (others) unless
 * every one of its directory settings is overridden; `sandboxArgs` overrides them all, so a run
 * touches nothing outside `dir`. The exec node terminus splits `external_nodes` on whitespace and
 * passes the certname as the last argument, so the script path must be absolute and space-free.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';

/** Where the sandboxed runs keep their state; everything lives below `dir`. */
export interface PuppetRunOptions {
  /** Private directory for confdir, vardir, logdir, rundir and publicdir. */
  dir: string;
  /** Code directory holding `environments/<env>/{modules,manifests}`; default `<dir>/code`. */
  codedir?: string;
  /** The puppet executable; default `puppet` on PATH. */
  puppet?: string;
  /** Extra environment variables for the Puppet process. */
  env?: Record<string, string>;
  /** Kill Puppet after this long; default 120 s. */
  timeoutMs?: number;
}

/** What one Puppet process did. */
export interface PuppetRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/** A node as `puppet node find --render-as json` prints it. */
export interface PuppetNode {
  name: string;
  environment: string;
  classes: Record<string, Record<string, unknown>> | string[];
  parameters: Record<string, unknown>;
}

/** The installed Puppet's version, or null when no `puppet` can be run. */
export async function puppetVersion(puppet = 'puppet'): Promise<string | null> {
  const run = await runPuppet(puppet, ['--version'], 30_000).catch(() => null);
  return run && run.exitCode === 0 ? run.stdout.trim() : null;
}

/** The flags that point every Puppet directory setting into `opts.dir`. */
export function sandboxArgs(opts: PuppetRunOptions): string[] {
  const d = opts.dir;
  return [
    '--confdir', join(d, 'conf'), '--vardir', join(d, 'var'), '--logdir', join(d, 'log'),
    '--rundir', join(d, 'run'), '--publicdir', join(d, 'public'), '--codedir', opts.codedir ?? join(d, 'code'),
    '--color', 'false',
  ];
}

/** Create `<codedir>/environments/<env>/{modules,manifests}` for each environment; returns the codedir. */
export async function prepareCodedir(opts: PuppetRunOptions, environments: readonly string[] = ['production']): Promise<string> {
  const codedir = opts.codedir ?? join(opts.dir, 'code');
  for (const env of environments) {
    await mkdir(join(codedir, 'environments', env, 'modules'), { recursive: true });
    await mkdir(join(codedir, 'environments', env, 'manifests'), { recursive: true });
  }
  return codedir;
}

/**
 * `puppet node find HOST --node_terminus exec --external_nodes SCRIPT --facts_terminus memory
 * --render-as json`: what a Puppet server would classify HOST as. `node` is set when Puppet
 * succeeded; an ENC failure (non-zero exit) makes Puppet exit 1 with the reason on stderr.
 */
export async function puppetNodeFind(host: string, encScript: string, opts: PuppetRunOptions): Promise<PuppetRun & { node: PuppetNode | null }> {
  checkScript(encScript);
  const args = ['node', 'find', host, ...sandboxArgs(opts), ...encArgs(encScript), '--render-as', 'json'];
  const run = await runPuppet(opts.puppet ?? 'puppet', args, opts.timeoutMs, opts.env);
  const node = run.exitCode === 0 ? (JSON.parse(run.stdout) as PuppetNode) : null;
  return { ...run, node };
}

/**
 * `puppet apply --certname HOST --node_terminus exec --external_nodes SCRIPT --detailed-exitcodes
 * -e ''`: compile HOST's catalog from the classes the ENC names and apply it to this machine.
 * Exit 0: nothing changed; 2: changes applied; 1, 4, 6: failures.
 */
export async function puppetApply(host: string, encScript: string, opts: PuppetRunOptions & { manifest?: string }): Promise<PuppetRun & { ok: boolean }> {
  checkScript(encScript);
  const args = [
    'apply', ...sandboxArgs(opts), ...encArgs(encScript), '--certname', host, '--detailed-exitcodes',
    ...(opts.manifest !== undefined ? [opts.manifest] : ['-e', '']),
  ];
  const run = await runPuppet(opts.puppet ?? 'puppet', args, opts.timeoutMs, opts.env);
  return { ...run, ok: run.exitCode === 0 || run.exitCode === 2 };
}

// Facts come from memory (none) so a run does not spend a second in Facter, whose probes also
// fail noisily inside containers; the ENC alone decides the node.
function encArgs(encScript: string): string[] {
  return ['--node_terminus', 'exec', '--external_nodes', encScript, '--facts_terminus', 'memory'];
}

function checkScript(path: string): void {
  if (!isAbsolute(path) || /\s/.test(path)) {
    throw new Error(`ENC script must be an absolute path without whitespace (Puppet splits it on spaces): ${path}`);
  }
}

function runPuppet(puppet: string, args: string[], timeoutMs = 120_000, env?: Record<string, string>): Promise<PuppetRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(puppet, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const elapsedMs = Math.round(performance.now() - started);
      if (err && typeof err.code !== 'number') {
        // Not an exit status: the binary is missing, or it was killed by the timeout.
        if (err.killed) resolve({ exitCode: null, stdout, stderr: `${stderr}\nkilled after ${timeoutMs} ms`, elapsedMs });
        else reject(err);
        return;
      }
      resolve({ exitCode: err ? (err.code as number) : 0, stdout, stderr, elapsedMs });
    });
  });
}
