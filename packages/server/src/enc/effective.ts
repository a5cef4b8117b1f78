/**
 * Inheritance of Puppet configuration down the service tree.
 *
 * - Classes: a node's class set is the one on its own record, or else its nearest ancestor's that
 *   has one. The set is taken whole, never merged: a child that sets classes replaces its parent's,
 *   so an operator reads one record to know what a node runs. `classes: {}` means "none, on purpose".
 * - Top-scope parameters: merged from the root down, the nearer node winning per name. Values are
 *   replaced whole (a hash is not deep-merged).
 * - Environment: the nearest node that sets one, else Puppet's default `production`.
 */
import { DEFAULT_ENVIRONMENT, parentOf } from '@canopy/core';
import type { EffectiveConfig, EncClasses, EncValue } from '@canopy/core';

/**
 * One node's stored association. Every field is optional: a node with no record at all is passed
 * as `{ nodePath }`. `classes`/`environment` null or absent mean "inherit".
 */
export interface AssociationRecord {
  nodePath: string;
  classes?: EncClasses | null | undefined;
  parameters?: Record<string, EncValue> | undefined;
  environment?: string | null | undefined;
}

/** The effective configuration of the last node of `chain` (records from the root down to it). */
export function effectiveConfig(chain: readonly AssociationRecord[]): EffectiveConfig {
  assertChain(chain);
  let classes: EncClasses = {};
  let classesFrom: string | null = null;
  let environment = DEFAULT_ENVIRONMENT;
  let environmentFrom: string | null = null;
  const parameters: EffectiveConfig['parameters'] = {};
  for (const record of chain) {
    if (record.classes !== undefined && record.classes !== null) {
      classes = record.classes;
      classesFrom = record.nodePath;
    }
    if (record.environment !== undefined && record.environment !== null) {
      environment = record.environment;
      environmentFrom = record.nodePath;
    }
    for (const [name, value] of Object.entries(record.parameters ?? {})) {
      parameters[name] = { value, from: record.nodePath };
    }
  }
  return {
    nodePath: chain[chain.length - 1]!.nodePath,
    classes: sortKeys(classes),
    classesFrom,
    parameters: sortKeys(parameters),
    environment,
    environmentFrom,
  };
}

/**
 * Build the chain for `nodePath` from whatever records exist, filling in empty ones for nodes that
 * have none. `records` may hold records of unrelated nodes; they are ignored.
 */
export function chainFor(nodePath: string, records: Iterable<AssociationRecord>): AssociationRecord[] {
  const byPath = new Map<string, AssociationRecord>();
  for (const r of records) byPath.set(r.nodePath, r);
  const chain: AssociationRecord[] = [];
  for (let p: string | null = nodePath; p !== null; p = parentOf(p)) chain.push(byPath.get(p) ?? { nodePath: p });
  return chain.reverse();
}

// A chain out of order would silently invert "nearer wins"; refuse it loudly.
function assertChain(chain: readonly AssociationRecord[]): void {
  if (chain.length === 0) throw new Error('effectiveConfig: the chain is empty');
  const first = chain[0]!;
  if (parentOf(first.nodePath) !== null) {
    throw new Error(`effectiveConfig: the chain must start at a root, not ${first.nodePath}`);
  }
  for (let i = 1; i < chain.length; i++) {
    const child = chain[i]!.nodePath;
    const parent = chain[i - 1]!.nodePath;
    if (parentOf(child) !== parent) throw new Error(`effectiveConfig: ${child} does not follow its parent ${parent}`);
  }
}

// Stable key order makes rendered YAML and explain text reproducible.
function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}
