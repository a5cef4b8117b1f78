/**
 * Machine credentials: what the agent on a machine authenticates with. An operator who may change
 * a machine issues one (`cnm_…`, shown once); the agent sends it as a Bearer token and acts as the
 * machine itself — an actor of kind `agent` carrying the machine's id — which discovery lets
 * register, heartbeat and deregister that machine's own instances and read services. A credential
 * stops working when it is revoked or the machine is retired.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError } from '@canopy/core';
import type { Actor, ChangeFeed, WriteContext, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { Principal } from '../auth/index.ts';
import type { MachineService } from '../machines/index.ts';
import * as repo from './repo.ts';

/** Every machine credential starts with this, so a Bearer secret's kind is known before any lookup. */
export const MACHINE_SECRET_PREFIX = 'cnm_';
const AGENT_TOPIC = 'agent.credential';
/** Cached secrets, past which the cache starts over (a flood of random tokens cannot grow it). */
const CACHE_LIMIT = 100_000;

export type AgentService = ReturnType<typeof createAgentService>;

const hashOf = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** Build the agent service over the machines service. */
export function createAgentService(deps: { writer: Writer; feed: ChangeFeed; db: Queryable; machines: MachineService }) {
  const { writer, feed, db, machines } = deps;
  // Secret hash → machine id, so an agent's heartbeats cost no database read. Unknown secrets are
  // not kept: a later issue must not be shadowed by an earlier miss.
  const cache = new Map<string, number>();
  feed.on(AGENT_TOPIC, (c) => {
    for (const h of (c.payload as { hashes: string[] }).hashes) cache.delete(h);
  });

  function machineOf(hostname: string) {
    const m = machines.model.byHostname(hostname);
    if (!m) throw new NotFoundError('machine', hostname);
    return m;
  }

  async function issueIn(w: WriteContext, m: { id: number; hostname: string }, name: string) {
    const secret = `${MACHINE_SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
    if (await repo.byName(w.tx, m.id, name)) throw new ConflictError(`machine '${m.hostname}' already has a credential named '${name}'`);
    const r = await repo.insert(w.tx, { machineId: m.id, name, secretHash: hashOf(secret), prefix: secret.slice(0, 8), createdBy: w.actor.name });
    w.audit({ operation: 'machine.credential.issue', targetKind: 'machine', target: m.hostname, after: r });
    return { ...r, hostname: m.hostname, token: secret };
  }

  return {
    /** The actor behind a machine credential, or undefined (unknown, revoked, or the machine retired). */
    async authenticate(secret: string): Promise<Principal | undefined> {
      if (!secret.startsWith(MACHINE_SECRET_PREFIX)) return undefined;
      const hash = hashOf(secret);
      let id = cache.get(hash);
      if (id === undefined) {
        id = await repo.machineByHash(db, hash);
        if (id === undefined) return undefined;
        if (cache.size >= CACHE_LIMIT) cache.clear();
        cache.set(hash, id);
      }
      const m = machines.model.get(id);
      if (!m || m.status === 'retired') return undefined;
      const actor: Actor = { kind: 'agent', id: null, name: `machine:${m.hostname}`, superuser: false, machineId: m.id };
      return { actor, via: 'token', csrfToken: null };
    },

    /** Issue a credential named `name` for `hostname`; the secret is returned once and stored hashed. */
    async issue(actor: Actor, hostname: string, name: string) {
      const m = machineOf(hostname);
      return writer.run(actor, (w) => issueIn(w, { id: m.id, hostname }, name));
    },

    /** Issue a credential inside the caller's transaction (enrollment creates the machine in the same one). */
    issueIn,

    /** The credentials of `hostname`, without secrets. */
    async list(hostname: string) {
      return repo.list(db, machineOf(hostname).id);
    },

    /** Revoke credential `id` of `hostname`: the agent holding it is refused from the next request on. */
    async revoke(actor: Actor, hostname: string, id: number): Promise<void> {
      const m = machineOf(hostname);
      await writer.run(actor, async (w) => {
        const gone = await repo.remove(w.tx, m.id, id);
        if (!gone) throw new NotFoundError('credential', `${hostname}/${id}`);
        w.audit({ operation: 'machine.credential.revoke', targetKind: 'machine', target: hostname, before: gone.row });
        w.emit(AGENT_TOPIC, { hashes: [gone.hash] });
      });
    },
  };
}
