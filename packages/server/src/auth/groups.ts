/**
 * Groups of users: created, re-membered and deleted by superusers (the routes check). A group still
 * granted a role somewhere is deleted only with `force`, which revokes those grants in the same change.
 */
import { ConflictError, NotFoundError, ValidationError, type CreateGroupInput } from '@canopy/core';
import type { z } from 'zod';
import type { Actor, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { TreeService } from '../tree/index.ts';
import { ACL_TOPIC, type AclChange, type AclModel } from './acl.ts';
import { grantViews } from './grants.ts';
import * as repo from './repo.ts';

export interface GroupDeps {
  writer: Writer;
  db: Queryable;
  tree: TreeService;
  acl: AclModel;
}

/** The group operations the auth service exposes as its own. */
export function createGroupOps(deps: GroupDeps) {
  const { writer, db, tree, acl } = deps;

  async function resolveUsers(q: Queryable, names: string[]): Promise<number[]> {
    const found = await repo.usersByName(q, [...new Set(names)]);
    const missing = names.filter((n) => !found.some((f) => f.username === n));
    if (missing.length) throw new ValidationError(`unknown user(s): ${missing.join(', ')}`, missing.map((m) => ({ path: ['members'], message: `no user '${m}'` })));
    return found.map((f) => f.id);
  }

  return {
    listGroups: async () => Promise.all((await repo.listGroups(db)).map(async (g) => ({ ...g, members: await repo.membersOf(db, g.id) }))),

    async createGroup(actor: Actor, input: z.infer<typeof CreateGroupInput>) {
      return writer.run(actor, async (w) => {
        if (await repo.groupByName(w.tx, input.name)) throw new ConflictError(`group '${input.name}' already exists`);
        const ids = await resolveUsers(w.tx, input.members);
        const g = await repo.insertGroup(w.tx, input.name, input.description);
        await repo.replaceMembers(w.tx, g.id, ids);
        w.audit({ operation: 'group.create', targetKind: 'group', target: g.name, after: input });
        w.emit(ACL_TOPIC, { groups: [g], members: [{ groupId: g.id, userIds: ids }] } satisfies AclChange);
        return { ...g, description: input.description, members: input.members };
      });
    },

    async setMembers(actor: Actor, name: string, members: string[]) {
      return writer.run(actor, async (w) => {
        const g = await repo.groupByName(w.tx, name);
        if (!g) throw new NotFoundError('group', name);
        const before = await repo.membersOf(w.tx, g.id);
        const ids = await resolveUsers(w.tx, members);
        await repo.replaceMembers(w.tx, g.id, ids);
        w.audit({ operation: 'group.members', targetKind: 'group', target: name, before, after: members });
        w.emit(ACL_TOPIC, { members: [{ groupId: g.id, userIds: ids }] } satisfies AclChange);
        return { ...g, members: [...members].sort() };
      });
    },

    /** Delete a group; refused while it holds grants unless `force`, which revokes them too. Its members stay. */
    async deleteGroup(actor: Actor, name: string, force: boolean) {
      await writer.run(actor, async (w) => {
        const g = await repo.groupByName(w.tx, name);
        if (!g) throw new NotFoundError('group', name);
        const held = acl.grants().filter((x) => x.subjectKind === 'group' && x.subjectId === g.id);
        const views = await grantViews(w.tx, acl, tree, held);
        if (held.length && !force) {
          const list = views.map((v) => `${v.id} (${v.role} on ${v.nodePath})`).join(', ');
          throw new ConflictError(`group '${name}' still holds grant(s) ${list}; revoke them, or delete with force to revoke them too`, { grants: views });
        }
        const members = await repo.membersOf(w.tx, g.id);
        await repo.deleteGrants(w.tx, held.map((x) => x.id));
        await repo.deleteGroup(w.tx, g.id);
        w.audit({ operation: 'group.delete', targetKind: 'group', target: name, before: { ...g, members, grants: views } });
        w.emit(ACL_TOPIC, { removeGrants: held.map((x) => x.id), removeGroups: [g.id] } satisfies AclChange);
      });
    },
  };
}
