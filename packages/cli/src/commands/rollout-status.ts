/**
 * `canopy nginx status CLUSTER` and `canopy lvs status CLUSTER`: the version each machine of the
 * cluster runs against the rollout's target, with the machines that lag behind or failed flagged.
 */
import type { Command } from 'commander';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { table } from '../output.ts';

/** The server's `GET /{kind}/clusters/{path}/machines`. */
export interface ClusterMachines {
  cluster: string;
  latest: number;
  rollout: { version: number; state: string; canary: string | null; failedOn: string | null; error: string | null } | null;
  machines: {
    hostname: string;
    version: number | null;
    target: number;
    state: 'current' | 'applying' | 'failed' | 'lagging' | 'none';
    lagging: boolean;
    task: { state: string | null } | null;
    error: string | null;
    agent: string;
  }[];
}

const FLAG: Record<ClusterMachines['machines'][number]['state'], string> = { current: '', none: '', applying: 'APPLYING', lagging: 'LAGGING', failed: 'FAILED' };

/** The status for people: one line for the rollout, a table of machines, then each failure's error. */
export function statusText(s: ClusterMachines): string {
  const r = s.rollout;
  const head = r
    ? `${s.cluster}: v${r.version} ${r.state}${r.canary ? ` (first: ${r.canary})` : ''}${r.failedOn ? `, stopped at ${r.failedOn}` : ''}\n`
    : `${s.cluster}: ${s.latest === 0 ? 'nothing published' : `v${s.latest} published, not rolled out yet`}\n`;
  const rows = s.machines.map((m) => [m.hostname, m.version === null ? '-' : `v${m.version}`, m.target === 0 ? '-' : `v${m.target}`, FLAG[m.state], m.task?.state ?? '', m.agent]);
  const errors = s.machines.filter((m) => m.error).map((m) => `\n${m.hostname}: ${m.error}\n`);
  return head + table(['machine', 'runs', 'target', 'flag', 'task', 'agent'], rows, '(no machine is bound to the cluster node)\n') + errors.join('');
}

/** Adds `status <cluster>` to the `canopy nginx|lvs` group. */
export function registerStatus(group: Command, ctx: CliContext, urlOf: (cluster: string) => string): void {
  withJson(group.command('status <cluster>').description('the version each machine of the cluster runs; lagging and failed machines flagged')).action(
    async (cluster: string, opts: JsonOption) => {
      const s = await ctx.client().request<ClusterMachines>('GET', `${urlOf(cluster)}/machines`);
      ctx.print(opts.json, s, () => statusText(s));
    },
  );
}
