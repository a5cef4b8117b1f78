/** Who is logged in, for any component that needs it (top bar, superuser-only buttons). */
import { createContext, useContext } from 'react';
import type { User } from './types.ts';

export interface Session {
  user: User;
  logout(): Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

/** The current session; only valid inside the logged-in shell. */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside the logged-in shell');
  return s;
}
