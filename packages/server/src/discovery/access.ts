/**
 * Who may do what in discovery. Authorization wraps the service: a route asks here first, then
 * calls one domain function. A path the caller may not see answers 404, as the rest of the API.
 */
import { ForbiddenError, NotFoundError, type Operation } from '@canopy/core';
import type { Actor } from '../changes/index.ts';
import type { AuthService } from '../auth/index.ts';
import type { TreeNode, TreeService } from '../tree/index.ts';
import type { DiscoveryService } from './service.ts';

/** The machine an agent actor holds the credential of (agents/): what it may act for. */
export interface AgentMachine {
  hostname: string;
  zone: string;
  nodeIds: number[];
}

/** The seam to the agent capability. Without it, agents may do nothing in discovery. */
export interface DiscoveryAccessOptions {
  agentMachine?: (actor: Actor) => AgentMachine | undefined;
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

  const machineOf = (actor: Actor): AgentMachine | undefined => (actor.kind === 'agent' ? opts.agentMachine?.(actor) : undefined);

  /**
   * Whether `actor` may see the service node `id` (asked per event too: grants change mid-watch).
   * A machine credential reads every service, as a Consul agent's node identity does: machines
   * must find what they call, and the answer holds no more than addresses and ports.
   */
  const canRead = (actor: Actor, id: number): boolean => (actor.kind === 'agent' ? machineOf(actor) !== undefined : auth.can(actor, 'discovery.read', id));

  return {
    anchorOf,

    /** Register, change or delete the service at `path`. */
    write: (actor: Actor, path: string): TreeNode => auth.nodeFor(actor, 'discovery.write', path),

    /** Register, deregister or heartbeat an instance on `hostname`: a grant, or the machine's own credential. */
    writeInstance(actor: Actor, path: string, hostname: string): void {
      if (actor.kind === 'agent') {
        if (machineOf(actor)?.hostname === hostname) return;
        throw new ForbiddenError('discovery.write', `${path}/${hostname} (a machine credential acts only for its own machine)`);
      }
      auth.nodeFor(actor, 'discovery.write', path);
    },

    /** Read what `path` resolves to (through aliases and old paths); returns the service node. */
    read(actor: Actor, path: string): TreeNode {
      const id = discovery.resolveNode(path);
      const node = id === undefined ? undefined : tree.model.get(id);
      if (!node) throw new NotFoundError('service', path);
      if (canRead(actor, node.id)) return node;
      if (auth.can(actor, 'tree.read', node.id)) throw new ForbiddenError('discovery.read', path);
      throw new NotFoundError('service', path);
    },

    canRead,

    /**
     * The calling node, for the dependency graph: `?caller=`, which a user must be able to read and
     * an agent's machine must run in; an agent naming none is its machine's node when it has one.
     */
    caller(actor: Actor, path: string | undefined): TreeNode | undefined {
      const agent = actor.kind === 'agent' ? machineOf(actor) : undefined;
      if (!agent) return path === undefined ? undefined : auth.nodeFor(actor, 'tree.read', path);
      const nodes = agent.nodeIds.flatMap((id) => tree.model.get(id) ?? []);
      if (path === undefined) return nodes.length === 1 ? nodes[0] : undefined;
      const node = nodes.find((n) => n.path === path);
      if (!node) throw new ForbiddenError('discovery.read', `caller '${path}' (machine ${agent.hostname} does not run there)`);
      return node;
    },

    /** Aliases live where nodes may not: the nearest node above guards them; above every root, superusers. */
    alias(actor: Actor, op: Operation, path: string): void {
      const anchor = anchorOf(path);
      if (anchor) auth.authorize(actor, op, anchor);
      else auth.requireSuperuser(actor, `${op} on '${path}'`);
    },

    /** The zone answers prefer: `?zone=`, else an agent's own machine's. */
    zoneOf: (actor: Actor, zone: string | undefined) => zone ?? (machineOf(actor)?.zone || undefined),
  };
}
