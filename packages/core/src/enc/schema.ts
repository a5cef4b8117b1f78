/** Request/response shapes of the Puppet ENC API, shared by server, SDK, CLI and console. */
import { z } from 'zod';
import { isHostname } from '../names.ts';
import { refuseUnsafeText } from '../schemas/common.ts';
import { classNameProblem, classParamProblem, environmentProblem, topScopeParamProblem } from './grammar.ts';
import { valueIssues, type EncValue } from './values.ts';

/** Bounds on one node's association, so a record stays small enough to resolve on every Puppet run. */
export const ASSOCIATION_LIMITS = Object.freeze({ maxClasses: 200, maxParamsPerClass: 200, maxTopScope: 200 });

function nameSchema(problem: (s: string) => string | null, description: string) {
  return z
    .string()
    .superRefine((s, ctx) => {
      const p = problem(s);
      if (p) ctx.addIssue({ code: 'custom', message: p });
    })
    .describe(description);
}

/** A canonical Puppet class name (`nginx`, `profile::web`). */
export const classNameSchema = nameSchema(classNameProblem, 'Puppet class name, e.g. profile::web');
/** A class parameter name. */
export const classParamNameSchema = nameSchema(classParamProblem, 'class parameter name');
/** A top-scope (node) parameter name; `canopy_*` names are Canopy's own. */
export const topScopeParamNameSchema = nameSchema(topScopeParamProblem, 'top-scope parameter name');
/** A Puppet environment name. */
export const environmentSchema = nameSchema(environmentProblem, 'Puppet environment name');

/** A parameter value: string, finite number, boolean, null, or arrays/hashes of those (bounded). */
export const encValueSchema = z
  .custom<EncValue>()
  .superRefine((v, ctx) => {
    for (const issue of valueIssues(v)) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  })
  .describe('string, number, boolean, null, or an array/hash of those');

/** One class's parameters: parameter name → value. */
export const classParamsSchema = z
  .record(classParamNameSchema, encValueSchema)
  .refine((o) => Object.keys(o).length <= ASSOCIATION_LIMITS.maxParamsPerClass, {
    message: `at most ${ASSOCIATION_LIMITS.maxParamsPerClass} parameters per class`,
  });

/** Class name → parameters. */
export const encClassesSchema = z
  .record(classNameSchema, classParamsSchema)
  .refine((o) => Object.keys(o).length <= ASSOCIATION_LIMITS.maxClasses, {
    message: `at most ${ASSOCIATION_LIMITS.maxClasses} classes`,
  });

/** Top-scope parameters: name → value. */
export const topScopeParamsSchema = z
  .record(topScopeParamNameSchema, encValueSchema)
  .refine((o) => Object.keys(o).length <= ASSOCIATION_LIMITS.maxTopScope, {
    message: `at most ${ASSOCIATION_LIMITS.maxTopScope} parameters`,
  });

/**
 * What an operator sets on one tree node. `classes` absent or null: the node inherits its nearest
 * ancestor's class set; `{}`: the node deliberately has no classes. `environment` absent or null:
 * inherited. `parameters` merge with the ancestors', nearer node winning per name.
 */
export const encAssociationInputSchema = z.strictObject({
  classes: encClassesSchema.nullable().optional(),
  parameters: topScopeParamsSchema.optional(),
  environment: environmentSchema.nullable().optional(),
});
export type EncAssociationInput = z.infer<typeof encAssociationInputSchema>;

/** One class offered by the Puppet code base; `parameters: null` means the catalog does not say. */
export const catalogClassSchema = z.strictObject({
  name: classNameSchema,
  parameters: z.array(classParamNameSchema).nullable(),
});
export type CatalogClass = z.infer<typeof catalogClassSchema>;

/** The classes catalog as Canopy keeps it. */
export const catalogSchema = z.strictObject({ classes: z.array(catalogClassSchema) });
export type Catalog = z.infer<typeof catalogSchema>;

/** Where Canopy fetches the catalog from (the Puppet code base publishes it over HTTP). */
export const catalogSourceSchema = z.strictObject({
  // z.url keeps the text as given, and new URL() accepts controls and NUL in a path.
  url: z
    .url({ protocol: /^https?$/ })
    .superRefine(refuseUnsafeText())
    .describe('http(s) URL of the classes file'),
});

/**
 * The default class set: what a machine gets when its nodes disagree. It should configure the base
 * environment only (OS, users, monitoring agent), never an application.
 */
export const encDefaultsSchema = z.strictObject({
  classes: encClassesSchema,
  environment: environmentSchema.default('production'),
});
export type EncDefaults = z.output<typeof encDefaultsSchema>;

/** The ENC question: which configuration does this certname get. */
export const encQuerySchema = z.strictObject({
  hostname: z
    .string()
    .refine(isHostname, { message: 'must be a lower-case RFC 1123 host name' })
    .describe('the agent certname Puppet passes to the ENC'),
  explain: z.boolean().optional(),
});
