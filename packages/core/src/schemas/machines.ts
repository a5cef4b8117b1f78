/** Machine request and response shapes. */
import { z } from 'zod';
import { Cursor, Hostname, Labels, NodePath, Timestamp } from './common.ts';
import { MachineAgentView } from './agents.ts';

export const MACHINE_STATUSES = ['installing', 'online', 'offline', 'maintenance', 'retired'] as const;
export const MACHINE_KINDS = ['physical', 'vm'] as const;

const Ip = z.union([z.ipv4(), z.ipv6()]);
const ShortText = z.string().max(128).regex(/^[\x20-\x7e]*$/, 'printable ASCII only');
const Zone = z.string().max(63).regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)?$/, 'a DNS label or empty');

const machineFields = {
  ips: z.array(Ip).max(32),
  serial: ShortText,
  idc: Zone,
  zone: Zone,
  kind: z.enum(MACHINE_KINDS),
  cpuCores: z.number().int().min(0).max(100000).nullable(),
  memoryMb: z.number().int().min(0).max(1 << 30).nullable(),
  diskGb: z.number().int().min(0).max(1 << 30).nullable(),
  os: ShortText,
  status: z.enum(MACHINE_STATUSES),
  labels: Labels,
  facts: z.record(z.string().max(128), z.unknown()).refine((f) => JSON.stringify(f).length <= 65536, 'facts are limited to 64 KiB'),
};

export const CreateMachineInput = z.strictObject({
  hostname: Hostname,
  ips: machineFields.ips.default([]),
  serial: machineFields.serial.default(''),
  idc: machineFields.idc.default(''),
  zone: machineFields.zone.default(''),
  kind: machineFields.kind.default('vm'),
  cpuCores: machineFields.cpuCores.default(null),
  memoryMb: machineFields.memoryMb.default(null),
  diskGb: machineFields.diskGb.default(null),
  os: machineFields.os.default(''),
  status: machineFields.status.default('installing'),
  labels: machineFields.labels.default({}),
  facts: machineFields.facts.default({}),
  /** Nodes to bind the new machine to. */
  nodes: z.array(NodePath).max(64).default([]),
});
export type CreateMachineInput = z.infer<typeof CreateMachineInput>;

export const PatchMachineInput = z
  .strictObject({
    ips: machineFields.ips.optional(),
    serial: machineFields.serial.optional(),
    idc: machineFields.idc.optional(),
    zone: machineFields.zone.optional(),
    kind: machineFields.kind.optional(),
    cpuCores: machineFields.cpuCores.optional(),
    memoryMb: machineFields.memoryMb.optional(),
    diskGb: machineFields.diskGb.optional(),
    os: machineFields.os.optional(),
    status: machineFields.status.optional(),
    labels: machineFields.labels.optional(),
    facts: machineFields.facts.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'nothing to change');
export type PatchMachineInput = z.infer<typeof PatchMachineInput>;

export const MachineView = z.object({
  id: z.number().int(),
  hostname: z.string(),
  ips: z.array(z.string()),
  serial: z.string(),
  idc: z.string(),
  zone: z.string(),
  kind: z.enum(MACHINE_KINDS),
  cpuCores: z.number().int().nullable(),
  memoryMb: z.number().int().nullable(),
  diskGb: z.number().int().nullable(),
  os: z.string(),
  status: z.enum(MACHINE_STATUSES),
  labels: z.record(z.string(), z.string()),
  facts: z.record(z.string(), z.unknown()),
  /** The nodes the machine is bound to that the caller can open; the others are only counted. */
  nodes: z.array(z.string()),
  /** How many of the machine's nodes the caller cannot see (API answers always set it). */
  hiddenNodeCount: z.number().int().optional(),
  /** On a create's answer: the bindings that came from an open install request, and what justified each (a node hidden from the caller: null). */
  provisioned: z.array(z.object({ requestId: z.number().int(), nodePath: z.string().nullable(), via: z.string() })).optional(),
  /** Its agent: connection state, last heartbeat, version and facts (reads set it; write answers may not). */
  agent: MachineAgentView.optional(),
  version: z.number().int(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type MachineView = z.infer<typeof MachineView>;

export const ListMachinesQuery = z.strictObject({
  under: NodePath.optional(),
  status: z.enum(MACHINE_STATUSES).optional(),
  zone: z.string().max(63).optional(),
  idc: z.string().max(63).optional(),
  q: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: Cursor,
});

export const ImportReportRow = z.object({
  row: z.number().int(),
  hostname: z.string().optional(),
  ok: z.boolean(),
  action: z.enum(['created', 'updated', 'skipped']).optional(),
  errors: z.array(z.string()).optional(),
  /** What the row landed with that it did not say, e.g. "corp.search.query moved to corp.find.query". */
  notes: z.array(z.string()).optional(),
});
export const ImportReport = z.object({
  created: z.number().int(),
  updated: z.number().int(),
  failed: z.number().int(),
  rows: z.array(ImportReportRow),
});
export type ImportReport = z.infer<typeof ImportReport>;
