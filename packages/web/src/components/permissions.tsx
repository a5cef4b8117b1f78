/**
 * What the caller may do at the node on screen, from the node view's `allowed` list. The node page
 * provides it once; every tab and dialog asks it before offering a button, so a read-only user sees
 * the data and a line saying what changing it would need, never a button that answers 403.
 * The server still decides every call: this only keeps the console honest about it.
 */
import { createContext, useContext, type ReactNode } from 'react';
import { Alert } from 'antd';
import type { NodeView } from '../types.ts';

/** The caller's operations at one node. */
export interface Access {
  path: string;
  /** True when the caller holds `op` (an operation name from @canopy/core's OPERATIONS) here. */
  can(op: string): boolean;
  /** The sentence that says what an unavailable action needs: "needs nginx.write on corp.pay". */
  needs(op: string): string;
}

/** The access of `node`. An answer without `allowed` (an older server replica) offers everything: the server still refuses. */
export function accessOf(node: Pick<NodeView, 'path' | 'allowed' | 'pathOnly'>): Access {
  const allowed = node.pathOnly ? [] : node.allowed;
  const held = allowed === undefined ? undefined : new Set(allowed);
  return {
    path: node.path,
    can: (op) => held === undefined || held.has(op),
    needs: (op) => `needs ${op} on ${node.path}`,
  };
}

const unknown: Access = { path: '', can: () => true, needs: (op) => `needs ${op}` };
const AccessContext = createContext<Access>(unknown);

/** Makes `node`'s access the answer of `useAccess()` below it. */
export function AccessProvider({ node, children }: { node: Pick<NodeView, 'path' | 'allowed' | 'pathOnly'>; children: ReactNode }) {
  return <AccessContext.Provider value={accessOf(node)}>{children}</AccessContext.Provider>;
}

/** The access at the node on screen (outside a node page: everything, the server decides). */
export function useAccess(): Access {
  return useContext(AccessContext);
}

/** Its children only when the caller holds `op` here (every one of `op` when it is a list). */
export function Allowed({ op, children, otherwise = null }: { op: string | readonly string[]; children: ReactNode; otherwise?: ReactNode }) {
  const access = useAccess();
  const ops = typeof op === 'string' ? [op] : op;
  return <>{ops.every((o) => access.can(o)) ? children : otherwise}</>;
}

/**
 * One quiet line where a tab's buttons would be: "Read-only here: changing X needs op on path".
 * Renders nothing when the caller holds `op`.
 */
export function ReadOnlyNote({ op, what }: { op: string; what: string }) {
  const access = useAccess();
  if (access.can(op)) return null;
  return <Alert type="info" showIcon data-testid="read-only-note" title={`Read-only here: ${what} ${access.needs(op)}.`} style={{ padding: '4px 12px' }} />;
}
