/**
 * Machine credentials as the console reads and changes them: the secrets an agent on a machine
 * sends as its Bearer token. The server returns a secret once, when it is issued.
 */
import type { z } from 'zod';
import type { CredentialView, IssuedCredentialView } from '@canopy/core';
import { api, seg } from '../../api.ts';

export type Credential = z.infer<typeof CredentialView>;
export type IssuedCredential = z.infer<typeof IssuedCredentialView>;

/** The name the console proposes for a new credential. */
export const DEFAULT_CREDENTIAL_NAME = 'agent';

const pathOf = (hostname: string) => `/machines/${seg(hostname)}/credentials`;

/** The credential calls for one machine; each throws the server's problem as an ApiError. */
export const credentialsApi = {
  list: async (hostname: string): Promise<Credential[]> => (await api.get<{ items: Credential[] }>(pathOf(hostname))).items,
  issue: (hostname: string, name: string) => api.post<IssuedCredential>(pathOf(hostname), { name }),
  revoke: (hostname: string, id: number) => api.del(`${pathOf(hostname)}/${id}`),
};
