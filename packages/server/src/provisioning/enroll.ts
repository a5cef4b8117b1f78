/**
 * Agent enrollment: the agent on a new machine trades its install request's one-time token for a
 * machine credential. In one transaction the token is spent, the machine is created from the
 * agent's facts (or an existing one is bound, when the request's proof allows), placed in the
 * request's IDC/zone, bound to its node and set online, the credential issued and the request
 * closed. Any refusal leaves everything as it was: the transaction rolls back.
 */
import { z } from 'zod';
import { ConflictError, CreateMachineInput, MachineFacts, UnauthenticatedError, type PatchMachineInput } from '@canopy/core';
import type { Actor, WriteContext, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { MachineService } from '../machines/index.ts';
import { iso, type TreeNode, type TreeService } from '../tree/index.ts';
import { proofOf, type ClaimVia } from './proof.ts';
import * as repo from './repo.ts';
import { ENROLLMENT_TOKEN_PREFIX, PROVISIONING_TOPIC, tokenHashOf } from './service.ts';

export const EnrollInput = z.strictObject({
  token: z.string().min(1).max(256).describe('the enrollment token (`cne_…`) of an install request'),
  facts: MachineFacts,
});
export type EnrollInput = z.infer<typeof EnrollInput>;

export const EnrolledView = z.object({
  hostname: z.string(),
  machineId: z.number().int(),
  requestId: z.number().int(),
  nodePath: z.string(),
  token: z.string().describe('the machine credential (`cnm_…`), shown once'),
});
export type EnrolledView = z.infer<typeof EnrolledView>;

/** Issues a machine credential inside the enrollment's transaction (agents/service.ts). */
export type IssueIn = (w: WriteContext, m: { id: number; hostname: string }, name: string) => Promise<{ token: string }>;

/** The actor enrollments are recorded under: the token is their only authority. */
const ENROLLMENT_ACTOR: Actor = Object.freeze({ kind: 'system', id: null, name: 'enrollment', superuser: true });
const printable = (v: string | null | undefined, max = 128) => (v ?? '').replace(/[^\x20-\x7e]/g, '').slice(0, max);
const isIp = (v: string) => z.union([z.ipv4(), z.ipv6()]).safeParse(v).success;
// IPv6 link-local addresses (fe80::/10) reach nothing beyond the link: not an address to serve on.
const linkLocal = (v: string) => /^fe[89ab][0-9a-f]:/i.test(v);

/** The machine fields an agent's facts say. */
export function machineFieldsOf(f: MachineFacts) {
  return {
    ips: f.ips.filter((ip) => isIp(ip) && !linkLocal(ip)).slice(0, 32),
    serial: printable(f.serial),
    cpuCores: f.cpus,
    memoryMb: Math.round(f.memoryBytes / 2 ** 20),
    diskGb: Math.round(f.disks.reduce((n, d) => n + d.sizeBytes, 0) / 2 ** 30),
    os: printable(f.os),
    facts: f as unknown as Record<string, unknown>,
  };
}

export type Enrollment = ReturnType<typeof createEnrollment>;

/** Build the enrollment exchange over the install requests, machines and credentials. */
export function createEnrollment(deps: { writer: Writer; db: Queryable; tree: TreeService; machines: MachineService; issueIn: IssueIn }) {
  const { writer, db, tree, machines, issueIn } = deps;

  /** The request the token names, if it may still be spent; else a 401 saying why. */
  async function spendable(w: WriteContext, token: string): Promise<{ row: repo.RequestRow; node: TreeNode }> {
    const row = token.startsWith(ENROLLMENT_TOKEN_PREFIX) ? await repo.lockByToken(w.tx, tokenHashOf(token)) : undefined;
    if (!row) throw new UnauthenticatedError('unknown enrollment token');
    if (row.enrolledAt) throw new UnauthenticatedError(`this enrollment token was already used (at ${iso(row.enrolledAt)}): create a new install request`);
    if (row.state === 'cancelled') throw new UnauthenticatedError(`install request #${row.id} was cancelled`);
    if (row.state === 'expired' || Date.parse(iso(row.expiresAt)) <= Date.now()) throw new UnauthenticatedError(`this enrollment token expired at ${iso(row.expiresAt)}: create a new install request`);
    const node = tree.model.get(row.nodeId);
    if (!node) throw new ConflictError(`the node install request #${row.id} names was deleted`, { requestId: row.id });
    return { row, node };
  }

  /** Bind the existing machine when the request may take it; else a 409 naming why. */
  async function bindExisting(w: WriteContext, row: repo.RequestRow, node: TreeNode, m: { id: number; status: string; serial: string; facts: Record<string, unknown> }, facts: MachineFacts): Promise<ClaimVia | null> {
    const h = row.hostname;
    if (m.status === 'retired') throw new ConflictError(`machine '${h}' is retired: unretire or delete it before enrolling it again`, { hostname: h });
    if (row.state === 'bound') {
      if (row.machineId === m.id) return null;
      throw new ConflictError(`install request #${row.id} was bound to another machine`, { requestId: row.id });
    }
    const via = proofOf(row, { serial: printable(facts.serial) || m.serial, facts: { ...m.facts, macs: facts.macs } });
    if (!via) {
      throw new ConflictError(
        `machine '${h}' already exists and install request #${row.id} does not prove this is it: ` +
          `the request names ${row.serial || row.mac ? 'a serial/MAC this machine does not report' : 'no serial or MAC'}; ` +
          `have someone with machine.write on its nodes create the request, or issue it a credential`,
        { hostname: h, requestId: row.id },
      );
    }
    await machines.placeIn(w, h, node, row);
    return via;
  }

  return {
    /** Exchange an enrollment token and the agent's facts for the machine's credential. */
    async enroll(input: EnrollInput): Promise<EnrolledView> {
      // Unknown tokens are refused before taking the global write lock: the route is public.
      const known = input.token.startsWith(ENROLLMENT_TOKEN_PREFIX) && (await repo.byToken(db, tokenHashOf(input.token)));
      if (!known) throw new UnauthenticatedError('unknown enrollment token');
      return writer.run(ENROLLMENT_ACTOR, async (w) => {
        const { row, node } = await spendable(w, input.token);
        const fields = machineFieldsOf(input.facts);
        const existing = await machines.findIn(w.tx, row.hostname);
        let via: ClaimVia | null = 'enrollment-token';
        let machineId: number;
        if (existing) {
          via = await bindExisting(w, row, node, existing, input.facts);
          const patch: PatchMachineInput = { ...fields, status: 'online' };
          machineId = (await machines.patchIn(w, row.hostname, patch)).id;
        } else {
          if (row.state !== 'open') throw new ConflictError(`install request #${row.id} was bound to machine #${row.machineId}, which is gone`, { requestId: row.id });
          // Close the request first, so the create's own claim (the install system's hook) finds none to take.
          await repo.close(w.tx, row.id, 'bound', null);
          const create = CreateMachineInput.parse({ ...fields, hostname: row.hostname, idc: row.idc, zone: row.zone, status: 'online', nodes: [node.path] });
          machineId = (await machines.createIn(w, create)).id;
        }
        const credential = await issueIn(w, { id: machineId, hostname: row.hostname }, `enrolled-${row.id}`);
        const closed = await repo.markEnrolled(w.tx, row.id, machineId);
        if (via) w.audit({ operation: 'provisioning.bind', targetKind: 'provisioning', target: row.hostname, nodeId: node.id, nodePath: node.path, after: { id: row.id, machineId, via } });
        w.audit({ operation: 'agent.enroll', targetKind: 'machine', target: row.hostname, nodeId: node.id, nodePath: node.path, after: { requestId: row.id, machineId, ips: fields.ips, os: fields.os } });
        w.emit(PROVISIONING_TOPIC, { upsert: [closed] });
        return { hostname: row.hostname, machineId, requestId: row.id, nodePath: node.path, token: credential.token };
      });
    },
  };
}
