/**
 * Parameter values an operator may give a Puppet class or a node: the JSON subset Puppet's YAML
 * loader turns back into the same data (String, Integer/Float, Boolean, undef, Array, Hash).
 */
import type { FieldIssue } from '../errors.ts';
import { unsafeTextProblem } from '../schemas/common.ts';

/** A class or top-scope parameter value. */
export type EncValue = string | number | boolean | null | EncValue[] | { [key: string]: EncValue };

/** Class name → that class's parameters. */
export type EncClasses = Record<string, Record<string, EncValue>>;

/** Bounds that keep one value small enough to store, render and diff cheaply. */
export const VALUE_LIMITS = Object.freeze({
  /** Arrays/hashes nested inside one value (a scalar is depth 0). */
  maxDepth: 8,
  /** Elements of one array or keys of one hash. */
  maxEntries: 1000,
  /** Scalars, arrays and hashes in one value, counted together. */
  maxNodes: 10_000,
  /** Characters in one string value. */
  maxString: 16_384,
  /** Characters in one hash key. */
  maxKey: 256,
});

/**
 * Every way `value` breaks the value rules, each with its path below `base`. Iterative, so a
 * maliciously deep input cannot exhaust the stack before the depth limit is noticed.
 */
export function valueIssues(value: unknown, base: (string | number)[] = []): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const stack: { v: unknown; path: (string | number)[]; depth: number }[] = [{ v: value, path: base, depth: 0 }];
  let nodes = 0;
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    if (++nodes > VALUE_LIMITS.maxNodes) {
      issues.push({ path: base, message: `value has more than ${VALUE_LIMITS.maxNodes} elements` });
      break;
    }
    if (v === null || typeof v === 'boolean') continue;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) issues.push({ path, message: 'number must be finite' });
      continue;
    }
    if (typeof v === 'string') {
      const p = stringProblem(v, VALUE_LIMITS.maxString, true);
      if (p) issues.push({ path, message: p });
      continue;
    }
    const isArray = Array.isArray(v);
    if (!isArray && !isPlainObject(v)) {
      issues.push({ path, message: 'value must be a string, number, boolean, null, array or hash' });
      continue;
    }
    if (depth >= VALUE_LIMITS.maxDepth) {
      issues.push({ path, message: `arrays and hashes nest deeper than ${VALUE_LIMITS.maxDepth} levels` });
      continue;
    }
    const entries: [string | number, unknown][] = isArray
      ? (v as unknown[]).map((x, i) => [i, x])
      : Object.entries(v as Record<string, unknown>);
    if (entries.length > VALUE_LIMITS.maxEntries) {
      issues.push({ path, message: `more than ${VALUE_LIMITS.maxEntries} entries` });
      continue;
    }
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, x] = entries[i]!;
      if (typeof k === 'string') {
        const p = stringProblem(k, VALUE_LIMITS.maxKey, false);
        if (p) issues.push({ path: [...path, k], message: `hash key: ${p}` });
      }
      stack.push({ v: x, path: [...path, k], depth: depth + 1 });
    }
  }
  return issues;
}

/** True when `value` satisfies every value rule. */
export function isEncValue(value: unknown): value is EncValue {
  return valueIssues(value).length === 0;
}

/** Structural equality of two values: key order does not matter, array order does. */
export function encValuesEqual(a: EncValue, b: EncValue): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => encValuesEqual(x, b[i]!));
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && encValuesEqual(a[k]!, b[k]!));
}

// Values may span lines (file contents, certificates); hash keys are one line. jsonb refuses NUL,
// and a lone surrogate has no UTF-8 form, so Puppet would receive a different string.
function stringProblem(s: string, max: number, multiline: boolean): string | null {
  if (s.length > max) return `string is longer than ${max} characters`;
  const unsafe = unsafeTextProblem(s, multiline);
  return unsafe ? `string ${unsafe}` : null;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
