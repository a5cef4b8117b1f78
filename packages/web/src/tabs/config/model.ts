/**
 * The Config tab's data: the ENC API's shapes as the console reads them, and the editable draft of
 * a node's own Puppet record — turned back into the API body with every typed value checked.
 */
import type { EncClasses, EncValue } from '@canopy/core';

/** One class the Puppet code base offers; `parameters: null` when the catalog does not list them. */
export interface CatalogClass {
  name: string;
  parameters: string[] | null;
}

/** `GET /puppet/classes`. */
export interface CatalogStatus {
  classes: CatalogClass[];
  source: 'none' | 'url' | 'upload';
  sourceUrl: string | null;
  version: number;
  updatedAt: string;
  url: string | null;
  refreshSeconds: number;
  fetchedAt: string | null;
  lastAttemptAt: string | null;
  lastError: string | null;
}

/** `GET /puppet/defaults`. */
export interface Defaults {
  classes: EncClasses;
  environment: string;
  version: number;
  updatedAt: string;
}

/** `GET /nodes/{path}/puppet`: the node's own record and what it ends up with after inheritance. */
export interface NodePuppet {
  nodeId: number;
  nodePath: string;
  own: {
    classes: EncClasses | null;
    parameters: Record<string, EncValue>;
    environment: string | null;
    version: number;
    updatedAt: string;
    updatedBy: string;
  } | null;
  effective: {
    nodePath: string;
    classes: EncClasses;
    classesFrom: string | null;
    parameters: Record<string, { value: EncValue; from: string }>;
    environment: string;
    environmentFrom: string | null;
  };
  catalogIssues: { path: (string | number)[]; message: string }[];
}

/** An install request (`/provisioning`). */
export interface InstallRequest {
  id: number;
  hostname: string;
  nodePath: string | null;
  zone: string;
  idc: string;
  os: string;
  requestedBy: string;
  note: string;
  state: string;
  createdAt: string;
  expiresAt: string;
}

/** How a value typed in a form is read: as the literal text, or parsed as JSON (numbers, lists, …). */
export type ValueKind = 'string' | 'json';

export interface ParamRow {
  name: string;
  kind: ValueKind;
  text: string;
}

export interface ClassDraft {
  name: string;
  params: ParamRow[];
}

/** `inherit`: classes: null; `none`: classes: {}; `own`: the listed classes. */
export type ClassMode = 'inherit' | 'none' | 'own';

/** The form's values for one node's own record. */
export interface ConfigDraft {
  classMode: ClassMode;
  classes: ClassDraft[];
  parameters: ParamRow[];
  /** Empty: inherited. */
  environment: string;
}

/** A form field (antd name path) and what is wrong with it. */
export interface DraftError {
  field: (string | number)[];
  message: string;
}

/** The body of `PUT /nodes/{path}/puppet`. */
export interface AssociationBody {
  classes: EncClasses | null;
  parameters: Record<string, EncValue>;
  environment: string | null;
}

// Mirrors Puppet's parameter grammar so a typo is caught before the round trip; the server decides.
const PARAM_NAME = /^[a-z][a-z0-9_]*$/;

/** A parameter as a form row: strings stay text, anything else is shown as JSON. */
export function rowOf(name: string, value: EncValue): ParamRow {
  return typeof value === 'string' ? { name, kind: 'string', text: value } : { name, kind: 'json', text: JSON.stringify(value) };
}

/** Form rows of a parameter hash. */
export function rowsOf(params: Record<string, EncValue>): ParamRow[] {
  return Object.entries(params).map(([k, v]) => rowOf(k, v));
}

/** Form drafts of a class hash. */
export function classDraftsOf(classes: EncClasses): ClassDraft[] {
  return Object.entries(classes).map(([name, params]) => ({ name, params: rowsOf(params) }));
}

/** The draft for a node's stored record (none stored: inherit everything). */
export function draftOf(own: NodePuppet['own']): ConfigDraft {
  const classes = own?.classes ?? null;
  return {
    classMode: classes === null ? 'inherit' : Object.keys(classes).length === 0 ? 'none' : 'own',
    classes: classDraftsOf(classes ?? {}),
    parameters: rowsOf(own?.parameters ?? {}),
    environment: own?.environment ?? '',
  };
}

/** Read rows back into a hash; `field` is where the rows sit in the form. */
export function paramsOf(rows: readonly (ParamRow | undefined)[], field: (string | number)[], errors: DraftError[]): Record<string, EncValue> {
  const out: Record<string, EncValue> = {};
  rows.forEach((row, i) => {
    if (!row) return;
    const name = (row.name ?? '').trim();
    if (!PARAM_NAME.test(name)) {
      errors.push({ field: [...field, i, 'name'], message: name ? 'lower-case letters, digits and _, starting with a letter' : 'a parameter needs a name' });
    } else if (Object.hasOwn(out, name)) {
      errors.push({ field: [...field, i, 'name'], message: `'${name}' is already set above` });
    }
    const text = row.text ?? '';
    if (row.kind === 'string') {
      out[name] = text;
      return;
    }
    try {
      if (text.trim() === '') throw new Error('empty: write "" for an empty string, or null');
      out[name] = JSON.parse(text) as EncValue;
    } catch (err) {
      errors.push({ field: [...field, i, 'text'], message: `not valid JSON (${err instanceof Error ? err.message : String(err)})` });
    }
  });
  return out;
}

/** Read class drafts back into a class hash. */
export function classesOf(drafts: readonly (ClassDraft | undefined)[], errors: DraftError[], field: (string | number)[] = ['classes']): EncClasses {
  const out: EncClasses = {};
  drafts.forEach((d, i) => {
    if (!d) return;
    if (Object.hasOwn(out, d.name)) errors.push({ field: [...field, i, 'name'], message: `class '${d.name}' is listed twice` });
    out[d.name] = paramsOf(d.params ?? [], [...field, i, 'params'], errors);
  });
  return out;
}

/** The API body for a draft, or the form errors that stop it from being sent. */
export function bodyOf(draft: ConfigDraft): { body: AssociationBody; errors: DraftError[] } {
  const errors: DraftError[] = [];
  const own = classesOf(draft.classes ?? [], errors);
  const classes = draft.classMode === 'inherit' ? null : draft.classMode === 'none' ? {} : own;
  if (draft.classMode === 'own' && Object.keys(own).length === 0) {
    errors.push({ field: ['classMode'], message: 'pick at least one class, or choose "No classes"' });
  }
  const parameters = paramsOf(draft.parameters ?? [], ['parameters'], errors);
  const environment = (draft.environment ?? '').trim();
  return { body: { classes, parameters, environment: environment === '' ? null : environment }, errors };
}

/**
 * The form field a server issue is about. Server paths name classes and parameters by name; the
 * form holds them by position. A class parameter's own path may be about its name or its value:
 * the server's wording tells them apart.
 */
export function fieldOfIssue(path: readonly (string | number)[], message: string, draft: ConfigDraft, base = 'classes'): (string | number)[] | undefined {
  const [head, key, param, ...rest] = path.map(String);
  const rowField = (rows: readonly ParamRow[], name: string | undefined, list: (string | number)[], deeper: boolean) => {
    const j = rows.findIndex((r) => r?.name === name);
    if (j < 0) return undefined;
    return [...list, j, !deeper && /name|key in record|no parameter|reserved|set by Canopy/i.test(message) ? 'name' : 'text'];
  };
  if (head === 'environment') return ['environment'];
  if (head === 'parameters') return key === undefined ? undefined : rowField(draft.parameters, key, ['parameters'], param !== undefined);
  if (head !== base) return undefined;
  if (key === undefined) return ['classMode'];
  const i = draft.classes.findIndex((c) => c?.name === key);
  if (i < 0) return undefined;
  if (param === undefined) return [base, i, 'name'];
  return rowField(draft.classes[i]?.params ?? [], param, [base, i, 'params'], rest.length > 0);
}

/** A value as Puppet will see it, unambiguous about type: strings quoted, numbers bare. */
export function showValue(v: unknown): string {
  return JSON.stringify(v) ?? 'undefined';
}

/** One line of the effective-result table. */
export interface EffectiveRow {
  key: string;
  what: 'environment' | 'class' | 'class parameter' | 'parameter' | 'note';
  name: string;
  /** For a class parameter: its class. */
  owner?: string;
  value: string | null;
  /** The node whose record supplied it; null: nothing in the chain sets it. */
  from: string | null;
}

/** The effective configuration as table rows, with where each item came from. */
export function effectiveRows(e: NodePuppet['effective']): EffectiveRow[] {
  const rows: EffectiveRow[] = [{ key: 'env', what: 'environment', name: '', value: e.environment, from: e.environmentFrom }];
  const classes = Object.entries(e.classes);
  if (classes.length === 0) {
    const why = e.classesFrom === null ? 'no node on the path sets classes' : 'classes deliberately set to none';
    rows.push({ key: 'no-classes', what: 'note', name: why, value: null, from: e.classesFrom });
  }
  for (const [name, params] of classes) {
    rows.push({ key: `c:${name}`, what: 'class', name, value: null, from: e.classesFrom });
    for (const [p, v] of Object.entries(params)) rows.push({ key: `c:${name}:${p}`, what: 'class parameter', name: p, owner: name, value: showValue(v), from: e.classesFrom });
  }
  for (const [name, { value, from }] of Object.entries(e.parameters)) rows.push({ key: `p:${name}`, what: 'parameter', name, value: showValue(value), from });
  return rows;
}
