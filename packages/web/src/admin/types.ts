/** Shapes the admin pages read, taken from the shared schemas in @canopy/core (types only). */
import type { z } from 'zod';
import type { AuthLogEntryView, NewTokenView, RoleView, TokenView, TrashedNodeView, UserListItem } from '@canopy/core';

/** A user as `GET /users` lists them (email and superuser null for people outside the caller's nodes). */
export type ListedUser = z.infer<typeof UserListItem>;
export type Token = z.infer<typeof TokenView>;
export type NewToken = z.infer<typeof NewTokenView>;
export type RoleItem = z.infer<typeof RoleView>;
export type AuthLogEntry = z.infer<typeof AuthLogEntryView>;
export type TrashedNode = z.infer<typeof TrashedNodeView>;

/** A group as `GET /groups` lists it. */
export interface Group {
  id: number;
  name: string;
  description: string;
  members: string[];
}

/** An operation as `GET /operations` lists it. */
export interface OperationInfo {
  name: string;
  description: string;
}

/** A timestamp as the console shows it: the viewer's local time. */
export const shownTime = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString() : '—');
