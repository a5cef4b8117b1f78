/**
 * Every top-level command and the module that implements it. `main.ts` imports a module only when
 * its command runs, so `canopy enc` does not pay for parsing the tree or machine commands.
 *
 * To add a command group: write `commands/<group>.ts` exporting
 * `register<Group>(program: Command, ctx: CliContext): void`, and add one entry here. Inside, call
 * `ctx.client()` for the API, `withJson(cmd)` + `ctx.print(opts.json, data, render)` for output, and
 * throw (UsageError, or let CanopyApiError through): main prints one `error: …` line and exits 1.
 * `--url` and `--token` are global (they may appear anywhere), so no command may reuse those names;
 * and a command that has subcommands should not carry options of its own (commander hands a trailing
 * option to the parent first; see `grant ls`).
 */
import type { Command } from 'commander';
import type { CliContext } from './context.ts';

/** Adds one or more top-level commands to `program`. */
export type Register = (program: Command, ctx: CliContext) => void;

export interface CommandEntry {
  /** The top-level command word, e.g. `tree`. */
  name: string;
  /** One line for `canopy --help` (shown without loading the module). */
  summary: string;
  load(): Promise<Register>;
}

const session = async (): Promise<Register> => (await import('./commands/session.ts')).registerSession;
const accounts = async (): Promise<Register> => (await import('./commands/accounts.ts')).registerAccounts;
const grants = async (): Promise<Register> => (await import('./commands/grant.ts')).registerGrant;
const ssh = async (): Promise<Register> => (await import('./commands/ssh.ts')).registerSsh;

/** The command table, in the order `canopy --help` lists it. */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'login', summary: 'log in and save the server URL and token', load: session },
  { name: 'logout', summary: 'end the session and forget the saved token', load: session },
  { name: 'whoami', summary: 'show who the saved credentials belong to', load: session },
  { name: 'tree', summary: 'browse and change the service tree', load: async () => (await import('./commands/tree.ts')).registerTree },
  { name: 'machine', summary: 'add, import, bind and list machines', load: async () => (await import('./commands/machine.ts')).registerMachine },
  { name: 'user', summary: 'add, list, change (passwd, disable) and remove users; the login log', load: accounts },
  { name: 'group', summary: 'add and list groups, set their members', load: accounts },
  { name: 'token', summary: "create, list and revoke API tokens (superusers: anyone's)", load: accounts },
  { name: 'grant', summary: 'grant a role on a node to a user or group; list and revoke grants', load: grants },
  { name: 'role', summary: 'list, add, edit and remove roles', load: grants },
  { name: 'ssh', summary: 'log in to a machine with a short-lived certificate, host checked by the Canopy host CA', load: ssh },
  { name: 'ssh-cert', summary: 'sign your SSH key for a few hours (KEY-cert.pub)', load: ssh },
  { name: 'ssh-cert-revoke', summary: 'revoke an SSH certificate', load: ssh },
  { name: 'ssh-access', summary: 'who may log in to the machines of a node, and through which grant', load: ssh },
  { name: 'ssh-break-glass', summary: "make a node's break-glass key (shown once)", load: ssh },
  { name: 'login-audit', summary: 'logins on machines, accepted and refused (--under, --user)', load: ssh },
  { name: 'audit', summary: 'read the audit log', load: async () => (await import('./commands/audit.ts')).registerAudit },
  { name: 'nginx', summary: 'nginx domains and service settings; render, plan, apply, roll back and diff the nginx config of a cluster', load: async () => (await import('./commands/nginx.ts')).registerNginx },
  { name: 'lvs', summary: 'render, plan, apply, roll back and diff the keepalived (LVS) config of a cluster', load: async () => (await import('./commands/nginx.ts')).registerLvs },
  { name: 'discovery', summary: 'keep a service instance registered; list, define and delete services and aliases', load: async () => (await import('./commands/discovery.ts')).registerDiscovery },
  { name: 'enc', summary: 'print the Puppet ENC answer for a host (usable as external_nodes)', load: async () => (await import('./commands/enc.ts')).registerEnc },
  { name: 'puppet', summary: 'list and refresh the Puppet classes; show and set the default classes', load: async () => (await import('./commands/enc.ts')).registerPuppet },
  { name: 'cron', summary: "a node's scheduled jobs, inherited below it: ls, set (or --disable), rm, runs", load: async () => (await import('./commands/cron.ts')).registerCron },
  { name: 'proc', summary: 'supervised processes of a subtree: ls, start, stop, restart, logs (--follow); set, show, rm', load: async () => (await import('./commands/proc.ts')).registerProc },
  { name: 'job', summary: 'run commands on many machines in batches; follow, pause, stop and retry them', load: async () => (await import('./commands/jobs.ts')).registerJobs },
  { name: 'agent', summary: 'the agent of each machine: connected, unreachable or never enrolled', load: async () => (await import('./commands/jobs.ts')).registerJobs },
  { name: 'artifact', summary: 'the artifact repository: push, ls, show, pull, rm and prune versions (corp.pay.api@1.4.2)', load: async () => (await import('./commands/artifact.ts')).registerArtifact },
  { name: 'build', summary: 'build a service from git on its build pool; follow the log, cancel, list', load: async () => (await import('./commands/build.ts')).registerBuild },
  { name: 'deploy', summary: "roll a node's process to an artifact version in batches: run (--follow), ls, show, log, pause, resume, stop, rollback, approve, where, policy", load: async () => (await import('./commands/deploy.ts')).registerDeploy },
  { name: 'availability', summary: 'availability of services from nginx logs: ls, show (SLO, burn alerts, backends), ejections, set', load: async () => (await import('./commands/availability.ts')).registerAvailability },
  { name: 'monitor', summary: 'metrics of a subtree (query, top, overview) and its collect rules', load: async () => (await import('./commands/monitor.ts')).registerMonitor },
  { name: 'alert', summary: 'alerts of a subtree: ls, history, ack, silence, silences, unsilence; rules on nodes, Prometheus export', load: async () => (await import('./commands/alert.ts')).registerAlert },
  { name: 'trash', summary: 'list deleted nodes and restore them', load: async () => (await import('./commands/trash.ts')).registerTrash },
  {
    name: 'lb',
    summary: 'show which server a load-balancing algorithm picks',
    load: async () => {
      const { registerLb } = await import('./commands/lb.ts');
      return (program) => void registerLb(program);
    },
  },
];
