/** `canopy grant …` and `canopy role …`: who may do what on which node. */
import type { Command } from 'commander';
import type { Grant, Role } from '@canopy/sdk/client';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { table, UsageError } from '../output.ts';
import { collect, integer } from './options.ts';

interface GrantOptions extends JsonOption {
  user?: string;
  group?: string;
  role?: string;
  expires?: string;
}

/** Grants as a table; `@name` marks a group. */
export function grantTable(grants: Grant[]): string {
  return table(
    ['id', 'subject', 'role', 'node', 'expires'],
    grants.map((g) => [g.id, g.subjectKind === 'group' ? `@${g.subject}` : g.subject, g.role, g.nodePath, g.expiresAt ?? 'never']),
    '(no grants)\n',
  );
}

function registerGrants(program: Command, ctx: CliContext): void {
  // `grant PATH` acts itself; `grant ls` and `grant rm` are its subcommands.
  const grant = withJson(program.command('grant').description('grant a role on a node (and its subtree) to a user or a group'))
    .argument('[path]', 'the node')
    .option('--user <username>', 'grant to this user')
    .option('--group <name>', 'grant to this group')
    .option('--role <role>', 'the role to grant (see `canopy role ls`)')
    .option('--expires <iso-time>', 'when the grant lapses, e.g. 2030-01-01T00:00:00Z')
    .action(async (path: string | undefined, opts: GrantOptions) => {
      if (path === undefined) throw new UsageError('name the node: canopy grant (--user U | --group G) --role R PATH');
      if ((opts.user === undefined) === (opts.group === undefined)) throw new UsageError('give exactly one of --user and --group');
      if (opts.role === undefined) throw new UsageError('give --role');
      const g = await ctx.client().grants.create({
        role: opts.role,
        nodePath: path,
        ...(opts.user !== undefined ? { user: opts.user } : { group: opts.group }),
        ...(opts.expires !== undefined ? { expiresAt: opts.expires } : {}),
      });
      ctx.print(opts.json, g, () => `granted ${g.role} on ${g.nodePath} to ${g.subjectKind} ${g.subject} (grant ${g.id})\n`);
    });

  withJson(grant.command('ls <path>').description('grants that apply at PATH: on it, its ancestors and its subtree')).action(
    async (path: string, _opts: JsonOption, cmd: Command) => {
      // `grant` has a --json of its own, and commander hands a trailing --json to the parent first.
      const { json } = cmd.optsWithGlobals<JsonOption>();
      const grants = await ctx.client().grants.list(path);
      ctx.print(json, grants, () => grantTable(grants));
    },
  );

  grant
    .command('rm <id>')
    .description('revoke a grant by id (see `canopy grant ls`)')
    .action(async (id: string) => {
      await ctx.client().grants.revoke(integer(1, Number.MAX_SAFE_INTEGER)(id));
      ctx.out(`revoked grant ${id}\n`);
    });
}

function registerRoles(program: Command, ctx: CliContext): void {
  const role = program.command('role').description('list, add, edit and remove roles');

  withJson(role.command('ls').description('list roles and their operations')).action(async (opts: JsonOption) => {
    const roles = await ctx.client().roles.list();
    ctx.print(opts.json, roles, () => table(['role', 'operations', 'description'], roles.map((r) => [r.name, r.operations.join(','), r.description])));
  });

  withJson(role.command('add <name>').description('create a role from operations (superusers)'))
    .requiredOption('--op <operation>', 'an operation such as tree.read (repeatable, or comma-separated)', collect, [])
    .option('--description <text>', 'what the role is for')
    .action(async (name: string, opts: JsonOption & { op: string[]; description?: string }) => {
      const r = await ctx.client().roles.create({ name, operations: opts.op, description: opts.description });
      ctx.print(opts.json, r, () => `created role ${r.name}: ${r.operations.join(', ')}\n`);
    });

  withJson(role.command('edit <name>').description("change a role (superusers); every grant of it changes at once; built-in roles' operations are fixed"))
    .option('--op <operation>', 'the whole new operation list (repeatable, or comma-separated)', collect)
    .option('--add-op <operation>', 'add operations to the current list', collect)
    .option('--remove-op <operation>', 'remove operations from the current list', collect)
    .option('--description <text>', 'what the role is for')
    .action(async (name: string, opts: JsonOption & { op?: string[]; addOp?: string[]; removeOp?: string[]; description?: string }) => {
      if (opts.op && (opts.addOp || opts.removeOp)) throw new UsageError('give --op (the whole list) or --add-op/--remove-op, not both');
      let operations = opts.op;
      if (opts.addOp || opts.removeOp) {
        const current = (await ctx.client().roles.list()).find((r) => r.name === name);
        if (!current) throw new UsageError(`no role '${name}' (see \`canopy role ls\`)`);
        const drop = new Set(opts.removeOp ?? []);
        operations = [...new Set([...current.operations, ...(opts.addOp ?? [])])].filter((o) => !drop.has(o));
      }
      if (operations === undefined && opts.description === undefined) throw new UsageError('nothing to change: give --op, --add-op, --remove-op or --description');
      const body = { ...(operations !== undefined ? { operations } : {}), ...(opts.description !== undefined ? { description: opts.description } : {}) };
      const r = await ctx.client().request<Role>('PATCH', `/roles/${encodeURIComponent(name)}`, body);
      ctx.print(opts.json, r, () => `changed role ${r.name}: ${r.operations.join(', ')}\n`);
    });

  withJson(role.command('rm <name>').description('delete a role (superusers); refused while it is granted, unless --force'))
    .option('--force', 'also revoke every grant of the role')
    .action(async (name: string, opts: JsonOption & { force?: boolean }) => {
      await ctx.client().request<void>('DELETE', `/roles/${encodeURIComponent(name)}${opts.force ? '?force=true' : ''}`);
      ctx.print(opts.json, { removed: name }, () => `removed role ${name}\n`);
    });
}

/** Adds `canopy grant` and `canopy role`. */
export function registerGrant(program: Command, ctx: CliContext): void {
  registerGrants(program, ctx);
  registerRoles(program, ctx);
}
