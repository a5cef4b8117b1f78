/** Machine credentials: what the agent on a machine authenticates with. */
import { z } from 'zod';

/** A credential's name, unique per machine (`agent`, `deploy-2026`…). */
export const CredentialName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lower-case letters, digits, ".", "_" and "-", starting with a letter or digit, at most 63');

export const IssueCredentialInput = z.strictObject({ name: CredentialName.default('agent') });

export const CredentialView = z.object({
  id: z.number().int(),
  name: z.string(),
  prefix: z.string().describe('the first characters of the secret, to tell credentials apart'),
  createdBy: z.string(),
  createdAt: z.string(),
});

export const IssuedCredentialView = CredentialView.extend({
  hostname: z.string(),
  token: z.string().describe('the secret (`cnm_…`), shown only in this answer'),
});

/** The agent of a machine as every machine view shows it ("never": no agent has connected yet). */
export const MachineAgentView = z.object({
  state: z.enum(['connected', 'unreachable', 'never']),
  lastHeartbeatAt: z.string().nullable(),
  connectedAt: z.string().nullable(),
  version: z.string().nullable(),
  /** What the agent last read off the machine (hostname, ips, cpus, memoryBytes, disks, os, kernel, bootId…). */
  facts: z.record(z.string(), z.unknown()).nullable(),
});
export type MachineAgentView = z.infer<typeof MachineAgentView>;
