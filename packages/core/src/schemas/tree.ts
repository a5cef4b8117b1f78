/** Service tree request and response shapes. */
import { z } from 'zod';
import { Labels, NodeName, NodePath, safeText, Timestamp } from './common.ts';

const Description = safeText({ max: 2000, multiline: true });

export const NodeView = z.object({
  id: z.number().int(),
  name: z.string(),
  path: z.string(),
  parentPath: z.string().nullable(),
  description: z.string(),
  labels: z.record(z.string(), z.string()),
  version: z.number().int(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  machineCount: z.number().int(),
  subtreeMachineCount: z.number().int(),
  childCount: z.number().int(),
  /**
   * True when the caller cannot open this node and sees it only as a step towards nodes they can:
   * then description is '', labels {}, machine counts 0, and childCount counts only the children
   * the caller can see.
   */
  pathOnly: z.boolean(),
  /** Operation names (operations.ts) the caller holds here; every one for a superuser, none when pathOnly. */
  allowed: z.array(z.string()),
});
export type NodeView = z.infer<typeof NodeView>;

export const CreateNodeInput = z.strictObject({
  parentPath: NodePath.nullable(),
  name: NodeName,
  description: Description.default(''),
  labels: Labels.default({}),
});
export type CreateNodeInput = z.infer<typeof CreateNodeInput>;

/** Rename by setting `name`; the whole subtree is re-pathed. */
export const PatchNodeInput = z
  .strictObject({
    name: NodeName.optional(),
    description: Description.optional(),
    labels: Labels.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'nothing to change');
export type PatchNodeInput = z.infer<typeof PatchNodeInput>;

export const MoveNodeInput = z.strictObject({ parentPath: NodePath.nullable() });

export const ListNodesQuery = z.strictObject({
  under: NodePath.optional(),
  depth: z.coerce.number().int().min(0).max(64).default(1),
  q: safeText({ max: 200 }).optional(),
  label: safeText({ max: 300 })
    .regex(/^[^=]+(=.*)?$/, 'use key or key=value')
    .optional(),
  limit: z.coerce.number().int().min(1).max(10000).default(1000),
});

export const TrashedNodeView = z.object({
  id: z.number().int(),
  /** The path the node had when it was deleted. */
  path: z.string(),
  /** Where a restore would put it now (under its parent's current path); null while its parent is in the trash too. */
  restoresAs: z.string().nullable(),
  deletedAt: Timestamp,
});
