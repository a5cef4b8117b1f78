/** SQL for the ENC: the catalog row, the default class set, node associations. */
import { eq, sql } from 'drizzle-orm';
import type { CatalogClass, EncClasses, EncValue } from '@canopy/core';
import type { Queryable } from '../db/connection.ts';
import { nodePuppet, puppetCatalog, puppetDefaults } from './tables.ts';

export type CatalogRow = typeof puppetCatalog.$inferSelect;
export type DefaultsRow = typeof puppetDefaults.$inferSelect;
export type AssociationRow = typeof nodePuppet.$inferSelect;

export async function loadCatalog(q: Queryable, lock = false): Promise<CatalogRow> {
  const base = q.select().from(puppetCatalog).where(eq(puppetCatalog.id, 1));
  const [row] = lock ? await base.for('update') : await base;
  if (!row) throw new Error('puppet_catalog row is missing: migration 0200 not applied?');
  return row;
}

/** Store new catalog content; a fetch that brought it also records its time and clears the error. */
export async function saveCatalog(
  q: Queryable,
  v: { classes: CatalogClass[]; source: 'url' | 'upload'; sourceUrl: string | null; sha256: string },
): Promise<CatalogRow> {
  const fetched = v.source === 'url' ? sql`now()` : sql`${puppetCatalog.fetchedAt}`;
  const [row] = await q
    .update(puppetCatalog)
    .set({
      classes: v.classes,
      source: v.source,
      sourceUrl: v.sourceUrl,
      sha256: v.sha256,
      version: sql`${puppetCatalog.version} + 1`,
      updatedAt: sql`now()`,
      fetchedAt: fetched,
      lastAttemptAt: v.source === 'url' ? sql`now()` : sql`${puppetCatalog.lastAttemptAt}`,
      lastError: v.source === 'url' ? null : sql`${puppetCatalog.lastError}`,
    })
    .where(eq(puppetCatalog.id, 1))
    .returning();
  return row as CatalogRow;
}

/** Record the outcome of a fetch that did not change the classes (same content, or a failure). */
export async function recordFetch(q: Queryable, url: string, error: string | null): Promise<CatalogRow> {
  const [row] = await q
    .update(puppetCatalog)
    .set({
      lastAttemptAt: sql`now()`,
      lastError: error,
      ...(error === null ? { fetchedAt: sql`now()`, sourceUrl: url } : {}),
    })
    .where(eq(puppetCatalog.id, 1))
    .returning();
  return row as CatalogRow;
}

export async function loadDefaults(q: Queryable): Promise<DefaultsRow> {
  const [row] = await q.select().from(puppetDefaults).where(eq(puppetDefaults.id, 1));
  if (!row) throw new Error('puppet_defaults row is missing: migration 0200 not applied?');
  return row;
}

export async function saveDefaults(q: Queryable, v: { classes: EncClasses; environment: string }): Promise<DefaultsRow> {
  const [row] = await q
    .update(puppetDefaults)
    .set({ classes: v.classes, environment: v.environment, version: sql`${puppetDefaults.version} + 1`, updatedAt: sql`now()` })
    .where(eq(puppetDefaults.id, 1))
    .returning();
  return row as DefaultsRow;
}

export function loadAssociations(q: Queryable): Promise<AssociationRow[]> {
  return q.select().from(nodePuppet);
}

export async function lockAssociation(q: Queryable, nodeId: number): Promise<AssociationRow | undefined> {
  const [row] = await q.select().from(nodePuppet).where(eq(nodePuppet.nodeId, nodeId)).for('update');
  return row;
}

/** Insert or replace a node's association, bumping its version. */
export async function upsertAssociation(
  q: Queryable,
  v: { nodeId: number; classes: EncClasses | null; parameters: Record<string, EncValue>; environment: string | null; updatedBy: string },
): Promise<AssociationRow> {
  const [row] = await q
    .insert(nodePuppet)
    .values(v)
    .onConflictDoUpdate({
      target: nodePuppet.nodeId,
      set: {
        classes: v.classes,
        parameters: v.parameters,
        environment: v.environment,
        updatedBy: v.updatedBy,
        version: sql`${nodePuppet.version} + 1`,
        updatedAt: sql`now()`,
      },
    })
    .returning();
  return row as AssociationRow;
}

export async function deleteAssociation(q: Queryable, nodeId: number): Promise<boolean> {
  const res = await q.delete(nodePuppet).where(eq(nodePuppet.nodeId, nodeId)).returning({ nodeId: nodePuppet.nodeId });
  return res.length > 0;
}
