/** `canopy login`, `canopy logout`, `canopy whoami`: getting, dropping and checking credentials. */
import type { Command } from 'commander';
import type { User } from '@canopy/sdk/client';
import { writeConfig } from '../config.ts';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { fields } from '../output.ts';
import { ask, readStdin } from '../prompt.ts';

interface LoginOptions extends JsonOption {
  username?: string;
  passwordStdin?: boolean;
}

function describeUser(u: User): string {
  return `${u.username}${u.superuser ? ' (superuser)' : ''}`;
}

/** Adds login, logout and whoami. */
export function registerSession(program: Command, ctx: CliContext): void {
  withJson(
    program
      .command('login')
      .description('log in and save the server URL and a session token in the config file (--url picks the server)')
      .option('-u, --username <name>', 'user name (asked on the terminal when absent)')
      .option('--password-stdin', 'read the password from stdin instead of asking'),
  ).action(async (opts: LoginOptions) => {
    const conn = ctx.connection();
    const username = opts.username ?? (await ask('Username: ', { instead: 'give --username' })).trim();
    const password = opts.passwordStdin ? await readStdin() : await ask('Password: ', { hidden: true, instead: 'give --password-stdin' });
    const session = await ctx.client({ anonymous: true }).login(username, password);
    writeConfig(conn.configPath, { ...conn.config, url: conn.url, token: session.token, username: session.user.username, expiresAt: session.expiresAt });
    ctx.print(opts.json, { url: conn.url, configPath: conn.configPath, expiresAt: session.expiresAt, user: session.user }, () =>
      `logged in to ${conn.url} as ${describeUser(session.user)}; session saved in ${conn.configPath} until ${session.expiresAt}\n`,
    );
  });

  program
    .command('logout')
    .description('end the session on the server and remove the token from the config file')
    .action(async () => {
      const conn = ctx.connection();
      if (conn.token) {
        try {
          await ctx.client().logout();
        } catch (err) {
          // The local token goes either way; an expired session or an unreachable server is only worth a remark.
          ctx.note(`note: the server did not confirm the logout: ${(err as Error).message}`);
        }
      }
      if (conn.config.token) {
        const { token: _token, expiresAt: _expires, ...rest } = conn.config;
        writeConfig(conn.configPath, rest);
      }
      ctx.out(conn.config.token ? `logged out of ${conn.url}\n` : `no saved login in ${conn.configPath}\n`);
    });

  withJson(program.command('whoami').description('show the user the current credentials belong to')).action(async (opts: JsonOption) => {
    const me = await ctx.client().me();
    ctx.print(opts.json, me, () =>
      fields([
        ['user', describeUser(me)],
        ['name', me.displayName],
        ['email', me.email],
        ['groups', me.groups.join(', ')],
        ['server', ctx.connection().url],
      ]),
    );
  });
}
