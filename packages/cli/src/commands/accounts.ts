/** `canopy user|group|token …`: accounts, groups and the caller's API tokens. */
import type { Command } from 'commander';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { table } from '../output.ts';
import { ask, readStdin } from '../prompt.ts';
import { collect, integer } from './options.ts';

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
  const user = program.command('user').description('add and list users');

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
        users.map((u) => [u.username, u.displayName, u.email, u.groups.join(','), [u.superuser && 'superuser', u.disabled && 'disabled'].filter(Boolean).join(',')]),
      ),
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
}

function registerToken(program: Command, ctx: CliContext): void {
  const token = program.command('token').description('create, list and revoke your API tokens');

  withJson(token.command('create <name>').description('create an API token for scripts; it is printed once'))
    .option('--days <n>', 'expire after N days (default: never)', integer(1, 3650))
    .action(async (name: string, opts: JsonOption & { days?: number }) => {
      const t = await ctx.client().tokens.create({ name, ...(opts.days !== undefined ? { expiresInDays: opts.days } : {}) });
      ctx.print(opts.json, t, () => `${t.token}\n`);
      if (!opts.json) ctx.note(`token '${t.name}' (id ${t.id}) created; it is not shown again`);
    });

  withJson(token.command('ls').description('list your API tokens')).action(async (opts: JsonOption) => {
    const tokens = await ctx.client().tokens.list();
    ctx.print(opts.json, tokens, () =>
      table(['id', 'name', 'prefix', 'expires', 'revoked'], tokens.map((t) => [t.id, t.name, t.prefix, t.expiresAt ?? 'never', t.revokedAt])),
    );
  });

  token
    .command('rm <id>')
    .description('revoke one of your API tokens')
    .action(async (id: string) => {
      await ctx.client().tokens.revoke(integer(1, Number.MAX_SAFE_INTEGER)(id));
      ctx.out(`revoked token ${id}\n`);
    });
}

/** Adds `canopy user`, `canopy group` and `canopy token`. */
export function registerAccounts(program: Command, ctx: CliContext): void {
  registerUser(program, ctx);
  registerGroup(program, ctx);
  registerToken(program, ctx);
}
