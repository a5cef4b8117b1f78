/** Shapes shared by every capability: names, paths, labels, pagination. */
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

const LABEL_KEY_RE = /^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$/;

/** Labels: up to 64 key/value pairs; keys like `team` or `canopy.io/tier`, values up to 253 characters. */
export const Labels = z
  .record(z.string().regex(LABEL_KEY_RE, 'label keys are lower-case letters, digits and . _ / -, 1-63 characters'), z.string().max(253))
  .refine((r) => Object.keys(r).length <= 64, 'at most 64 labels');

export const Limit = z.coerce.number().int().min(1).max(1000).default(50);
export const Cursor = z.string().max(512).optional();

/** A page of results; `nextCursor` is absent on the last page. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().optional(), total: z.number().int().optional() });
}

export const Timestamp = z.string();
