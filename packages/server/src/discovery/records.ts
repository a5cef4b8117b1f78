/** The discovery read model's records and the change events that carry them between replicas. */
import type { HealthState, InstanceStatus, LbPolicy, ServicePort } from '@canopy/core';

export const DISCOVERY_TOPIC = 'discovery';

export interface ServiceRecord {
  nodeId: number;
  ports: ServicePort[];
  lb: LbPolicy;
  protectThreshold: number;
  zoneAware: boolean;
  zoneMinHealthy: number;
  passesBeforePassing: number;
  failuresBeforeCritical: number;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface InstanceRecord {
  id: number;
  nodeId: number;
  machineId: number;
  port: number;
  portName: string;
  /** Pinned address, or null to follow the machine's first. */
  ip: string | null;
  weight: number;
  status: InstanceStatus;
  health: HealthState;
  ttlSeconds: number | null;
  meta: Record<string, string>;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** What discovery needs of a machine: where it is and which nodes it serves. */
export interface MachineInfo {
  id: number;
  hostname: string;
  ips: string[];
  zone: string;
  status: string;
  nodeIds: number[];
}

export interface AliasRecord {
  path: string;
  /** Exactly one of these is set: a service node (by id, so renames follow) or another alias. */
  targetNodeId: number | null;
  targetPath: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** Payload of a change on DISCOVERY_TOPIC: after images, so applying one twice is harmless. */
export type DiscoveryChange =
  | { kind: 'service'; service: ServiceRecord }
  | { kind: 'service.remove'; nodeId: number }
  | { kind: 'instance'; instance: InstanceRecord; machine: MachineInfo }
  | { kind: 'instance.remove'; id: number; nodeId: number }
  | { kind: 'health'; id: number; nodeId: number; health: HealthState; reason: string }
  | { kind: 'alias'; alias: AliasRecord }
  | { kind: 'alias.remove'; path: string }
  | { kind: 'dependencies'; nodeId: number; dependsOn: number[] };

/** What one applied change touched, for indexes and watchers. */
export interface Effect {
  /** Service nodes whose answer may have changed. */
  nodeIds: Set<number>;
  /** Alias paths created, retargeted or removed. */
  aliasPaths: Set<string>;
  /** Path resolution may have changed (services appeared or went, nodes moved, aliases changed). */
  reroute: boolean;
}

/** An effect touching nothing. */
export function emptyEffect(): Effect {
  return { nodeIds: new Set(), aliasPaths: new Set(), reroute: false };
}

/** The whole model as loaded at start-up. */
export interface DiscoverySnapshot {
  services: ServiceRecord[];
  instances: InstanceRecord[];
  machines: MachineInfo[];
  aliases: AliasRecord[];
  dependencies: { nodeId: number; dependsOn: number }[];
  /** Old path → node id, newest rename first wins. */
  oldPaths: { oldPath: string; nodeId: number }[];
  /** Nodes in the trash and the path each had: restoring one under a renamed parent makes that path old. */
  trashed: { id: number; path: string }[];
  /** Newest change-feed revision when the snapshot began. */
  revision: number;
}
