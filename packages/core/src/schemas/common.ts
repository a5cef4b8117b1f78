/** Shapes shared by every capability: names, paths, free text, labels, pagination. */
import { z } from 'zod';
import { HOSTNAME_RE, NODE_NAME_RE, NODE_PATH_MAX, NODE_PATH_RE } from '../names.ts';

export const NodeName = z
  .string()
  .regex(NODE_NAME_RE, 'must be a DNS label: lower-case letters, digits and inner hyphens, 1-63 characters');

export const NodePath = z
  .string()
  .max(NODE_PATH_MAX, `must be at most ${NODE_PATH_MAX} characters`)
  .regex(NODE_PATH_RE, 'must be dot-separated DNS labels, root first (e.g. corp.ops.web)');

export const Hostname = z
  .string()
  .regex(HOSTNAME_RE, 'must be a lower-case RFC 1123 hostname of at most 253 characters');

// C0 controls. Multi-line text keeps tab, LF, and CR only inside CRLF: a lone CR or an escape
// sequence would let stored text overwrite what a terminal shows around it.
const ONE_LINE_CONTROL_RE = /[\u0000-\u001f]/;
const MULTI_LINE_CONTROL_RE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]|\r(?!\n)/;

function loneSurrogateAt(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return i;
    } else if (c >= 0xdc00 && c <= 0xdfff) return i;
  }
  return -1;
}

/**
 * Why `text` may not be stored as free text, or undefined when it may: NUL (PostgreSQL text refuses
 * it), other C0 controls (tab and newlines only when `multiline`), and unpaired UTF-16 surrogates
 * (no UTF-8 form, so jsonb refuses them and every other reader would see a different string).
 */
export function unsafeTextProblem(text: string, multiline = false): string | undefined {
  const control = (multiline ? MULTI_LINE_CONTROL_RE : ONE_LINE_CONTROL_RE).exec(text);
  if (control) {
    const c = text.charCodeAt(control.index);
    const at = `at position ${control.index + 1}`;
    if (c === 0) return `may not contain the NUL character (U+0000) ${at}`;
    const hex = `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
    return multiline
      ? `may not contain control characters other than tab and newline: ${hex} ${at}`
      : `may not contain control characters, tab and newline included (one line of text): ${hex} ${at}`;
  }
  if (!text.isWellFormed()) return `may not contain an unpaired UTF-16 surrogate (invalid Unicode) at position ${loneSurrogateAt(text) + 1}`;
  return undefined;
}

/** A zod refinement refusing what `unsafeTextProblem` refuses; for strings built by other means (URLs). */
export function refuseUnsafeText(multiline = false) {
  return (text: string, ctx: z.RefinementCtx<string>): void => {
    const problem = unsafeTextProblem(text, multiline);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  };
}

export interface SafeTextOptions {
  /** Longest accepted, in UTF-16 code units (what `String.length` counts). */
  max: number;
  /** Shortest accepted; 0 by default. */
  min?: number;
  /** Descriptions and comments may hold tabs and line breaks; names, values and queries may not. */
  multiline?: boolean;
}

/**
 * The schema of every free-text field (descriptions, display names, label and meta values, search
 * text): a string any database, terminal and client can hold, per `unsafeTextProblem`.
 */
export function safeText({ max, min = 0, multiline = false }: SafeTextOptions) {
  const base = min > 0 ? z.string().min(min) : z.string();
  return base.max(max).superRefine(refuseUnsafeText(multiline));
}

const LABEL_KEY_RE = /^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$/;

/** Labels: up to 64 key/value pairs; keys like `team` or `canopy.io/tier`, values up to 253 characters. */
export const Labels = z
  .record(z.string().regex(LABEL_KEY_RE, 'label keys are lower-case letters, digits and . _ / -, 1-63 characters'), safeText({ max: 253 }))
  .refine((r) => Object.keys(r).length <= 64, 'at most 64 labels');

export const Limit = z.coerce.number().int().min(1).max(1000).default(50);
export const Cursor = safeText({ max: 512 }).optional();

/** A page of results; `nextCursor` is absent on the last page. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().optional(), total: z.number().int().optional() });
}

export const Timestamp = z.string();
