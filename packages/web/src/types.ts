/** Response shapes the console reads, taken from the shared schemas in @canopy/core (types only). */
import type { z } from 'zod';
import type { AuditEntryView, GrantView, ImportReport, MachineView, NodeView, UserView } from '@canopy/core';

export type { ImportReport, MachineView, NodeView };
export type User = z.infer<typeof UserView>;
export type Grant = z.infer<typeof GrantView>;
export type AuditEntry = z.infer<typeof AuditEntryView>;

/** A page of a cursor-paginated list. */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
  total?: number;
}

/** A role as `GET /roles` lists it. */
export interface Role {
  id: number;
  name: string;
  description: string;
  operations: string[];
  builtin: boolean;
}

/** The answer of `POST /auth/login`. */
export interface LoginResult {
  token: string;
  csrfToken: string;
  expiresAt: string;
  user: User;
}
