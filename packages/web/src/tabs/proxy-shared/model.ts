/**
 * What the Nginx and LVS tabs share: the published-config API's shapes (`/{kind}/clusters/{path}/…`),
 * and how a discovery instance stands as a backend of either proxy — the same rules the server's
 * renderers follow, so the table never promises a server the config does not have.
 */
import type { InstanceView } from '@canopy/core';

export type { InstanceView };

/** The two kinds of proxy cluster; also the first segment of their cluster URLs. */
export type ProxyKind = 'nginx' | 'lvs';

/** One published version, without its files. */
export interface VersionView {
  version: number;
  sha256: string;
  author: string;
  reason: string;
  rollbackOf: number | null;
  createdAt: string;
  /** Lines its diff added and removed; kept when its content is pruned. */
  added: number;
  removed: number;
  /** Only this metadata remains: the server's retention policy dropped its files, settings and diff. */
  contentPruned: boolean;
}

export interface ConfigFile {
  path: string;
  content: string;
}

/** `GET …/config` (and what a watch answers). */
export interface ConfigView extends VersionView {
  cluster: string;
  files: ConfigFile[];
}

/** `GET …/versions/{n}`. */
export interface VersionDetail extends ConfigView {
  diff: string;
  checkOutput: string;
  input: unknown;
}

/** `POST …/plan`. */
export interface PlanView {
  cluster: string;
  baseVersion: number;
  changed: boolean;
  diff: string;
  added: number;
  removed: number;
  /** The current version is a rollback and the settings moved away from it. */
  note?: string;
  /** The diff split by whose change each part is (nginx). */
  origins?: PlanOrigin[];
}

/** One settings row's share of a plan. */
export interface PlanOrigin {
  kind: 'instances' | 'cluster' | 'domain' | 'service';
  target: string;
  change: 'added' | 'changed' | 'removed';
  by: string;
  at: string;
  diff: string;
  added: number;
  removed: number;
}

/** `POST …/apply` and `POST …/rollback`. */
export interface ApplyView {
  cluster: string;
  published: boolean;
  version: VersionView;
  diff: string;
  checkOutput: string;
  /** A rollback's settings restore: rows set back, and rows that now diverge from the version. */
  restored?: { restored: string[]; notRestored: { target: string; reason: string }[] };
}

/** What a rollback could not set back, one line each: the next apply would publish these rows' current settings. */
export function rollbackDivergence(r: ApplyView): string[] {
  return (r.restored?.notRestored ?? []).map((n) => `${n.target}: ${n.reason}`);
}

/** A plan origin's heading, e.g. `service corp.pay.web changed by bob`. */
export function originTitle(o: PlanOrigin): string {
  return `${o.kind === 'instances' ? 'backend instances' : `${o.kind} ${o.target}`} ${o.change}${o.by ? ` by ${o.by}` : ''}`;
}

/** Where a cluster's publication stands; part of both cluster views. */
export interface PublishStatus {
  published: VersionView | null;
  /** The last automatic re-render the real program refused; null once one succeeds. */
  lastError: { at: string; reason: string; output: string } | null;
}

/** The program each kind's configs are checked with, as its error messages name it. */
export const CHECKER: Record<ProxyKind, string> = { nginx: 'nginx -t', lvs: 'keepalived -t' };

/** How one instance ends up in a proxy's config. */
export type BackendStanding =
  | { state: 'serving'; weight: number }
  /** Listed but given no new traffic: nginx `down`, IPVS weight 0. */
  | { state: 'off'; why: string }
  /** Not in the config at all. */
  | { state: 'absent'; why: string };

/**
 * How each instance stands behind a proxy sending to `port` (mirrors the server's `serversOn`):
 * unbound, address-less or other-port instances are absent; one per address, the first wins;
 * draining, down or critical instances stay listed with no traffic, unless the protect threshold
 * keeps a critical one serving.
 */
export function backendStandings(instances: readonly InstanceView[], port: number): Map<number, BackendStanding> {
  const out = new Map<number, BackendStanding>();
  const seen = new Set<string>();
  for (const i of instances) {
    if (i.port !== port) out.set(i.id, { state: 'absent', why: `serves port ${i.port}, not ${port}` });
    else if (!i.bound) out.set(i.id, { state: 'absent', why: 'machine unbound, retired or without an address' });
    else if (i.ip === '') out.set(i.id, { state: 'absent', why: 'no address' });
    else if (seen.has(i.ip)) out.set(i.id, { state: 'absent', why: `another instance already uses ${i.ip}` });
    else {
      seen.add(i.ip);
      // `serving` is discovery's own selection (health, protect threshold), as the proxies use it.
      if (i.serving) out.set(i.id, { state: 'serving', weight: i.weight });
      else if (i.status === 'down' || i.health === 'critical') out.set(i.id, { state: 'off', why: i.status === 'down' ? 'down' : 'failing its health check' });
      else out.set(i.id, { state: 'off', why: i.status === 'draining' ? 'draining' : 'not selected' });
    }
  }
  return out;
}

/** `2024-05-01T10:00:00Z` → the reader's local date and time. */
export function when(iso: string): string {
  return new Date(iso).toLocaleString();
}
