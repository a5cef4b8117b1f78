/**
 * Every mutation goes through `writer.run`: one transaction that holds the write lock, does the
 * work, appends its audit entries and change events, and notifies the replicas. The caller's own
 * read models have applied the change by the time `run` resolves.
 */
import { sql } from 'drizzle-orm';
import { rows, type Database, type Tx } from '../db/connection.ts';
import { CHANGES_CHANNEL, type ChangeFeed } from './feed.ts';

const WRITE_LOCK = 70_700_002;

/** Who is acting: a user, an agent (machine credential), or the server itself. */
export interface Actor {
  kind: 'user' | 'system' | 'agent';
  id: number | null;
  name: string;
  superuser: boolean;
  /** Set for agents: the machine whose credential the request carried. */
  machineId?: number;
}

export const SYSTEM_ACTOR: Actor = Object.freeze({ kind: 'system', id: null, name: 'system', superuser: true });

export interface AuditEntry {
  operation: string;
  targetKind: string;
  target: string;
  nodeId?: number | null;
  nodePath?: string | null;
  before?: unknown;
  after?: unknown;
}

export interface WriteContext {
  tx: Tx;
  actor: Actor;
  /** Record an audit entry; it commits with the change or not at all. */
  audit(entry: AuditEntry): void;
  /** Publish a change event to every replica's read models once the transaction commits. */
  emit(topic: string, payload: unknown): void;
}

export interface Writer {
  run<T>(actor: Actor, work: (w: WriteContext) => Promise<T>, requestId?: string): Promise<T>;
}

/** Build the writer over `database`, applying changes to this replica through `feed`. */
export function createWriter(database: Database, feed: ChangeFeed): Writer {
  return {
    async run(actor, work, requestId) {
      const entries: AuditEntry[] = [];
      const events: { topic: string; payload: unknown }[] = [];
      let last = 0;
      const result = await database.db.transaction(async (tx) => {
        await tx.execute(sql`SELECT pg_advisory_xact_lock(${WRITE_LOCK})`);
        // Holding the lock, bring the read models level with every committed write, so the work's
        // checks against them (path taken? cycle?) see what the database sees.
        await feed.catchUpWith(tx);
        const out = await work({
          tx,
          actor,
          audit: (e) => entries.push(e),
          emit: (topic, payload) => events.push({ topic, payload }),
        });
        for (const e of entries) {
          await tx.execute(sql`INSERT INTO audit_log
            (actor_id, actor, operation, target_kind, target, node_id, node_path, before, after, request_id)
            VALUES (${actor.id}, ${actor.name}, ${e.operation}, ${e.targetKind}, ${e.target}, ${e.nodeId ?? null},
                    ${e.nodePath ?? null}, ${json(e.before)}::jsonb, ${json(e.after)}::jsonb, ${requestId ?? null})`);
        }
        for (const ev of events) {
          const [row] = await rows<{ revision: string | number }>(
            tx,
            sql`INSERT INTO changes (topic, payload) VALUES (${ev.topic}, ${JSON.stringify(ev.payload)}::jsonb) RETURNING revision`,
          );
          last = Number(row?.revision ?? 0);
        }
        if (events.length > 0) await tx.execute(sql`SELECT pg_notify(${CHANGES_CHANNEL}, ${String(last)})`);
        return out;
      });
      if (last > 0) {
        await feed.catchUp();
        await feed.waitFor(last);
      }
      return result;
    },
  };
}

function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}
