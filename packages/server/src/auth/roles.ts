/**
 * Roles: named sets of operations. Superusers create, edit and delete them (the routes check);
 * built-in roles keep their operations, and a role still granted is deleted only with `force`,
 * which revokes those grants in the same change.
 */
import { ConflictError, NotFoundError, ValidationError, isOperation, type CreateRoleInput, type PatchRoleInput } from '@canopy/core';
import type { z } from 'zod';
import type { Actor, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { TreeService } from '../tree/index.ts';
import { ACL_TOPIC, type AclChange, type AclModel, type RoleRecord } from './acl.ts';
import { grantViews } from './grants.ts';
import * as repo from './repo.ts';

export interface RoleDeps {
  writer: Writer;
  db: Queryable;
  tree: TreeService;
  acl: AclModel;
}

function checkOperations(operations: string[]): void {
  const unknown = operations.filter((o) => !isOperation(o));
  if (unknown.length) throw new ValidationError(`unknown operation(s): ${unknown.join(', ')}`, unknown.map((o) => ({ path: ['operations'], message: `unknown operation '${o}'` })));
}

/** The role operations the auth service exposes as its own. */
export function createRoleOps(deps: RoleDeps) {
  const { writer, db, tree, acl } = deps;

  function existing(name: string): RoleRecord {
    const role = acl.roleByName(name);
    if (!role) throw new NotFoundError('role', name);
    return role;
  }

  return {
    roles: () => acl.roles(),

    async createRole(actor: Actor, input: z.infer<typeof CreateRoleInput>) {
      checkOperations(input.operations);
      return writer.run(actor, async (w) => {
        if (acl.roleByName(input.name)) throw new ConflictError(`role '${input.name}' already exists`);
        const role = await repo.insertRole(w.tx, { ...input, builtin: false });
        w.audit({ operation: 'role.create', targetKind: 'role', target: role.name, after: role });
        w.emit(ACL_TOPIC, { roles: [role] } satisfies AclChange);
        return role;
      });
    },

    /** Change a role's description or operations; every grant of it changes with it, at once. */
    async patchRole(actor: Actor, name: string, input: z.infer<typeof PatchRoleInput>) {
      if (input.operations) checkOperations(input.operations);
      return writer.run(actor, async (w) => {
        const before = existing(name);
        if (before.builtin && input.operations !== undefined) {
          throw new ConflictError(`role '${name}' is built in: its operations are fixed; create a role of your own instead`);
        }
        const operations = input.operations && [...new Set(input.operations)];
        const role = await repo.updateRole(w.tx, before.id, { description: input.description, operations });
        w.audit({ operation: 'role.update', targetKind: 'role', target: name, before, after: role });
        w.emit(ACL_TOPIC, { roles: [role] } satisfies AclChange);
        return role;
      });
    },

    /** Delete a custom role; refused while grants use it unless `force`, which revokes them too. */
    async deleteRole(actor: Actor, name: string, force: boolean) {
      await writer.run(actor, async (w) => {
        const role = existing(name);
        if (role.builtin) throw new ConflictError(`role '${name}' is built in and cannot be deleted`);
        const using = acl.grants().filter((g) => g.roleId === role.id);
        const views = await grantViews(w.tx, acl, tree, using);
        if (using.length && !force) {
          const list = views.map((g) => `${g.id} (${g.subjectKind === 'group' ? '@' : ''}${g.subject} on ${g.nodePath})`).join(', ');
          throw new ConflictError(`role '${name}' is still granted: grant(s) ${list}; revoke them, or delete with force to revoke them too`, { grants: views });
        }
        await repo.deleteGrants(w.tx, using.map((g) => g.id));
        await repo.deleteRole(w.tx, role.id);
        w.audit({ operation: 'role.delete', targetKind: 'role', target: name, before: { ...role, grants: views } });
        w.emit(ACL_TOPIC, { removeGrants: using.map((g) => g.id), removeRoles: [role.id] } satisfies AclChange);
      });
    },
  };
}
