/** The only SQL of the per-node init commands. */
import { sql } from 'drizzle-orm';
import type { InitCommand } from '@canopy/core';
import { rows, type Queryable } from '../db/connection.ts';

export interface InitCommandRow {
  nodeId: number;
  command: InitCommand;
  updatedBy: string;
  updatedAt: string;
}

const COLUMNS = sql`node_id AS "nodeId", command, updated_by AS "updatedBy", updated_at AS "updatedAt"`;

/** Every node's own init command (few: set on a handful of subtrees). */
export async function allInitCommands(q: Queryable): Promise<Map<number, InitCommandRow>> {
  const out = await rows<InitCommandRow>(q, sql`SELECT ${COLUMNS} FROM node_init_commands`);
  return new Map(out.map((r) => [r.nodeId, r]));
}

/** One node's own command, locked when `lock`. */
export async function initCommandOf(q: Queryable, nodeId: number, lock = false): Promise<InitCommandRow | undefined> {
  const [row] = await rows<InitCommandRow>(q, sql`SELECT ${COLUMNS} FROM node_init_commands WHERE node_id = ${nodeId} ${lock ? sql`FOR UPDATE` : sql``}`);
  return row;
}

/** Set a node's command. */
export async function putInitCommand(q: Queryable, nodeId: number, command: InitCommand, by: string): Promise<InitCommandRow> {
  const [row] = await rows<InitCommandRow>(q, sql`INSERT INTO node_init_commands (node_id, command, updated_by, updated_at)
    VALUES (${nodeId}, ${JSON.stringify(command)}::jsonb, ${by}, now())
    ON CONFLICT (node_id) DO UPDATE SET command = EXCLUDED.command, updated_by = EXCLUDED.updated_by, updated_at = now()
    RETURNING ${COLUMNS}`);
  return row!;
}

/** Remove a node's command; false when it had none. */
export async function deleteInitCommand(q: Queryable, nodeId: number): Promise<boolean> {
  const out = await rows<{ nodeId: number }>(q, sql`DELETE FROM node_init_commands WHERE node_id = ${nodeId} RETURNING node_id AS "nodeId"`);
  return out.length > 0;
}
