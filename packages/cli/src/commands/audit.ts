/** `canopy audit`: who changed what, newest first. */
import type { Command } from 'commander';
import type { AuditEntry } from '@canopy/sdk/client';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { table } from '../output.ts';
import { integer } from './options.ts';

interface AuditOptions extends JsonOption {
  under?: string;
  user?: string;
  operation?: string;
  since?: string;
  limit: number;
}

/** Audit entries as a table for people. */
export function auditTable(items: AuditEntry[]): string {
  return table(
    ['at', 'user', 'operation', 'target', 'node'],
    items.map((e) => [e.at, e.actor, e.operation, `${e.targetKind} ${e.target}`, e.nodePath]),
    '(no entries)\n',
  );
}

/** Adds `canopy audit`. */
export function registerAudit(program: Command, ctx: CliContext): void {
  withJson(program.command('audit').description('read the audit log (newest first); non-superusers must give --under'))
    .option('--under <path>', 'entries about this subtree')
    .option('--user <username>', 'entries by this user')
    .option('--operation <op>', 'entries of this operation, e.g. tree.create')
    .option('--since <iso-time>', 'entries at or after this time')
    .option('-n, --limit <n>', 'how many entries (1-10000)', integer(1, 10000), 50)
    .action(async (opts: AuditOptions) => {
      const client = ctx.client();
      const items: AuditEntry[] = [];
      let cursor: string | undefined;
      // The server pages at 1000; follow the cursor until the limit is met or the log runs out.
      do {
        const page = await client.audit.list({
          under: opts.under,
          user: opts.user,
          operation: opts.operation,
          since: opts.since,
          limit: Math.min(1000, opts.limit - items.length),
          cursor,
        });
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor && items.length < opts.limit);
      ctx.print(opts.json, items, () => auditTable(items));
    });
}
