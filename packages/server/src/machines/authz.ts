/**
 * Who may change a machine. A machine bound to several nodes belongs to every one of them, so the
 * rule every machine write route applies is:
 * - create, or place on nodes (create, bind, an import row's `nodes`): machine.write on each node named;
 * - change the machine itself (update, retire, bind it to one more node, re-bind it by import):
 *   machine.write on every node it is bound to, so rights on `corp.pay` cannot retire or re-address
 *   a machine `corp.search` also runs on;
 * - withdraw it from one node (unbind): machine.write on that node only, so a team can always take
 *   its service off a machine it shares;
 * - a superuser may do anything; a machine bound to no node is a superuser's alone.
 * The checks run against the machine's bindings inside the write's transaction, so a concurrent bind
 * cannot slip a node past them.
 */
import { ForbiddenError, NotFoundError } from '@canopy/core';
import type { AuthService } from '../auth/index.ts';
import type { Actor } from '../changes/index.ts';
import type { TreeNode } from '../tree/index.ts';

/** Called inside a write with the machine's current nodes; throws to refuse (and roll back). */
export type MachineGuard = (hostname: string, nodes: TreeNode[]) => void;

/** The machine authorization rule over `auth`'s permission model. */
export function createMachineAuthz(auth: AuthService) {
  const can = (actor: Actor, op: 'machine.read' | 'machine.write', n: TreeNode) => auth.can(actor, op, n.id);

  /** Whether the actor may see the machine at all: any right on any node it is bound to. */
  function sees(actor: Actor, nodes: TreeNode[]): boolean {
    return nodes.some((n) => can(actor, 'machine.read', n) || can(actor, 'machine.write', n));
  }

  function mayWrite(actor: Actor, path: string): boolean {
    try {
      auth.nodeFor(actor, 'machine.write', path);
      return true;
    } catch {
      return false;
    }
  }

  /** A guard for changing the machine: 404 if the actor cannot see it, else 403 naming the first node it may not write. */
  function change(actor: Actor): MachineGuard {
    return (hostname, nodes) => {
      if (actor.superuser) return;
      if (!sees(actor, nodes)) throw new NotFoundError('machine', hostname);
      const lacking = nodes.find((n) => !can(actor, 'machine.write', n));
      if (lacking) throw new ForbiddenError('machine.write', lacking.path);
    };
  }

  /**
   * Placing a machine on nodes named by path: machine.write on each. An unknown node and one the
   * actor may not see are refused alike, so the refusal does not reveal which nodes exist.
   */
  function place(actor: Actor, paths: string[]): void {
    if (actor.superuser) return;
    const lacking = paths.find((p) => !mayWrite(actor, p));
    if (lacking !== undefined) throw new ForbiddenError('machine.write', lacking);
  }

  return {
    change,
    place,

    /** Reading: machine.read on any node the machine is bound to; 404 otherwise, so its existence stays hidden. */
    read(actor: Actor, hostname: string, nodes: TreeNode[]): void {
      if (actor.superuser || nodes.some((n) => can(actor, 'machine.read', n))) return;
      throw new NotFoundError('machine', hostname);
    },

    /** Creating by import: as `place`, and a machine bound to no node is a superuser's to add. */
    createByImport(actor: Actor, paths: string[]): void {
      if (paths.length === 0 && !actor.superuser) throw new ForbiddenError('add a machine bound to no node', 'canopy');
      place(actor, paths);
    },

    /**
     * Changing by import: `change`, then `place` for the nodes the row names. The row answers in the
     * report rather than with a status, so a machine the actor cannot see is refused by hostname,
     * without saying where it is.
     */
    changeByImport(actor: Actor, hostname: string, nodes: TreeNode[], bindTo: string[]): void {
      try {
        change(actor)(hostname, nodes);
      } catch (err) {
        if (err instanceof NotFoundError) throw new ForbiddenError('machine.write', hostname);
        throw err;
      }
      place(actor, bindTo);
    },

    /** Import writes only where the actor holds machine.write; with none anywhere, it is refused outright. */
    mayImport(actor: Actor): void {
      if (actor.superuser) return;
      if (!auth.acl.grantRoots(actor).some((id) => auth.can(actor, 'machine.write', id))) throw new ForbiddenError('machine.write', 'any node');
    },
  };
}
