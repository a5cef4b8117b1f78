/** `canopy token …`: API tokens for scripts; superusers also list and revoke other people's. */
import type { Command } from 'commander';
import type { z } from 'zod';
import type { NewTokenView, TokenView } from '@canopy/core';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { table, UsageError } from '../output.ts';
import { integer } from './options.ts';

type Token = z.output<typeof TokenView>;
type NewToken = z.output<typeof NewTokenView>;

interface ListOptions extends JsonOption {
  all?: boolean;
  user?: string;
}

/** Every page of `GET /tokens` for the query. */
async function allTokens(ctx: CliContext, query: URLSearchParams): Promise<Token[]> {
  const out: Token[] = [];
  for (let cursor: string | undefined; ; ) {
    if (cursor) query.set('cursor', cursor);
    const page = await ctx.client().request<{ items: Token[]; nextCursor?: string }>('GET', `/tokens?${query}`);
    out.push(...page.items);
    if (!page.nextCursor) return out;
    cursor = page.nextCursor;
  }
}

function state(t: Token, now: number): string {
  if (t.revokedAt) return `revoked ${t.revokedAt}`;
  if (t.expiresAt && Date.parse(t.expiresAt) <= now) return 'expired';
  return 'active';
}

/** Adds `canopy token create|ls|revoke`. */
export function registerToken(program: Command, ctx: CliContext): void {
  const token = program.command('token').description('create, list and revoke API tokens (superusers: anyone\'s)');

  withJson(token.command('create <name>').description('create an API token for scripts; it is printed once'))
    .option('--days <n>', 'expire after N days (default: 90)', integer(1, 3650))
    .option('--never', 'never expire (only when you mean it: revoke it by hand when done)')
    .action(async (name: string, opts: JsonOption & { days?: number; never?: boolean }) => {
      if (opts.days !== undefined && opts.never) throw new UsageError('give --days or --never, not both');
      const body = { name, ...(opts.days !== undefined ? { expiresInDays: opts.days } : {}), ...(opts.never ? { never: true } : {}) };
      const t = await ctx.client().request<NewToken>('POST', '/tokens', body);
      ctx.print(opts.json, t, () => `${t.token}\n`);
      if (!opts.json) ctx.note(`token '${t.name}' (id ${t.id}) created, ${t.expiresAt ? `expiring ${t.expiresAt}` : 'never expiring'}; it is not shown again`);
    });

  withJson(token.command('ls').description('list your API tokens; --user or --all lists others\' (superusers)'))
    .option('--all', "everyone's tokens")
    .option('--user <username>', "one user's tokens")
    .action(async (opts: ListOptions) => {
      if (opts.all && opts.user !== undefined) throw new UsageError('give --all or --user, not both');
      const query = new URLSearchParams();
      if (opts.all) query.set('all', 'true');
      if (opts.user !== undefined) query.set('user', opts.user);
      const tokens = await allTokens(ctx, query);
      const now = Date.now();
      ctx.print(opts.json, tokens, () =>
        table(['id', 'user', 'name', 'prefix', 'expires', 'state'], tokens.map((t) => [t.id, t.username, t.name, t.prefix, t.expiresAt ?? 'never', state(t, now)]), '(no tokens)\n'),
      );
    });

  const revoke = async (id: string, opts: JsonOption) => {
    const n = integer(1, Number.MAX_SAFE_INTEGER)(id);
    await ctx.client().request<void>('DELETE', `/tokens/${n}`);
    ctx.print(opts.json, { revoked: n }, () => `revoked token ${n}\n`);
  };
  withJson(token.command('revoke <id>').alias('rm').description('revoke a token by id (your own; superusers: anyone\'s)')).action(revoke);
}
