/**
 * A node's effective cron table: walking from the root down to the node, each node's own entries
 * replace those of the same name above it, and a mask (`disabled`) removes one. A machine runs the
 * union of the tables of the nodes it is bound to, each entry once (by declaring node and name).
 */
import { Cron } from 'croner';
import type { CronDocEntry, CronOwn, CronSpec } from './schema.ts';

/** One node on the line from the root, with what it declares. */
export interface CronLineNode {
  id: number;
  path: string;
  own: ReadonlyMap<string, CronOwn> | undefined;
}

/** An effective entry: what runs, and the node that declared it. */
export interface CronEffective {
  name: string;
  spec: CronSpec;
  fromId: number;
  from: string;
}

/** A name disabled on the way down: which node disabled it, and where the entry came from. */
export interface CronMasked {
  name: string;
  disabledAt: string;
  from: string;
}

/** The effective table of the last node of `line` (root first), by name, plus the masked names. */
export function effectiveCron(line: readonly CronLineNode[]): { entries: Map<string, CronEffective>; masked: Map<string, CronMasked> } {
  const entries = new Map<string, CronEffective>();
  const masked = new Map<string, CronMasked>();
  for (const node of line) {
    for (const own of node.own?.values() ?? []) {
      if (own.spec === null) {
        const was = entries.get(own.name);
        entries.delete(own.name);
        if (was) masked.set(own.name, { name: own.name, disabledAt: node.path, from: was.from });
      } else {
        entries.set(own.name, { name: own.name, spec: own.spec, fromId: node.id, from: node.path });
        masked.delete(own.name);
      }
    }
  }
  return { entries, masked };
}

/** The key a machine's agent knows an entry by. */
export const cronKey = (e: Pick<CronEffective, 'fromId' | 'name'>): string => `${e.fromId}/${e.name}`;

/** A machine's table from the lines of every node it is bound to: each entry once, in key order. */
export function machineCron(lines: readonly (readonly CronLineNode[])[]): CronDocEntry[] {
  const out = new Map<string, CronDocEntry>();
  for (const line of lines) {
    for (const e of effectiveCron(line).entries.values()) out.set(cronKey(e), { key: cronKey(e), name: e.name, node: e.from, spec: e.spec });
  }
  return [...out.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The next `n` times `spec` fires after `from`, as ISO strings. */
export function nextCronRuns(spec: Pick<CronSpec, 'schedule' | 'timezone'>, n: number, from: Date = new Date()): string[] {
  const c = new Cron(spec.schedule, { timezone: spec.timezone, paused: true, mode: '5-or-6-parts' });
  try {
    return c.nextRuns(n, from).map((d) => d.toISOString());
  } finally {
    c.stop();
  }
}
