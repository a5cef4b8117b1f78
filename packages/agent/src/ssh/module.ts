/**
 * The agent's SSH module: turns the `ssh` document into local accounts, sshd's AuthorizedKeysCommand
 * answers, the sudoers drop-in and sshd's settings; keeps the answers valid while the control
 * center is reachable (and for the document's `cacheSeconds` after it was last heard from); reports
 * every login it finds in sshd's log on the `ssh.logins` stream, kept on disk until acknowledged.
 * Idle unless the agent runs with `--ssh-dir`.
 */
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SshDoc, type LoginEvent } from '@canopy/core';
import type { AgentModule, ModuleContext } from '../modules.ts';
import { createTail, parseSshdLine, type KeyOwners } from './audit.ts';
import { renderAnswers, renderBreakGlass, renderKeysCommand, renderKrlSpec, renderPrincipals, renderPrincipalsCommand, renderSshdConfig, renderSudoers } from './render.ts';
import { accountUid, createAccount, localAccounts, ensureCommandUser, reloadSshd, unsafeForSshd, writeAtomic, writeKrl, writeSudoers } from './system.ts';

/** The agent's SSH flags (`--ssh-*`). */
export interface SshSettings {
  /** Root-owned directory (every parent too) for the keys command and its answers. */
  dir: string;
  /** The sudoers drop-in; default /etc/sudoers.d/canopy. */
  sudoersFile?: string | undefined;
  /** sshd settings the agent owns; default /etc/ssh/sshd_config.d/canopy.conf. */
  sshdConfigFile?: string | undefined;
  /** AuthorizedKeysCommandUser; default canopy-ssh (made when missing). */
  commandUser?: string | undefined;
  /** sshd's log to read logins from; default /var/log/auth.log. */
  authLog?: string | undefined;
  /** How often (ms) logs are read and the cache renewed; default 500. */
  pollMs?: number | undefined;
  /** sshd's pid file: SIGHUP when its settings change (certificate authorities, host certificates). */
  sshdPidFile?: string | undefined;
  /** sshd's host public keys, certified by the host CA; default /etc/ssh/ssh_host_ed25519_key.pub. */
  hostKeys?: string[] | undefined;
}

const MAX_QUEUE = 100_000;

/** Make the SSH module. */
export function sshModule(): AgentModule {
  let timer: NodeJS.Timeout | undefined;
  let pushing = false;
  return {
    name: 'ssh',
    start(ctx: ModuleContext) {
      const s = ctx.settings.ssh;
      if (!s) return;
      const dir = s.dir;
      const sudoersFile = s.sudoersFile ?? '/etc/sudoers.d/canopy';
      const commandUser = s.commandUser ?? 'canopy-ssh';
      const queuePath = join(ctx.stateDir, 'ssh-events.json');
      const managedPath = join(ctx.stateDir, 'ssh-accounts.json');
      const callsLog = join(dir, 'calls.log');
      let doc: SshDoc | undefined;
      let queue: LoginEvent[] = existsSync(queuePath) ? (JSON.parse(readFileSync(queuePath, 'utf8')) as LoginEvent[]) : [];
      const managed: Record<string, number> = existsSync(managedPath) ? (JSON.parse(readFileSync(managedPath, 'utf8')) as Record<string, number>) : {};
      let fpUser = new Map<string, string>();
      let fpGlass = new Map<string, string>();
      const owners: KeyOwners = { user: (fp) => fpUser.get(fp), breakGlassNode: (fp) => fpGlass.get(fp) };
      const calls = new Map<string, string>();

      try {
        mkdirSync(join(dir, 'keys'), { recursive: true, mode: 0o755 });
        mkdirSync(join(dir, 'glass'), { recursive: true, mode: 0o755 });
        mkdirSync(join(dir, 'principals'), { recursive: true, mode: 0o755 });
        writeAtomic(join(dir, 'principals-command'), renderPrincipalsCommand(dir), 0o755);
        ensureCommandUser(commandUser);
        writeAtomic(join(dir, 'keys-command'), renderKeysCommand(dir), 0o755);
        const unsafe = unsafeForSshd(join(dir, 'keys-command'));
        if (unsafe) ctx.log(`ssh: sshd will refuse the keys command: ${unsafe}`);
        if (!existsSync(callsLog)) writeFileSync(callsLog, '', { mode: 0o600 });
        const uid = accountUid(commandUser);
        if (uid !== undefined) chownSync(callsLog, uid, 0);
        writeSshdConfig(false, 0);
      } catch (err) {
        ctx.log(`ssh: not managing SSH logins: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }

      function writeSshdConfig(userCa: boolean, hostCertificates: number): void {
        if (writeAtomic(s!.sshdConfigFile ?? '/etc/ssh/sshd_config.d/canopy.conf', renderSshdConfig({ dir, commandUser, userCa, hostCertificates }), 0o644)) {
          const why = reloadSshd(s!.sshdPidFile);
          if (why) ctx.log(`ssh: sshd settings changed; ${why}`);
        }
      }

      function applyCertificates(d: SshDoc): void {
        if (d.userCa !== null) {
          writeAtomic(join(dir, 'user-ca.pub'), `${d.userCa}\n`, 0o644);
          const principals = renderPrincipals(d);
          for (const [name, text] of principals) writeAtomic(join(dir, 'principals', name), text, 0o644);
          for (const f of readdirSync(join(dir, 'principals'))) if (!principals.has(f)) unlinkSync(join(dir, 'principals', f));
          try {
            writeKrl(dir, renderKrlSpec(d));
          } catch (err) {
            ctx.log(`ssh: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
        d.hostCertificates.forEach((c, i) => writeAtomic(join(dir, `host-${i}-cert.pub`), `${c}\n`, 0o644));
        writeSshdConfig(d.userCa !== null && existsSync(join(dir, 'revoked.krl')), d.hostCertificates.length);
      }

      function pushHostKeys(): void {
        const keys = (s!.hostKeys ?? ['/etc/ssh/ssh_host_ed25519_key.pub']).filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8').trim().split(/\s+/).slice(0, 2).join(' '));
        if (keys.length) ctx.push('ssh.hostkeys', { keys }).catch((err: unknown) => ctx.log(`ssh: host keys not certified: ${err instanceof Error ? err.message : String(err)}`));
      }

      const tailPath = join(ctx.stateDir, 'ssh-tail.json');
      const saveQueue = () => {
        writeAtomic(queuePath, JSON.stringify(queue), 0o600);
        writeAtomic(tailPath, JSON.stringify({ offset: authTail.offset() }), 0o600);
      };

      /** The answers stay valid `cacheSeconds` from now: called while the control center is there. */
      let written = 0;
      function renew(force = false): void {
        if (!doc) return;
        // Rewritten once a tenth of the validity has passed: a disconnected agent answers for 90-100% of it.
        const until = Math.floor(Date.now() / 1000) + doc.cacheSeconds;
        if (!force && until - written < Math.max(1, Math.floor(doc.cacheSeconds / 10))) return;
        writeAtomic(join(dir, 'valid-until'), `${until}\n`, 0o644);
        written = until;
      }

      function apply(raw: unknown): void {
        const parsed = SshDoc.safeParse(raw);
        if (!parsed.success) return ctx.log(`ssh: refused a document: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ').slice(0, 500)}`);
        const next = parsed.data;
        const local = localAccounts();
        const usable = next.accounts.filter((a) => {
          // Not in /etc/passwd may still be known to NSS (LDAP): ask getent before making one.
          const have = local.get(a.name) ?? accountUid(a.name);
          try {
            if (have === undefined) {
              createAccount(a.name, a.uid, a.shared ? 'canopy shared account' : `canopy ${a.keys[0]?.user ?? a.name}`);
              managed[a.name] = a.uid;
              return true;
            }
            if (have === a.uid) {
              managed[a.name] = a.uid;
              return true;
            }
            ctx.log(`ssh: account ${a.name} exists here with uid ${have}, not ${a.uid}: left alone, no keys answered for it`);
          } catch (err) {
            ctx.log(`ssh: could not create account ${a.name}: ${err instanceof Error ? err.message : String(err)}`);
          }
          return false;
        });
        writeAtomic(managedPath, JSON.stringify(managed), 0o600);
        const effective: SshDoc = { ...next, accounts: usable };
        const answers = renderAnswers(effective);
        for (const [name, text] of answers) writeAtomic(join(dir, 'keys', name), text, 0o644);
        for (const f of readdirSync(join(dir, 'keys'))) if (!answers.has(f)) unlinkSync(join(dir, 'keys', f));
        writeAtomic(join(dir, 'glass', 'root'), renderBreakGlass(effective), 0o644);
        try {
          writeSudoers(sudoersFile, renderSudoers(effective));
        } catch (err) {
          ctx.log(`ssh: ${err instanceof Error ? err.message : String(err)}`);
        }
        fpUser = new Map(effective.accounts.flatMap((a) => a.keys.map((k) => [k.fingerprint, k.user] as const)));
        fpGlass = new Map(effective.breakGlass.map((g) => [g.fingerprint, g.node]));
        doc = effective;
        renew(true);
        applyCertificates(effective);
      }

      function readLogs(): void {
        for (const line of callsTail.read()) {
          const [, account = '', fp = '', state = ''] = line.split(' ');
          calls.set(`${account} ${fp}`, state);
          if (calls.size > 10_000) calls.clear();
        }
        if ((statSync(callsLog, { throwIfNoEntry: false })?.size ?? 0) > 1024 * 1024) truncateSync(callsLog, 0);
        const found: LoginEvent[] = [];
        for (const line of authTail.read()) {
          const e = parseSshdLine(line, owners, (account, fp) => calls.get(`${account} ${fp}`) === 'expired');
          if (!e) continue;
          if (e.method === 'break-glass') ctx.log(`ssh: BREAK-GLASS LOGIN as ${e.account} from ${e.from} with the key of ${e.breakGlassNode}`);
          found.push(e);
        }
        if (found.length) {
          queue = [...queue, ...found].slice(-MAX_QUEUE);
          saveQueue();
        }
      }

      function flush(): void {
        if (pushing || queue.length === 0 || !ctx.connected()) return;
        const batch = queue.slice(0, 500);
        pushing = true;
        ctx.push('ssh.logins', { events: batch }).then(
          () => {
            const sent = new Set(batch.map((e) => e.id));
            queue = queue.filter((e) => !sent.has(e.id));
            saveQueue();
          },
          (err: unknown) => ctx.log(`ssh: login events kept for later: ${err instanceof Error ? err.message : String(err)}`),
        ).finally(() => {
          pushing = false;
        });
      }

      const callsTail = createTail(callsLog, 'end');
      // Where the last agent stopped reading sshd's log: a login while it was down is still reported.
      const saved = existsSync(tailPath) ? (JSON.parse(readFileSync(tailPath, 'utf8')) as { offset?: number }).offset : undefined;
      const authTail = createTail(s.authLog ?? '/var/log/auth.log', typeof saved === 'number' && saved >= 0 ? saved : 'end');
      ctx.onDoc('ssh', apply);
      ctx.onConnected(() => {
        renew();
        pushHostKeys();
        flush();
      });
      timer = setInterval(() => {
        try {
          if (ctx.connected()) renew();
          readLogs();
          flush();
        } catch (err) {
          ctx.log(`ssh: ${err instanceof Error ? err.message : String(err)}`);
        }
      }, s.pollMs ?? 500);
    },
    stop() {
      clearInterval(timer);
    },
  };
}
