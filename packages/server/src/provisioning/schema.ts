/** Request and response shapes of the install (provisioning) API. */
import { z } from 'zod';
import { Cursor, Hostname, NodePath, Timestamp, safeText } from '@canopy/core';
import { PROVISIONING_STATES } from './tables.ts';

const Placement = z.string().max(63).regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)?$/, 'a DNS label or empty');
const ShortText = z.string().max(128).regex(/^[\x20-\x7e]*$/, 'printable ASCII only');
const MacAddress = z
  .string()
  .regex(/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/, 'six hex octets, e.g. aa:bb:cc:dd:ee:ff')
  .transform((m) => m.toLowerCase().replaceAll('-', ':'));

/** Longest a request may stay open: 90 days. */
export const MAX_TTL_HOURS = 24 * 90;

export const CreateProvisioningInput = z.strictObject({
  hostname: Hostname.describe('the host name the installed machine will have (its Puppet certname)'),
  nodePath: NodePath.describe('the node the machine belongs to once installed'),
  idc: Placement.default(''),
  zone: Placement.default(''),
  os: ShortText.default(''),
  serial: ShortText.default('').describe('the serial number of the machine to install: a machine with it (or with `mac`) proves it is the one requested'),
  mac: MacAddress.optional().describe('a MAC address of the machine to install (aa:bb:cc:dd:ee:ff); matched against its facts'),
  requestedBy: ShortText.optional().describe('who asked for the install; defaults to the caller'),
  note: safeText({ max: 2000, multiline: true }).default(''),
  ttlHours: z.number().int().min(1).max(MAX_TTL_HOURS).optional().describe('hours until the request expires; server default otherwise'),
  enroll: z.boolean().default(false).describe('issue an enrollment token (answered once as `enrollmentToken`) the agent on the new machine exchanges for its credential'),
});
export type CreateProvisioningInput = z.infer<typeof CreateProvisioningInput>;

export const ProvisioningView = z.object({
  id: z.number().int(),
  hostname: z.string(),
  nodeId: z.number().int(),
  nodePath: z.string().nullable().describe('the node\'s current path; null if it was deleted'),
  idc: z.string(),
  zone: z.string(),
  os: z.string(),
  serial: z.string(),
  mac: z.string(),
  requestedBy: z.string(),
  note: z.string(),
  state: z.enum(PROVISIONING_STATES),
  machineId: z.number().int().nullable(),
  createdBy: z.string(),
  createdAt: Timestamp,
  expiresAt: Timestamp,
  closedAt: Timestamp.nullable(),
  version: z.number().int(),
  enroll: z.boolean().describe('whether the request carries an enrollment token'),
  enrolledAt: Timestamp.nullable().describe('when its token was exchanged for a machine credential'),
  enrollmentToken: z.string().optional().describe('the enrollment token (`cne_…`): in the create answer only, never again'),
});
export type ProvisioningView = z.infer<typeof ProvisioningView>;

export const ListProvisioningQuery = z.strictObject({
  state: z.enum(PROVISIONING_STATES).optional(),
  under: NodePath.optional(),
  hostname: Hostname.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: Cursor,
});
