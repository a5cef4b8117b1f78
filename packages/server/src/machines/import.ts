/**
 * Bulk import from CSV or JSON with a report per row: good rows land, bad rows say why. Each row
 * runs in its own savepoint, so a row that fails in the database leaves no trace either. An upsert
 * row changes only what it names: its fields, and its node bindings when it names `nodes`.
 */
import { CanopyError, CreateMachineInput, PatchMachineInput, ValidationError, type ImportReport } from '@canopy/core';
import type { z } from 'zod';
import type { Actor, AuditEntry, WriteContext, Writer } from '../changes/index.ts';
import type { Tx } from '../db/connection.ts';
import { TREE_TOPIC, type TreeChange, type TreeNode } from '../tree/index.ts';
import { changedFields, type MachineService } from './service.ts';
import * as repo from './repo.ts';
import { problemsOf } from './csv.ts';
import { asWritten, followMoves, notesOf } from './moves.ts';

export type ImportMode = 'create' | 'upsert';

/** Authorization per row, decided by the caller; each check throws to refuse the row. */
export interface ImportPolicy {
  /** The actor may create a machine bound to these nodes. */
  create(nodePaths: string[]): void;
  /** The actor may change a machine now bound to `current`, and bind it to the nodes at `bindTo`. */
  update(hostname: string, current: TreeNode[], bindTo: string[]): void;
}
const MAX_ROWS = 100_000;
/**
 * Rows per transaction. One transaction for a whole file held the write lock (and PGlite's only
 * connection) for its full length: heartbeats, logins and every other write waited 20 s behind a
 * 5,000-row import. Each chunk commits on its own, so a later chunk's failure leaves earlier ones in.
 */
export const CHUNK_ROWS = 100;

export { csvRecords } from './csv.ts';

/** Records from a JSON body: an array of machine objects, or `{machines: [...]}`. */
export function jsonRecords(body: unknown): Record<string, unknown>[] {
  const list = Array.isArray(body) ? body : (body as { machines?: unknown } | null)?.machines;
  if (!Array.isArray(list)) throw new ValidationError('expected a JSON array of machines or {"machines": [...]}', [{ path: ['body'], message: 'not an array' }]);
  return list as Record<string, unknown>[];
}

/**
 * Import records; returns the per-row report. Rows land CHUNK_ROWS at a time, each chunk one
 * transaction with its own audit entry. A request that fails (bad file, too many rows, a server
 * error in the first chunk) changes nothing; a server error in a later chunk keeps the chunks before
 * it and reports every row from the failed chunk on as not imported.
 */
export async function importMachines(
  deps: { writer: Writer; machines: MachineService },
  actor: Actor,
  records: unknown[],
  mode: ImportMode,
  policy: ImportPolicy,
): Promise<ImportReport> {
  if (records.length > MAX_ROWS) throw new ValidationError(`at most ${MAX_ROWS} rows per import`, [{ path: ['body'], message: 'too many rows' }]);
  const report: ImportReport = { created: 0, updated: 0, failed: 0, rows: [] };
  await followMoves(deps.machines, records);
  const seen = new Set<string>();
  for (let start = 0; start < records.length; start += CHUNK_ROWS) {
    const end = Math.min(records.length, start + CHUNK_ROWS);
    let part: ImportReport;
    try {
      part = await deps.writer.run(actor, async (w) => {
        const chunk = countsOnce(w);
        const out = await importChunk(deps.machines, chunk.w, records, start, end, seen, mode, policy);
        chunk.emit();
        return out;
      });
    } catch (err) {
      if (start === 0) throw err;
      console.error(`machine import: rows ${start + 1}-${records.length} not imported:`, err);
      for (let i = start; i < records.length; i++) {
        report.failed++;
        report.rows.push({ row: i + 1, ok: false, errors: [`not imported: the server failed at rows ${start + 1}-${end} (see its log); rows 1-${start} were imported`] });
      }
      break;
    }
    report.created += part.created;
    report.updated += part.updated;
    report.failed += part.failed;
    report.rows.push(...part.rows);
    // Between chunks the write lock and the embedded database are free: queued requests go first.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return report;
}

/** Rows `start`..`end` (0-based, end excluded) in the caller's transaction; their report. */
async function importChunk(
  machines: MachineService,
  w: WriteContext,
  records: unknown[],
  start: number,
  end: number,
  seen: Set<string>,
  mode: ImportMode,
  policy: ImportPolicy,
): Promise<ImportReport> {
  const part: ImportReport = { created: 0, updated: 0, failed: 0, rows: [] };
  for (let i = start; i < end; i++) {
    const rec = records[i];
    const row = i + 1;
    const hostname = typeof (rec as { hostname?: unknown })?.hostname === 'string' ? (rec as { hostname: string }).hostname : undefined;
    const unreadable = problemsOf(rec);
    if (unreadable) {
      part.failed++;
      part.rows.push({ row, ...(hostname ? { hostname } : {}), ok: false, errors: unreadable });
      continue;
    }
    const parsed = CreateMachineInput.safeParse(rec);
    if (!parsed.success) {
      part.failed++;
      part.rows.push({ row, ...(hostname ? { hostname } : {}), ok: false, errors: parsed.error.issues.map((x) => `${x.path.join('.') || 'row'}: ${x.message}`) });
      continue;
    }
    const input = parsed.data;
    if (seen.has(input.hostname)) {
      part.failed++;
      part.rows.push({ row, hostname: input.hostname, ok: false, errors: ['hostname appears earlier in this import'] });
      continue;
    }
    seen.add(input.hostname);
    try {
      const action = await inSavepoint(w, (sub) => importOne(machines, sub, input, rec as Record<string, unknown>, mode, policy));
      if (action !== 'skipped') part[action]++;
      part.rows.push({ row, hostname: input.hostname, ok: true, action, ...notesOf(rec) });
    } catch (err) {
      if (!(err instanceof CanopyError)) throw err;
      part.failed++;
      part.rows.push({ row, hostname: input.hostname, ok: false, errors: [asWritten(rec, err.message)] });
    }
  }
  // A chunk that changed nothing is no mutation: no audit entry, so the database stays as it was.
  if (part.created + part.updated > 0) {
    w.audit({ operation: 'machine.import', targetKind: 'import', target: `rows ${start + 1}-${end} of ${records.length}`, after: { created: part.created, updated: part.updated, failed: part.failed } });
  }
  return part;
}

async function importOne(
  machines: MachineService,
  w: WriteContext,
  input: z.infer<typeof CreateMachineInput>,
  rec: Record<string, unknown>,
  mode: ImportMode,
  policy: ImportPolicy,
): Promise<'created' | 'updated' | 'skipped'> {
  const existing = await repo.byHostname(w.tx, input.hostname);
  if (!existing || mode === 'create') {
    policy.create(input.nodes);
    if (existing) throw new ValidationError(`machine '${input.hostname}' already exists (import with mode=upsert to update it)`);
    await machines.createIn(w, input);
    return 'created';
  }
  // Update only what the row names, so a sparse CSV does not blank the rest: bindings are set only
  // when the row has `nodes` (an empty CSV cell counts as absent; JSON `[]` unbinds everywhere).
  const bindTo = 'nodes' in rec ? input.nodes : undefined;
  policy.update(input.hostname, await machines.nodesIn(w.tx, existing.id), bindTo ?? []);
  const { hostname: _h, nodes: _n, ...named } = rec;
  let changed = false;
  if (bindTo === undefined || Object.keys(named).length > 0) {
    const patch = PatchMachineInput.safeParse(named);
    if (!patch.success) throw new ValidationError(patch.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; '));
    await machines.patchIn(w, input.hostname, patch.data);
    changed = changedFields(existing, patch.data).length > 0;
  }
  if (bindTo !== undefined && (await machines.setNodesIn(w, input.hostname, bindTo))) changed = true;
  return changed ? 'updated' : 'skipped';
}

/**
 * The chunk's writes with node machine counts published once, at the end: every row of a chunk
 * re-sends the absolute count of the nodes it binds, so only the last count per node matters, and
 * one change row per machine instead of two is written (about a tenth of a row's statements).
 */
function countsOnce(w: WriteContext): { w: WriteContext; emit(): void } {
  const counts = new Map<number, number>();
  const emit = (topic: string, payload: unknown) => {
    const c = payload as TreeChange;
    if (topic === TREE_TOPIC && c.counts && !c.upsert && !c.remove) for (const [nodeId, n] of c.counts) counts.set(nodeId, n);
    else w.emit(topic, payload);
  };
  return {
    w: { tx: w.tx, actor: w.actor, audit: (e) => w.audit(e), emit },
    emit: () => {
      if (counts.size > 0) w.emit(TREE_TOPIC, { counts: [...counts] } satisfies TreeChange);
    },
  };
}

/** Run `work` in a savepoint; its audit entries and events count only if it succeeds. */
async function inSavepoint<T>(w: WriteContext, work: (sub: WriteContext) => Promise<T>): Promise<T> {
  const audits: AuditEntry[] = [];
  const events: [string, unknown][] = [];
  const out = await w.tx.transaction(async (sp) =>
    work({ tx: sp as unknown as Tx, actor: w.actor, audit: (e) => audits.push(e), emit: (t, p) => events.push([t, p]) }),
  );
  for (const a of audits) w.audit(a);
  for (const [t, p] of events) w.emit(t, p);
  return out;
}
