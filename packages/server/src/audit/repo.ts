/** Reading the append-only audit log (entries are written by the writer, in the change's transaction). */
import { and, desc, eq, gte, inArray, like, lt, lte, or, type SQL } from 'drizzle-orm';
import type { Queryable } from '../db/connection.ts';
import { auditLog } from '../db/tables.ts';

export interface AuditFilter {
  /** The subtree: ids of its live nodes, and its path (which also catches deleted nodes' entries). */
  nodeIds?: number[] | undefined;
  underPath?: string | undefined;
  actor?: string | undefined;
  operation?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  /** Entries older than this id (pagination, newest first). */
  before?: number | undefined;
}

/** Newest first. */
export function queryAudit(q: Queryable, f: AuditFilter, limit: number) {
  const where: SQL[] = [];
  if (f.nodeIds) {
    const byId = inArray(auditLog.nodeId, f.nodeIds.length ? f.nodeIds : [-1]);
    where.push(f.underPath ? (or(byId, eq(auditLog.nodePath, f.underPath), like(auditLog.nodePath, `${f.underPath}.%`)) as SQL) : byId);
  }
  if (f.actor) where.push(eq(auditLog.actor, f.actor));
  if (f.operation) where.push(eq(auditLog.operation, f.operation));
  if (f.since) where.push(gte(auditLog.at, f.since));
  if (f.until) where.push(lte(auditLog.at, f.until));
  if (f.before) where.push(lt(auditLog.id, f.before));
  return q
    .select()
    .from(auditLog)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(auditLog.id))
    .limit(limit);
}
