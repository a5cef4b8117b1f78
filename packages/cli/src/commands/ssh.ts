/**
 * `canopy ssh HOST`, `canopy ssh-cert`, `canopy ssh-cert-revoke`, `canopy ssh-access`,
 * `canopy ssh-break-glass` and `canopy login-audit`: logging in to machines with short-lived
 * certificates (host checked against the host CA, no trust on first use), who may log in where,
 * and every login the agents saw.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { LoginView, SshAccessView } from '@canopy/core';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { table, UsageError } from '../output.ts';
import { integer } from './options.ts';

interface Cert {
  serial: number;
  principals: string[];
  validBefore: string;
  certificate: string;
}

/** The private key to use: `--key`, else the first of ~/.ssh/id_ed25519, id_ecdsa, id_rsa that exists. */
function privateKey(given: string | undefined): string {
  if (given) return given.replace(/\.pub$/, '');
  for (const n of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
    const p = join(homedir(), '.ssh', n);
    if (existsSync(`${p}.pub`)) return p;
  }
  throw new UsageError('no SSH key found in ~/.ssh (id_ed25519, id_ecdsa, id_rsa): give --key FILE');
}

async function sign(ctx: CliContext, key: string, validSeconds: number | undefined): Promise<Cert & { path: string }> {
  if (!existsSync(`${key}.pub`)) throw new UsageError(`no public key ${key}.pub`);
  const publicKey = readFileSync(`${key}.pub`, 'utf8').trim();
  const cert = await ctx.client().request<Cert>('POST', '/ssh/certificates', { publicKey, ...(validSeconds ? { validSeconds } : {}) });
  const path = `${key}-cert.pub`;
  writeFileSync(path, `${cert.certificate}\n`, { mode: 0o644 });
  return { ...cert, path };
}

/** Adds the SSH commands. */
export function registerSsh(program: Command, ctx: CliContext): void {
  program
    .command('ssh <host> [command...]')
    .description('log in to a machine with a fresh certificate (8 h), its host key checked against the Canopy host CA')
    .option('--key <file>', 'private key to certify (default ~/.ssh/id_ed25519, id_ecdsa or id_rsa)')
    .option('--port <n>', "sshd's port (default: ssh's own, 22)", integer(1, 65535))
    .option('--print', 'print the ssh command instead of running it')
    .action(async (host: string, command: string[], opts: { key?: string; port?: number; print?: boolean }) => {
      const key = privateKey(opts.key);
      const login = await ctx.client().request<{ account: string; address: string; knownHosts: string }>('GET', `/machines/${encodeURIComponent(host)}/ssh/login`);
      const cert = await sign(ctx, key, undefined);
      const dir = join(homedir(), '.canopy');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const knownHosts = join(dir, 'known_hosts');
      writeFileSync(knownHosts, login.knownHosts, { mode: 0o644 });
      const argv = ['-i', key, '-o', `CertificateFile=${cert.path}`, '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', ...(opts.port ? ['-p', String(opts.port)] : []), '-l', login.account, login.address, ...(command.length ? ['--', ...command] : [])];
      if (opts.print) return void process.stdout.write(`ssh ${argv.join(' ')}\n`);
      const code = await new Promise<number>((resolve) => spawn('ssh', argv, { stdio: 'inherit' }).once('close', (c) => resolve(c ?? 255)));
      process.exitCode = code;
    });

  withJson(program.command('ssh-cert').description('sign your SSH public key: writes KEY-cert.pub next to it'))
    .option('--key <file>', 'private key (or .pub) to certify (default ~/.ssh/id_ed25519, id_ecdsa or id_rsa)')
    .option('--valid <seconds>', 'validity, 60-86400 (default 8 h)', integer(60, 86400))
    .action(async (opts: JsonOption & { key?: string; valid?: number }) => {
      const cert = await sign(ctx, privateKey(opts.key), opts.valid);
      ctx.print(opts.json, cert, () => `wrote ${cert.path}: serial ${cert.serial}, valid until ${cert.validBefore}, principals ${cert.principals.join(',')}\n`);
    });

  withJson(program.command('ssh-cert-revoke <serial>').description('revoke a certificate (yours; superusers: anyone\'s): machines refuse it within seconds'))
    .action(async (serial: string, opts: JsonOption) => {
      if (!/^\d{1,15}$/.test(serial)) throw new UsageError('the serial is a number');
      const c = await ctx.client().request<{ serial: number; username: string; revokedAt: string }>('DELETE', `/ssh/certificates/${serial}`);
      ctx.print(opts.json, c, () => `revoked certificate ${c.serial} of ${c.username} at ${c.revokedAt}\n`);
    });

  withJson(program.command('ssh-access <path>').description('who may log in to the machines of a node, as which account, with sudo, and through which grant'))
    .action(async (path: string, opts: JsonOption) => {
      const v = await ctx.client().request<SshAccessView>('GET', `/nodes/${encodeURIComponent(path)}/ssh/access`);
      ctx.print(opts.json, v, () =>
        table(
          ['user', 'account', 'sudo', 'keys', 'grants', 'problem'],
          v.users.map((u) => [u.username, u.account, u.sudo ? 'yes' : 'no', String(u.keys), u.grants.map((g) => `${g.role}@${g.node}${g.via === 'user' ? '' : ` (${g.via})`}`).join(', '), u.problem ?? '']),
          '(no one)\n',
        ),
      );
    });

  withJson(program.command('ssh-break-glass <path>').description("make a node's break-glass key (root on every machine below, even without the control center); shown once"))
    .requiredOption('--out <file>', 'where to write the private key (mode 600)')
    .action(async (path: string, opts: JsonOption & { out: string }) => {
      const k = await ctx.client().request<{ id: number; fingerprint: string; privateKey: string; account: string }>('POST', `/nodes/${encodeURIComponent(path)}/ssh/break-glass`);
      writeFileSync(opts.out, k.privateKey, { mode: 0o600, flag: 'wx' });
      const { privateKey: _secret, ...shown } = k;
      ctx.print(opts.json, shown, () => `wrote ${opts.out}: break-glass key ${k.id} (${k.fingerprint}) for ${k.account} below ${path}; keep it offline, every use is reported\n`);
    });

  withJson(program.command('login-audit').description('logins on machines, accepted and refused (newest first)'))
    .option('--under <path>', 'on machines below this node')
    .option('--user <username>', 'of this user')
    .option('--refused', 'only refused logins')
    .option('-n, --limit <n>', 'how many (1-1000)', integer(1, 1000), 50)
    .action(async (opts: JsonOption & { under?: string; user?: string; refused?: boolean; limit: number }) => {
      const q = new URLSearchParams({ limit: String(opts.limit) });
      if (opts.under) q.set('under', opts.under);
      if (opts.user) q.set('user', opts.user);
      if (opts.refused) q.set('result', 'refused');
      const page = await ctx.client().request<{ items: LoginView[] }>('GET', `/ssh/logins?${q}`);
      ctx.print(opts.json, page.items, () =>
        table(
          ['at', 'host', 'account', 'user', 'from', 'result', 'method', 'reason'],
          page.items.map((e) => [e.at, e.hostname, e.account, e.user, e.from, e.result, e.breakGlassNode ? `BREAK-GLASS (${e.breakGlassNode})` : e.method, e.reason]),
          '(no logins)\n',
        ),
      );
    });
}
