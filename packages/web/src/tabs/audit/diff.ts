/** A field-by-field comparison of an audit entry's before and after values. */

export interface DiffRow {
  field: string;
  before: string | undefined;
  after: string | undefined;
  change: 'added' | 'removed' | 'changed' | 'same';
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A short text for one value; objects and arrays as compact JSON. */
export function show(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * Rows for every top-level field of either side. Values that are not objects compare as one row
 * named "value". Unchanged fields are kept so the reader sees the whole record.
 */
export function diffRows(before: unknown, after: unknown): DiffRow[] {
  if (!isRecord(before) && !isRecord(after)) {
    const b = before === null ? undefined : show(before);
    const a = after === null ? undefined : show(after);
    return b === undefined && a === undefined ? [] : [{ field: 'value', before: b, after: a, change: rowChange(b, a) }];
  }
  const b = isRecord(before) ? before : {};
  const a = isRecord(after) ? after : {};
  const fields = [...new Set([...Object.keys(b), ...Object.keys(a)])];
  return fields.map((field) => {
    const bv = field in b ? show(b[field]) : undefined;
    const av = field in a ? show(a[field]) : undefined;
    return { field, before: bv, after: av, change: rowChange(bv, av) };
  });
}

function rowChange(b: string | undefined, a: string | undefined): DiffRow['change'] {
  if (b === undefined) return a === undefined ? 'same' : 'added';
  if (a === undefined) return 'removed';
  return a === b ? 'same' : 'changed';
}
