/** SQL for machine credentials. */
import { and, asc, eq } from 'drizzle-orm';
import type { Queryable } from '../db/connection.ts';
import { machineCredentials } from './tables.ts';

const view = {
  id: machineCredentials.id,
  name: machineCredentials.name,
  prefix: machineCredentials.prefix,
  createdBy: machineCredentials.createdBy,
  createdAt: machineCredentials.createdAt,
};

export type CredentialRow = { id: number; name: string; prefix: string; createdBy: string; createdAt: string };

export async function insert(q: Queryable, v: { machineId: number; name: string; secretHash: string; prefix: string; createdBy: string }): Promise<CredentialRow> {
  const [row] = await q.insert(machineCredentials).values(v).returning(view);
  return row as CredentialRow;
}

export async function byName(q: Queryable, machineId: number, name: string): Promise<CredentialRow | undefined> {
  const [row] = await q.select(view).from(machineCredentials).where(and(eq(machineCredentials.machineId, machineId), eq(machineCredentials.name, name)));
  return row;
}

export function list(q: Queryable, machineId: number): Promise<CredentialRow[]> {
  return q.select(view).from(machineCredentials).where(eq(machineCredentials.machineId, machineId)).orderBy(asc(machineCredentials.name));
}

/** Delete one credential; returns its secret's hash (to drop it from caches), or undefined. */
export async function remove(q: Queryable, machineId: number, id: number): Promise<{ row: CredentialRow; hash: string } | undefined> {
  const [row] = await q
    .delete(machineCredentials)
    .where(and(eq(machineCredentials.machineId, machineId), eq(machineCredentials.id, id)))
    .returning({ ...view, hash: machineCredentials.secretHash });
  if (!row) return undefined;
  const { hash, ...rest } = row;
  return { row: rest, hash };
}

export async function machineByHash(q: Queryable, hash: string): Promise<number | undefined> {
  const [row] = await q.select({ machineId: machineCredentials.machineId }).from(machineCredentials).where(eq(machineCredentials.secretHash, hash));
  return row?.machineId;
}
