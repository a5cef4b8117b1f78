/**
 * Who may do what in discovery. Authorization wraps the service: a route asks here first, then
 * calls one domain function. A path the caller may not see answers 404, as the rest of the API.
 */
import { ForbiddenError, NotFoundError, type Operation } from '@canopy/core';
import type { Actor } from '../changes/index.ts';
import type { AuthService } from '../auth/index.ts';
import type { TreeNode, TreeService } from '../tree/index.ts';
import type { DiscoveryService } from './service.ts';

/** Seams for the agent capability (machine credentials), which comes later. */
export interface DiscoveryAccessOptions {
  /**
   * Whether an agent actor holds the credential of machine `hostname`, letting it register and
   * heartbeat that machine's instances without a user grant. Default: agents may not.
   */
  machineCredentialAllows?: (actor: Actor, hostname: string) => boolean;
  /** The zone of the caller's own machine, for zone-aware answers when `?zone=` is absent. */
  callerZone?: (actor: Actor) => string | undefined;
}

export type DiscoveryAccess = ReturnType<typeof createDiscoveryAccess>;

/** Authorization helpers over the auth and tree services. */
export function createDiscoveryAccess(discovery: DiscoveryService, auth: AuthService, tree: TreeService, opts: DiscoveryAccessOptions = {}) {
  /** The deepest live node at or above `path`: what guards an alias there. */
  function anchorOf(path: string): TreeNode | undefined {
    for (let p: string | undefined = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : undefined) {
      const n = tree.model.byPath(p);
      if (n) return n;
    }
    return undefined;
  }

  return {
    anchorOf,

    /** Register, change or delete the service at `path`. */
    write: (actor: Actor, path: string): TreeNode => auth.nodeFor(actor, 'discovery.write', path),

    /** Register, deregister or heartbeat an instance on `hostname`: a grant, or (later) the machine's own credential. */
    writeInstance(actor: Actor, path: string, hostname: string): void {
      if (actor.kind === 'agent') {
        if (opts.machineCredentialAllows?.(actor, hostname)) return;
        throw new ForbiddenError('discovery.write', `${path}/${hostname}`);
      }
      auth.nodeFor(actor, 'discovery.write', path);
    },

    /** Read what `path` resolves to (through aliases and old paths); returns the service node. */
    read(actor: Actor, path: string): TreeNode {
      const id = discovery.resolveNode(path);
      const node = id === undefined ? undefined : tree.model.get(id);
      if (!node) throw new NotFoundError('service', path);
      if (auth.can(actor, 'discovery.read', node.id)) return node;
      if (auth.can(actor, 'tree.read', node.id)) throw new ForbiddenError('discovery.read', path);
      throw new NotFoundError('service', path);
    },

    /** Whether a watcher may go on seeing the service node `id` (grants can change mid-watch). */
    canRead: (actor: Actor, id: number) => auth.can(actor, 'discovery.read', id),

    /** The caller node of `?caller=`: it must exist and the actor must be able to read it. */
    caller: (actor: Actor, path: string | undefined): TreeNode | undefined => (path === undefined ? undefined : auth.nodeFor(actor, 'tree.read', path)),

    /** Aliases live where nodes may not: the nearest node above guards them; above every root, superusers. */
    alias(actor: Actor, op: Operation, path: string): void {
      const anchor = anchorOf(path);
      if (anchor) auth.authorize(actor, op, anchor);
      else auth.requireSuperuser(actor, `${op} on '${path}'`);
    },

    zoneOf: (actor: Actor, zone: string | undefined) => zone ?? opts.callerZone?.(actor),
  };
}
