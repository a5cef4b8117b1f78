/** Response shapes of the ENC API (request shapes are the core `enc` schemas). */
import { z } from 'zod';
import { Hostname } from '@canopy/core';

const Classes = z.record(z.string(), z.record(z.string(), z.unknown()));
const Issue = z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() });

export const CatalogStatusView = z.object({
  classes: z.array(z.object({ name: z.string(), parameters: z.array(z.string()).nullable() })),
  source: z.enum(['none', 'url', 'upload']).describe('where the current catalog came from'),
  sourceUrl: z.string().nullable(),
  sha256: z.string(),
  version: z.number().int(),
  updatedAt: z.string().describe('when the list of classes last changed'),
  url: z.string().nullable().describe('the configured CANOPY_PUPPET_CLASSES_URL'),
  refreshSeconds: z.number(),
  fetchedAt: z.string().nullable().describe('last successful fetch'),
  lastAttemptAt: z.string().nullable(),
  lastError: z.string().nullable().describe('why the last fetch failed; null when it succeeded'),
});

export const DefaultsView = z.object({ classes: Classes, environment: z.string(), version: z.number().int(), updatedAt: z.string() });

export const NodePuppetView = z.object({
  nodeId: z.number().int(),
  nodePath: z.string(),
  own: z
    .object({
      classes: Classes.nullable().describe('null: inherited from the nearest ancestor that sets classes'),
      parameters: z.record(z.string(), z.unknown()),
      environment: z.string().nullable(),
      version: z.number().int(),
      updatedAt: z.string(),
      updatedBy: z.string(),
    })
    .nullable()
    .describe('what is stored on this node; null when nothing is'),
  effective: z.object({
    nodePath: z.string(),
    classes: Classes,
    classesFrom: z.string().nullable(),
    parameters: z.record(z.string(), z.object({ value: z.unknown(), from: z.string() })),
    environment: z.string(),
    environmentFrom: z.string().nullable(),
  }),
  catalogIssues: z.array(Issue).describe('effective classes or parameters the current catalog no longer lists'),
});

const Flag = z.enum(['1', '0', 'true', 'false', '']).transform((v) => v === '1' || v === 'true' || v === '');

export const EncParams = z.strictObject({ hostname: Hostname });
export const EncQueryString = z.strictObject({
  format: z.enum(['yaml', 'json']).optional().describe('yaml (default) or json; Accept: application/json also selects json'),
  explain: Flag.optional().describe('with yaml: a plain-text account of where every class and parameter came from'),
});
