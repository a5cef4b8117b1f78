/** `canopy tree …`: browse the service tree as an indented outline and change it. */
import type { Command } from 'commander';
import { CanopyApiError, type NodeView } from '@canopy/sdk/client';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { fields, labels, table, UsageError } from '../output.ts';
import { keyValues } from './options.ts';
import { collect, integer } from './options.ts';

/** Tree order: parents before children, siblings by name (plain string order would put `a-b` between `a` and `a.b`). */
function byTreeOrder(a: NodeView, b: NodeView): number {
  const x = a.path.split('.');
  const y = b.path.split('.');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const [p, q] = [x[i] ?? '', y[i] ?? ''];
    if (p !== q) return p < q ? -1 : 1;
  }
  return x.length - y.length;
}

/** The outline `tree ls` prints: indented names, or full paths when a search flattens the tree. */
export function outline(root: NodeView | undefined, nodes: NodeView[], depth: number, flat: boolean): string {
  const base = root ? root.path.split('.').length : 0;
  const rows = [...(root ? [root] : []), ...[...nodes].sort(byTreeOrder)].map((n) => {
    const level = n.path.split('.').length - base;
    const hidden = !flat && n.childCount > 0 && level >= depth ? ` (+${n.childCount})` : '';
    const name = flat ? n.path : `${'  '.repeat(root ? level : level - 1)}${n.name}${hidden}`;
    // A path-only step carries no counts or labels of its own: it is only the way to the caller's nodes.
    if (n.pathOnly) return [name, '-', '', '(path only)'];
    return [name, n.subtreeMachineCount, labels(n.labels), n.description];
  });
  return table([flat ? 'path' : 'node', 'machines', 'labels', 'description'], rows, flat ? '(no match)\n' : '(empty)\n');
}

/** `k=v` pairs from repeated `--label` options. */
export const parseLabels = (pairs: string[]): Record<string, string> => keyValues(pairs, '--label');

function splitPath(path: string): { parentPath: string | null; name: string } {
  const at = path.lastIndexOf('.');
  return at < 0 ? { parentPath: null, name: path } : { parentPath: path.slice(0, at), name: path.slice(at + 1) };
}

/**
 * Run `call` on `path`; when the server answers that the path is an old one (a rename or move), say
 * so on stderr and run it once more on the node's current path. Resolves to the answer and that path.
 */
export async function following<T>(ctx: CliContext, path: string, call: (path: string) => Promise<T>): Promise<[T, string]> {
  try {
    return [await call(path), path];
  } catch (err) {
    if (!(err instanceof CanopyApiError && err.code === 'moved' && err.movedTo)) throw err;
    ctx.note(`${path} moved to ${err.movedTo}`);
    return [await call(err.movedTo), err.movedTo];
  }
}

/** Adds `canopy tree` and its subcommands. */
export function registerTree(program: Command, ctx: CliContext): void {
  const tree = program.command('tree').description('browse and change the service tree');

  withJson(tree.command('ls [path]').description('show the tree (or the subtree at PATH) as an outline'))
    .option('-d, --depth <n>', 'levels to show below PATH (0-64)', integer(0, 64), 3)
    .option('-q, --query <text>', 'find nodes whose name, path or description contains TEXT')
    .option('-l, --label <key[=value]>', 'find nodes carrying a label')
    .action(async (path: string | undefined, opts: JsonOption & { depth: number; query?: string; label?: string }) => {
      const client = ctx.client();
      const [root, at] = path ? await following(ctx, path, (p) => client.nodes.get(p)) : [undefined, undefined];
      const nodes = await client.nodes.list({ under: at, depth: opts.depth, q: opts.query, label: opts.label });
      const flat = opts.query !== undefined || opts.label !== undefined;
      ctx.print(opts.json, nodes, () => outline(flat ? undefined : root, nodes, opts.depth, flat));
    });

  withJson(tree.command('show <path>').description('show one node')).action(async (path: string, opts: JsonOption) => {
    const client = ctx.client();
    const [n] = await following(ctx, path, (p) => client.nodes.get(p));
    ctx.print(opts.json, n, () =>
      n.pathOnly
        ? fields([['path', n.path], ['access', 'path only: a step towards nodes you can open'], ['children you can see', n.childCount]])
        : fields([
            ['path', n.path], ['id', n.id], ['description', n.description], ['labels', labels(n.labels)], ['children', n.childCount],
            ['machines', `${n.machineCount} here, ${n.subtreeMachineCount} in the subtree`], ['updated', n.updatedAt], ['version', n.version],
            ['you may', n.allowed.join(' ') || '(nothing)'],
          ]),
    );
  });

  withJson(tree.command('add <path>').description('create the node at PATH (its parent must exist)'))
    .option('--description <text>', 'what the node is for', '')
    .option('--label <key=value>', 'a label (repeatable)', collect, [])
    .action(async (path: string, opts: JsonOption & { description: string; label: string[] }) => {
      const client = ctx.client();
      const { parentPath, name } = splitPath(path);
      const create = (parent: string | null) => client.nodes.create({ parentPath: parent, name, description: opts.description, labels: parseLabels(opts.label) });
      const [n] = parentPath === null ? [await create(null)] : await following(ctx, parentPath, create);
      ctx.print(opts.json, n, () => `created ${n.path}\n`);
    });

  withJson(tree.command('mv <path> [new-parent]').description('move the node (and its subtree) under NEW-PARENT, or to the top with --root'))
    .option('--root', 'make it a top-level node')
    .action(async (path: string, parent: string | undefined, opts: JsonOption & { root?: boolean }) => {
      if ((parent === undefined) === (opts.root !== true)) throw new UsageError('give either NEW-PARENT or --root');
      const client = ctx.client();
      const [to] = parent === undefined ? [null] : await following(ctx, parent, async (p) => (await client.nodes.get(p)).path);
      const [n, at] = await following(ctx, path, (p) => client.nodes.move(p, to));
      ctx.print(opts.json, n, () => `moved ${at} to ${n.path}\n`);
    });

  withJson(tree.command('rename <path> <new-name>').description('rename the node; its subtree is re-pathed')).action(
    async (path: string, name: string, opts: JsonOption) => {
      const client = ctx.client();
      const [n, at] = await following(ctx, path, (p) => client.nodes.patch(p, { name }));
      ctx.print(opts.json, n, () => `renamed ${at} to ${n.path}\n`);
    },
  );

  tree
    .command('rm <path>')
    .description('move the node to the trash (it must have no children or machines)')
    .action(async (path: string) => {
      const client = ctx.client();
      const [, at] = await following(ctx, path, (p) => client.nodes.delete(p));
      ctx.out(`removed ${at} (see \`canopy tree trash\`)\n`);
    });

  withJson(tree.command('trash').description('list removed nodes (superusers)')).action(async (opts: JsonOption) => {
    const items = await ctx.client().nodes.trash();
    ctx.print(opts.json, items, () => table(['id', 'path', 'restores as', 'deleted'], items.map((t) => [t.id, t.path, t.restoresAs ?? '(restore its parent first)', t.deletedAt]), '(trash is empty)\n'));
  });

  withJson(tree.command('restore <id>').description('bring a removed node back from the trash (superusers)')).action(
    async (id: string, opts: JsonOption) => {
      const n = await ctx.client().nodes.restore(integer(1, Number.MAX_SAFE_INTEGER)(id));
      ctx.print(opts.json, n, () => `restored ${n.path}\n`);
    },
  );
}
