/** `canopy trash ls|restore`: deleted nodes, and putting one back where its parent is now. */
import type { Command } from 'commander';
import type { NodeView, TrashedNode } from '@canopy/sdk/client';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { table, UsageError } from '../output.ts';

/** Adds `canopy trash` and its subcommands. */
export function registerTrash(program: Command, ctx: CliContext): void {
  const trash = program.command('trash').description('list deleted nodes and restore them');

  withJson(trash.command('ls').description('list the nodes in the trash, newest first, with where a restore would put each'))
    .action(async (opts: JsonOption) => {
      const items = await ctx.client().nodes.trash();
      ctx.print(opts.json, items, () =>
        table(['id', 'path', 'restores as', 'deleted'], items.map((t) => [t.id, t.path, t.restoresAs ?? '(parent is in the trash too)', t.deletedAt]), '(the trash is empty)\n'),
      );
    });

  withJson(trash.command('restore <id>').description('restore a deleted node (the id from `canopy trash ls`)'))
    .action(async (id: string, opts: JsonOption) => {
      if (!/^[1-9]\d{0,9}$/.test(id)) throw new UsageError(`<id> '${id}' must be the number \`canopy trash ls\` shows`);
      const node: NodeView = await ctx.client().nodes.restore(Number(id));
      ctx.print(opts.json, node, () => `restored ${node.path}\n`);
    });
}
