/**
 * Bulk import from CSV or JSON with a report per row: good rows land, bad rows say why. Each row
 * runs in its own savepoint, so a row that fails in the database leaves no trace either. An upsert
 * row changes only what it names: its fields, and its node bindings when it names `nodes`.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { CanopyError, CreateMachineInput, PatchMachineInput, ValidationError, type ImportReport } from '@canopy/core';
import type { z } from 'zod';
import type { Actor, AuditEntry, WriteContext, Writer } from '../changes/index.ts';
import type { Tx } from '../db/connection.ts';
import type { TreeNode } from '../tree/index.ts';
import type { MachineService } from './service.ts';
import * as repo from './repo.ts';

export type ImportMode = 'create' | 'upsert';

/** Authorization per row, decided by the caller; each check throws to refuse the row. */
export interface ImportPolicy {
  /** The actor may create a machine bound to these nodes. */
  create(nodePaths: string[]): void;
  /** The actor may change a machine now bound to `current`, and bind it to the nodes at `bindTo`. */
  update(hostname: string, current: TreeNode[], bindTo: string[]): void;
}
const MAX_ROWS = 100_000;

/** Turn CSV text into records keyed by header; lists use `;` and labels `k=v;k=v`. */
export function csvRecords(text: string): Record<string, unknown>[] {
  // PostgreSQL cannot store NUL in text or jsonb: refuse the file rather than fail half-way.
  if (text.includes('\u0000')) throw new ValidationError('malformed CSV: contains a NUL byte', [{ path: ['body'], message: 'contains a NUL byte' }]);
  let raw: Record<string, string>[];
  try {
    raw = parseCsv(text, { columns: (h: string[]) => h.map((c) => c.trim()), skip_empty_lines: true, trim: true, bom: true, relax_column_count: false });
  } catch (err) {
    throw new ValidationError(`malformed CSV: ${(err as Error).message}`, [{ path: ['body'], message: (err as Error).message }]);
  }
  return raw.map((r) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) {
      if (v === '') continue;
      const key = k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
      if (key === 'ips' || key === 'nodes') out[key] = v.split(/[;\s]+/).filter(Boolean);
      else if (key === 'labels') out[key] = Object.fromEntries(v.split(';').filter(Boolean).map((kv) => [kv.split('=')[0]?.trim() ?? '', kv.slice(kv.indexOf('=') + 1).trim()]));
      else if (key === 'cpuCores' || key === 'memoryMb' || key === 'diskGb') out[key] = /^\d+$/.test(v) ? Number(v) : v;
      else out[key] = v;
    }
    return out;
  });
}

/** Records from a JSON body: an array of machine objects, or `{machines: [...]}`. */
export function jsonRecords(body: unknown): Record<string, unknown>[] {
  const list = Array.isArray(body) ? body : (body as { machines?: unknown } | null)?.machines;
  if (!Array.isArray(list)) throw new ValidationError('expected a JSON array of machines or {"machines": [...]}', [{ path: ['body'], message: 'not an array' }]);
  return list as Record<string, unknown>[];
}

/** Import records; returns the per-row report. */
export async function importMachines(
  deps: { writer: Writer; machines: MachineService },
  actor: Actor,
  records: unknown[],
  mode: ImportMode,
  policy: ImportPolicy,
): Promise<ImportReport> {
  if (records.length > MAX_ROWS) throw new ValidationError(`at most ${MAX_ROWS} rows per import`, [{ path: ['body'], message: 'too many rows' }]);
  const report: ImportReport = { created: 0, updated: 0, failed: 0, rows: [] };
  await deps.writer.run(actor, async (w) => {
    const seen = new Set<string>();
    for (const [i, rec] of records.entries()) {
      const row = i + 1;
      const hostname = typeof (rec as { hostname?: unknown })?.hostname === 'string' ? (rec as { hostname: string }).hostname : undefined;
      const parsed = CreateMachineInput.safeParse(rec);
      if (!parsed.success) {
        report.failed++;
        report.rows.push({ row, ...(hostname ? { hostname } : {}), ok: false, errors: parsed.error.issues.map((x) => `${x.path.join('.') || 'row'}: ${x.message}`) });
        continue;
      }
      const input = parsed.data;
      if (seen.has(input.hostname)) {
        report.failed++;
        report.rows.push({ row, hostname: input.hostname, ok: false, errors: ['hostname appears earlier in this import'] });
        continue;
      }
      seen.add(input.hostname);
      try {
        const action = await inSavepoint(w, (sub) => importOne(deps.machines, sub, input, rec as Record<string, unknown>, mode, policy));
        if (action !== 'skipped') report[action]++;
        report.rows.push({ row, hostname: input.hostname, ok: true, action });
      } catch (err) {
        if (!(err instanceof CanopyError)) throw err;
        report.failed++;
        report.rows.push({ row, hostname: input.hostname, ok: false, errors: [err.message] });
      }
    }
    // An import that changed nothing is no mutation: no audit entry, so the database stays as it was.
    if (report.created + report.updated > 0) {
      w.audit({ operation: 'machine.import', targetKind: 'import', target: `${records.length} rows`, after: { created: report.created, updated: report.updated, failed: report.failed } });
    }
  });
  return report;
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
    changed = true;
  }
  if (bindTo !== undefined && (await machines.setNodesIn(w, input.hostname, bindTo))) changed = true;
  return changed ? 'updated' : 'skipped';
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
