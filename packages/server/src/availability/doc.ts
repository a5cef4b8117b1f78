/**
 * The `access-log` document each nginx machine's agent gets: the access logs of the clusters it
 * is bound to and how requests route (domain + location → service), from the nginx settings' draft
 * of each cluster (what `apply` publishes), so the agent attributes every line to its service.
 */
import type { AccessLogDoc, AccessRoute } from '@canopy/core';
import type { MachineService } from '../machines/index.ts';
import type { NginxService } from '../nginx/index.ts';
import type { TreeService } from '../tree/index.ts';

/** The document for `machineId`; undefined when it is in no nginx cluster. */
export function accessLogDoc(deps: { machines: MachineService; nginx: NginxService; tree: TreeService }, machineId: number): AccessLogDoc | undefined {
  const m = deps.machines.model.get(machineId);
  if (!m) return undefined;
  const files = new Map<string, string>();
  const routes: AccessRoute[] = [];
  let logDir: string | undefined;
  for (const nodeId of m.nodeIds) {
    const node = deps.tree.model.get(nodeId);
    if (!node || !deps.nginx.settings.clusters.get(nodeId)) continue;
    const draft = deps.nginx.settings.draft(node);
    logDir ??= draft.options.logDir;
    for (const d of draft.domains) files.set(d.accessLogPath ?? `${d.domain}_access.log`, d.domain);
    for (const s of draft.services) for (const du of s.domainUris) routes.push({ domain: du.domain, location: du.uri, upstream: s.upstream, service: s.path });
  }
  if (files.size === 0) return undefined;
  routes.sort((a, b) => (a.domain + a.location < b.domain + b.location ? -1 : 1));
  return {
    ...(logDir ? { logDir } : {}),
    files: [...files].map(([file, domain]) => ({ file, domain })).sort((a, b) => (a.file < b.file ? -1 : 1)),
    routes,
  };
}
