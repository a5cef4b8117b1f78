/** Shapes of what the ENC computes: a node's effective configuration and a host's answer. */
import { z } from 'zod';
import { encValueSchema } from './schema.ts';
import type { EncClasses, EncValue } from './values.ts';

/**
 * A node's configuration after inheritance. `classesFrom` is the node whose record supplied the
 * class set (null: no node in the chain sets classes); `environmentFrom` likewise (null: the
 * built-in `production`); each parameter names the node that set it.
 */
export interface EffectiveConfig {
  nodePath: string;
  classes: EncClasses;
  classesFrom: string | null;
  parameters: Record<string, { value: EncValue; from: string }>;
  environment: string;
  environmentFrom: string | null;
}

/** How the answer was reached. */
export const ENC_REASONS = ['single-node', 'nodes-agree', 'nodes-differ', 'provisioning'] as const;
export type EncReason = (typeof ENC_REASONS)[number];

/**
 * Where one item came from. `node`: set on tree nodes (`sources` says which machine node inherited
 * it from which node); `defaults`: the configured default class set; `canopy`: a `canopy_*` fact
 * Canopy adds; `builtin`: Puppet's default environment; `dropped`: left out because nodes disagree.
 */
export const EXPLAIN_ORIGINS = ['node', 'defaults', 'canopy', 'builtin', 'dropped'] as const;
export type ExplainOrigin = (typeof EXPLAIN_ORIGINS)[number];

const explainSourceSchema = z.strictObject({
  node: z.string().describe('the machine node (or provisioning node) the value applies through'),
  setOn: z.string().nullable().describe('the node whose record set it; null when not set on any node'),
});

/** One line of provenance. */
export const explainEntrySchema = z.strictObject({
  subject: z.enum(['decision', 'class', 'parameter', 'environment']),
  name: z.string(),
  origin: z.enum(EXPLAIN_ORIGINS),
  sources: z.array(explainSourceSchema),
  message: z.string(),
});
export type ExplainEntry = z.infer<typeof explainEntrySchema>;

/** The ENC answer for one host, with the reasoning behind it. */
export const encResultSchema = z.strictObject({
  hostname: z.string(),
  source: z.enum(['tree', 'provisioning']),
  reason: z.enum(ENC_REASONS),
  nodes: z.array(z.string()).describe('the machine nodes the answer was computed from'),
  classes: z.record(z.string(), z.record(z.string(), encValueSchema)),
  parameters: z.record(z.string(), encValueSchema),
  environment: z.string(),
  explain: z.array(explainEntrySchema),
});
export type EncResult = z.infer<typeof encResultSchema>;
