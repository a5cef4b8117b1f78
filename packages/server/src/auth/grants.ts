/**
 * Grants: listing them where they apply, creating and revoking them. A grant on a trashed node stays
 * (a restore brings it back into force) and is placed by the node's last path (see trash.ts).
 */
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, type CreateGrantInput, type Operation } from '@canopy/core';
import type { z } from 'zod';
import type { Actor, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import { iso, type TreeNode, type TreeService } from '../tree/index.ts';
import { ACL_TOPIC, type AclChange, type AclModel, type GrantRecord } from './acl.ts';
import { placeTrashed, type TrashedPlace } from './trash.ts';
import * as repo from './repo.ts';

export interface GrantDeps {
  writer: Writer;
  db: Queryable;
  tree: TreeService;
  acl: AclModel;
  /** The auth service's check: 404 when the node is invisible to the actor, 403 when `op` is missing. */
  authorize(actor: Actor, op: Operation, node: TreeNode): void;
}

/** A grant as shown; a grant on a trashed node shows the node's last path (from `places`) and `trashed: true`. */
export function grantView(acl: AclModel, tree: TreeService, g: GrantRecord, places?: Map<number, TrashedPlace>) {
  const subject = g.subjectKind === 'user' ? acl.user(g.subjectId)?.username : acl.groupName(g.subjectId);
  const live = tree.model.get(g.nodeId);
  const place = live ? undefined : places?.get(g.nodeId);
  return {
    id: g.id,
    subjectKind: g.subjectKind,
    subject: subject ?? `#${g.subjectId}`,
    role: acl.role(g.roleId)?.name ?? `#${g.roleId}`,
    nodePath: live?.path ?? place?.lastPath ?? `#${g.nodeId}`,
    trashed: place !== undefined,
    expiresAt: g.expiresAt ? iso(g.expiresAt) : null,
    createdAt: iso(g.createdAt),
  };
}

/** Views of `grants`, trashed nodes placed by their last path (for naming grants in refusals and audit entries). */
export async function grantViews(db: Queryable, acl: AclModel, tree: TreeService, grants: GrantRecord[]) {
  const places = await placeTrashed(db, tree.model, grants);
  return grants.map((g) => grantView(acl, tree, g, places));
}

/** The grant operations the auth service exposes as its own. */
export function createGrantOps(deps: GrantDeps) {
  const { writer, db, tree, acl, authorize } = deps;
  const view = (g: GrantRecord, places?: Map<number, TrashedPlace>) => grantView(acl, tree, g, places);

  return {
    /** Grants on the node's subtree and on its ancestors (what applies there), and on trashed nodes it governs. */
    async grantsFor(path: string) {
      const node = tree.node(path);
      const subtree = new Set(tree.model.subtreeIds(node.id));
      const applies = new Set([...subtree, ...tree.model.ancestors(node.id).map((a) => a.id)]);
      const all = acl.grants();
      const places = await placeTrashed(db, tree.model, all);
      const governed = (g: GrantRecord) => {
        const gov = places.get(g.nodeId)?.governor;
        return gov !== undefined && subtree.has(gov.id);
      };
      return all.filter((g) => applies.has(g.nodeId) || governed(g)).map((g) => view(g, places));
    },

    /** Every grant, or only those on trashed nodes (`trashed: true`) or on live ones; for superusers. */
    async listGrants(filter: { trashed?: boolean | undefined }) {
      const all = acl.grants();
      const places = await placeTrashed(db, tree.model, all);
      return all.map((g) => view(g, places)).filter((v) => filter.trashed === undefined || v.trashed === filter.trashed);
    },

    /** Give a user or group a role on a node; only what the actor holds there may be handed out. */
    async grant(actor: Actor, input: z.infer<typeof CreateGrantInput>) {
      const node = tree.node(input.nodePath);
      authorize(actor, 'grant.write', node);
      const role = acl.roleByName(input.role);
      if (!role) throw new ValidationError(`unknown role '${input.role}'`, [{ path: ['role'], message: 'no such role' }]);
      // Nobody hands out what they do not hold: a non-superuser may grant only operations they have on the node.
      const missing = role.operations.filter((op) => !acl.can(actor, op, node.id));
      if (missing.length) throw new ForbiddenError(`grant role '${role.name}' (lacking ${missing.join(', ')})`, node.path);
      if (input.expiresAt && Date.parse(input.expiresAt) <= Date.now()) throw new ValidationError('expiresAt is in the past', [{ path: ['expiresAt'], message: 'must be in the future' }]);
      const g = await writer.run(actor, async (w) => {
        let subjectId: number;
        if (input.user !== undefined) {
          const u = await repo.userByName(w.tx, input.user);
          if (!u) throw new ValidationError(`unknown user '${input.user}'`, [{ path: ['user'], message: 'no such user' }]);
          subjectId = u.id;
        } else {
          const grp = await repo.groupByName(w.tx, input.group as string);
          if (!grp) throw new ValidationError(`unknown group '${input.group}'`, [{ path: ['group'], message: 'no such group' }]);
          subjectId = grp.id;
        }
        const subjectKind = input.user !== undefined ? 'user' : 'group';
        // The same role twice on one node for one subject grants nothing more and makes revoking it a guess.
        const same = acl.grants().find((x) => x.subjectKind === subjectKind && x.subjectId === subjectId && x.roleId === role.id && x.nodeId === node.id);
        if (same) {
          const existing = view(same);
          const lapsed = existing.expiresAt !== null && Date.parse(existing.expiresAt) <= Date.now() ? `, expired ${existing.expiresAt}` : '';
          throw new ConflictError(
            `${subjectKind} '${existing.subject}' already holds role '${role.name}' on ${node.path} (grant ${same.id}${lapsed}); revoke that grant to give it anew`,
            { grant: existing },
          );
        }
        const row = await repo.insertGrant(w.tx, {
          subjectKind,
          subjectId,
          roleId: role.id,
          nodeId: node.id,
          expiresAt: input.expiresAt ?? null,
          createdBy: actor.id,
        });
        w.audit({ operation: 'grant.create', targetKind: 'grant', target: `${input.user ?? `@${input.group}`}:${role.name}`, nodeId: node.id, nodePath: node.path, after: input });
        w.emit(ACL_TOPIC, { grants: [row] } satisfies AclChange);
        return row;
      });
      return view(g);
    },

    /** Remove a grant, on a live node or a trashed one (governed from its nearest live ancestor). */
    async revoke(actor: Actor, id: number) {
      const g = acl.grants().find((x) => x.id === id);
      if (!g) throw new NotFoundError('grant', String(id));
      const live = tree.model.get(g.nodeId);
      const places = live ? undefined : await placeTrashed(db, tree.model, [g]);
      const place = places?.get(g.nodeId);
      const nodePath = live?.path ?? place?.lastPath;
      if (nodePath === undefined) throw new NotFoundError('grant', String(id));
      // A grant on a trashed node is governed from its nearest live ancestor: the people whose
      // grant.write reached it there through inheritance keep it; rights held on the trashed node
      // itself are in the trash too, and with no live ancestor only superusers may act.
      const governor = live ?? place?.governor;
      if (!actor.superuser && !(governor && acl.can(actor, 'grant.write', governor.id))) {
        if (governor && acl.can(actor, 'tree.read', governor.id)) throw new ForbiddenError('grant.write', nodePath);
        throw new NotFoundError('grant', String(id));
      }
      await writer.run(actor, async (w) => {
        const row = await repo.deleteGrant(w.tx, id);
        if (!row) throw new NotFoundError('grant', String(id));
        w.audit({ operation: 'grant.revoke', targetKind: 'grant', target: String(id), nodeId: g.nodeId, nodePath, before: view(row, places) });
        w.emit(ACL_TOPIC, { removeGrants: [id] } satisfies AclChange);
      });
    },
  };
}
