/** Parsing a value outside Fastify's validation (a URL part joins the body) into a ValidationError. */
import type { z } from 'zod';
import { ValidationError } from '@canopy/core';

/** Parse `value` with `schema`, turning zod issues into a ValidationError (400). */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, where = 'body'): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: [where, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], message: i.message }));
  throw new ValidationError(`invalid ${where}: ${issues.map((i) => `${i.path.slice(1).join('.') || where} ${i.message}`).join('; ')}`, issues);
}
