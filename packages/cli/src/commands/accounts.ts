/** `canopy user|group|token …`: accounts, groups and API tokens (token.ts). */
import type { Command } from 'commander';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { table, UsageError } from '../output.ts';
import { ask, readStdin } from '../prompt.ts';
import { collect, integer } from './options.ts';
import { registerToken } from './token.ts';

interface UserAddOptions extends JsonOption {
  name?: string;
  email?: string;
  superuser?: boolean;
  sshKey: string[];
  passwordStdin?: boolean;
  password: boolean;
}

/** The new user's password: from stdin, asked twice on a terminal, or none (`--no-password`, or no terminal). */
async function newPassword(opts: UserAddOptions): Promise<string | undefined> {
  if (opts.passwordStdin) return readStdin();
  if (!opts.password || !process.stdin.isTTY) return undefined;
  const first = await ask('Password for the new user (empty for none): ', { hidden: true, instead: 'give --password-stdin' });
  if (first === '') return undefined;
  const again = await ask('Again: ', { hidden: true, instead: 'give --password-stdin' });
  if (again !== first) throw new Error('the passwords differ');
  return first;
}

function registerUser(program: Command, ctx: CliContext): void {
  const user = program.command('user').description('add, list, change and remove users');

  withJson(user.command('add <username>').description('create a user (superusers)'))
    .option('--name <display-name>', 'display name')
    .option('--email <address>', 'e-mail address')
    .option('--superuser', 'may do everything everywhere')
    .option('--ssh-key <line>', 'an OpenSSH public key line (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--password-stdin', 'read the password from stdin')
    .option('--no-password', 'do not set a password (token or SSO only)')
    .action(async (username: string, opts: UserAddOptions) => {
      const password = await newPassword(opts);
      const u = await ctx.client().users.create({
        username,
        displayName: opts.name,
        email: opts.email,
        superuser: opts.superuser === true,
        sshKeys: opts.sshKey,
        ...(password !== undefined ? { password } : {}),
      });
      ctx.print(opts.json, u, () => `created user ${u.username}${u.superuser ? ' (superuser)' : ''}${password === undefined ? ', without a password' : ''}\n`);
    });

  withJson(user.command('ls').description('list users')).action(async (opts: JsonOption) => {
    const users = await ctx.client().users.list();
    ctx.print(opts.json, users, () =>
      table(
        ['username', 'name', 'email', 'groups', 'flags'],
        // The server leaves out (null) the e-mail and superuser flag of people outside your nodes.
        users.map((u) => [u.username, u.displayName, u.email as string | null, u.groups.join(','), [u.superuser && 'superuser', u.disabled && 'disabled'].filter(Boolean).join(',')]),
      ),
    );
  });

  registerUserChanges(user, ctx);
}

interface PasswdOptions extends JsonOption {
  passwordStdin?: boolean;
  revokeTokens?: boolean;
  keepTokens?: boolean;
}

/**
 * The passwords for `user passwd`: for your own, the current one and the new one (from stdin, one
 * per line, or asked on the terminal); for someone else's (superusers), only the new one.
 */
async function passwords(self: boolean, fromStdin: boolean | undefined): Promise<{ password: string; currentPassword?: string }> {
  if (fromStdin) {
    const lines = (await readStdin()).split(/\r?\n/);
    if (!self) return { password: lines[0] ?? '' };
    if (lines.length < 2) throw new UsageError('for your own password, give the current one and the new one on two lines of stdin');
    return { currentPassword: lines[0] ?? '', password: lines[1] ?? '' };
  }
  const instead = 'give --password-stdin';
  const currentPassword = self ? await ask('Current password: ', { hidden: true, instead }) : undefined;
  const password = await ask('New password: ', { hidden: true, instead });
  if ((await ask('Again: ', { hidden: true, instead })) !== password) throw new Error('the passwords differ');
  return { password, ...(currentPassword !== undefined ? { currentPassword } : {}) };
}

interface LoginEntry {
  at: string;
  username: string;
  outcome: string;
  address: string;
  userAgent: string;
  attempts: number;
}

/** `user passwd|disable|enable|rm|logins`. */
function registerUserChanges(user: Command, ctx: CliContext): void {
  withJson(user.command('passwd [username]').description("change your password (the current one is needed), or reset another user's (superusers)"))
    .option('--password-stdin', 'read from stdin: the current password and the new one on two lines (for another user: the new one)')
    .option('--revoke-tokens', "also revoke the user's API tokens (the default for a reset of someone else's)")
    .option('--keep-tokens', "keep the user's API tokens (the default for your own)")
    .action(async (username: string | undefined, opts: PasswdOptions) => {
      if (opts.revokeTokens && opts.keepTokens) throw new UsageError('give --revoke-tokens or --keep-tokens, not both');
      const client = ctx.client();
      const me = await client.me();
      const target = username ?? me.username;
      const self = target === me.username;
      const body = { ...(await passwords(self, opts.passwordStdin)), ...(opts.revokeTokens ? { revokeTokens: true } : opts.keepTokens ? { revokeTokens: false } : {}) };
      const u = await client.users.patch(target, body);
      const revoked = body.revokeTokens ?? !self;
      ctx.print(opts.json, u, () => `changed the password of ${u.username}; ${self ? 'your other sessions' : 'their sessions'} ended${revoked ? ', API tokens revoked' : ''}\n`);
    });

  for (const [word, disabled] of [['disable', true], ['enable', false]] as const) {
    withJson(user.command(`${word} <username>`).description(`${word} a user's account (superusers)${disabled ? '; their sessions end, their tokens stop working' : ''}`)).action(
      async (username: string, opts: JsonOption) => {
        const u = await ctx.client().users.patch(username, { disabled });
        ctx.print(opts.json, u, () => `${disabled ? 'disabled' : 'enabled'} user ${u.username}\n`);
      },
    );
  }

  withJson(user.command('rm <username>').description('delete a user with their grants, sessions and tokens (superusers)')).action(async (username: string, opts: JsonOption) => {
    await ctx.client().request<void>('DELETE', `/users/${encodeURIComponent(username)}`);
    ctx.print(opts.json, { removed: username }, () => `removed user ${username}\n`);
  });

  withJson(user.command('logins').description('the auth log: login attempts, newest first (yours; superusers: anyone\'s)'))
    .option('--user <username>', 'attempts on this user name')
    .option('--outcome <outcome>', 'success, failure or rate_limited')
    .option('--limit <n>', 'at most N entries (default 100)', integer(1, 1000))
    .action(async (opts: JsonOption & { user?: string; outcome?: string; limit?: number }) => {
      const q = new URLSearchParams();
      for (const [k, v] of [['user', opts.user], ['outcome', opts.outcome], ['limit', opts.limit]] as const) if (v !== undefined) q.set(k, String(v));
      const page = await ctx.client().request<{ items: LoginEntry[] }>('GET', `/auth/log${q.size ? `?${q}` : ''}`);
      ctx.print(opts.json, page.items, () =>
        table(['at', 'user', 'outcome', 'address', 'agent'], page.items.map((e) => [e.at, e.username, e.attempts > 1 ? `${e.outcome} x${e.attempts}` : e.outcome, e.address, e.userAgent]), '(no logins)\n'),
      );
    });
}

function registerGroup(program: Command, ctx: CliContext): void {
  const group = program.command('group').description('add and list groups, set their members');

  withJson(group.command('add <name>').description('create a group (superusers)'))
    .option('--description <text>', 'what the group is for')
    .option('--member <username>', 'a member (repeatable, or comma-separated)', collect, [])
    .action(async (name: string, opts: JsonOption & { description?: string; member: string[] }) => {
      const g = await ctx.client().groups.create({ name, description: opts.description, members: opts.member });
      ctx.print(opts.json, g, () => `created group ${g.name} with ${g.members.length} member(s)\n`);
    });

  withJson(group.command('members <name> [usernames...]').description('replace the members of a group (none empties it)')).action(
    async (name: string, members: string[], opts: JsonOption) => {
      const g = await ctx.client().groups.setMembers(name, members);
      ctx.print(opts.json, g, () => `${g.name}: ${g.members.join(', ') || '(no members)'}\n`);
    },
  );

  withJson(group.command('ls').description('list groups')).action(async (opts: JsonOption) => {
    const groups = await ctx.client().groups.list();
    ctx.print(opts.json, groups, () => table(['group', 'members', 'description'], groups.map((g) => [g.name, g.members.join(','), g.description])));
  });

  withJson(group.command('rm <name>').description('delete a group (superusers); refused while it holds grants, unless --force'))
    .option('--force', 'also revoke the grants the group holds')
    .action(async (name: string, opts: JsonOption & { force?: boolean }) => {
      await ctx.client().request<void>('DELETE', `/groups/${encodeURIComponent(name)}${opts.force ? '?force=true' : ''}`);
      ctx.print(opts.json, { removed: name }, () => `removed group ${name}\n`);
    });
}

/** Adds `canopy user`, `canopy group` and `canopy token`. */
export function registerAccounts(program: Command, ctx: CliContext): void {
  registerUser(program, ctx);
  registerGroup(program, ctx);
  registerToken(program, ctx);
}
