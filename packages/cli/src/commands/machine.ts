/** `canopy machine …`: add, import, bind, list and retire machines, and manage their agents' credentials. */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { Option, type Command } from 'commander';
import type { Credential, ImportReport, MachineView } from '@canopy/sdk/client';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { fields, labels, table, UsageError } from '../output.ts';
import { collect, integer } from './options.ts';
import { registerMachineJobs } from './jobs.ts';
import { registerMachineEnroll } from './enroll.ts';

/** Kept here rather than imported from @canopy/core so this command loads without zod. */
const STATUSES = ['installing', 'online', 'offline', 'maintenance', 'retired'] as const;
type Status = (typeof STATUSES)[number];

const statusOption = (what: string) => new Option('--status <status>', what).choices(STATUSES);

/** Machines as a table for people. */
export function machineTable(items: MachineView[]): string {
  return table(
    ['hostname', 'status', 'ips', 'zone', 'idc', 'nodes'],
    items.map((m) => [m.hostname, m.status, m.ips.join(','), m.zone, m.idc, m.nodes.join(',')]),
    '(no machines)\n',
  );
}

/** The import report: one line per row, failures with their reasons (landed rows with their notes, e.g. a renamed node), then the counts. */
export function importReportText(r: ImportReport): string {
  const rows = r.rows.map((x) => [x.row, x.hostname, x.ok ? (x.action ?? 'ok') : 'FAILED', [...(x.errors ?? []), ...(x.notes ?? [])].join('; ')]);
  return `${table(['row', 'hostname', 'result', 'errors / notes'], rows, '')}created ${r.created}, updated ${r.updated}, failed ${r.failed}\n`;
}

function formatOf(file: string): 'csv' | 'json' {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.json') return 'json';
  throw new UsageError(`cannot tell the format of '${file}': name it *.csv or *.json`);
}

/** Adds `canopy machine` and its subcommands. */
export function registerMachine(program: Command, ctx: CliContext): void {
  const machine = program.command('machine').description('add, import, bind and list machines');
  registerMachineJobs(machine, ctx);
  registerMachineEnroll(machine, ctx);

  withJson(machine.command('add <hostname>').description('add a machine, optionally bound to nodes'))
    .option('--ip <ip>', 'an IP address (repeatable, or comma-separated)', collect, [])
    .option('--node <path>', 'bind to this node (repeatable, or comma-separated)', collect, [])
    .option('--zone <zone>', 'availability zone')
    .option('--idc <idc>', 'data centre')
    .addOption(statusOption('initial status (default installing)'))
    .action(async (hostname: string, opts: JsonOption & { ip: string[]; node: string[]; zone?: string; idc?: string; status?: Status }) => {
      const m = await ctx.client().machines.create({ hostname, ips: opts.ip, nodes: opts.node, zone: opts.zone, idc: opts.idc, status: opts.status });
      const taken = (m.provisioned ?? []).map((p) => `install request #${p.requestId} bound it${p.nodePath ? ` to ${p.nodePath}` : ''} (${p.via})\n`).join('');
      ctx.print(opts.json, m, () => `added ${m.hostname}${m.nodes.length ? ` to ${m.nodes.join(', ')}` : ''}\n${taken}`);
    });

  withJson(machine.command('import <file>').description('import machines from a .csv or .json file; prints a report per row, exit 1 if any row failed'))
    .addOption(new Option('--mode <mode>', 'create only, or also update existing machines').choices(['create', 'upsert'] as const).default('create'))
    .action(async (file: string, opts: JsonOption & { mode: 'create' | 'upsert' }) => {
      const format = formatOf(file);
      const report = await ctx.client().machines.import(format, await readFile(file, 'utf8'), opts.mode);
      ctx.print(opts.json, report, () => importReportText(report));
      if (report.failed > 0) process.exitCode = 1;
    });

  withJson(machine.command('bind <path> <hostname>').description('bind a machine to a node')).action(async (path: string, hostname: string, opts: JsonOption) => {
    const m = await ctx.client().machines.bind(path, hostname);
    ctx.print(opts.json, m, () => `bound ${hostname} to ${path}\n`);
  });

  machine
    .command('unbind <path> <hostname>')
    .description('unbind a machine from a node')
    .action(async (path: string, hostname: string) => {
      await ctx.client().machines.unbind(path, hostname);
      ctx.out(`unbound ${hostname} from ${path}\n`);
    });

  withJson(machine.command('ls').description('list machines in a subtree (recursively), or all of them (superusers)'))
    .option('--under <path>', 'only machines bound in this subtree')
    .addOption(statusOption('only machines with this status'))
    .option('-q, --query <text>', 'hostname, IP or serial contains TEXT')
    .option('--limit <n>', 'machines per page', integer(1, 1000), 100)
    .option('--all', 'follow the pages to the end instead of stopping after one')
    .action(async (opts: JsonOption & { under?: string; status?: Status; query?: string; limit: number; all?: boolean }) => {
      const client = ctx.client();
      const query = { under: opts.under, status: opts.status, q: opts.query, limit: opts.limit };
      const items: MachineView[] = [];
      if (opts.all) {
        for await (const m of client.machines.all(query)) items.push(m);
      } else {
        const page = await client.machines.list(query);
        items.push(...page.items);
        if (page.nextCursor) ctx.note(`showing ${items.length}${page.total !== undefined ? ` of ${page.total}` : ''}; use --all for every page`);
      }
      ctx.print(opts.json, items, () => machineTable(items));
    });

  withJson(machine.command('show <hostname>').description('show one machine')).action(async (hostname: string, opts: JsonOption) => {
    const m = await ctx.client().machines.get(hostname);
    ctx.print(opts.json, m, () =>
      fields([
        ['hostname', m.hostname], ['status', m.status], ['ips', m.ips.join(', ')], ['nodes', m.nodes.join(', ')], ['zone', m.zone], ['idc', m.idc],
        ['kind', m.kind], ['os', m.os], ['cpu cores', m.cpuCores], ['memory MB', m.memoryMb], ['disk GB', m.diskGb], ['serial', m.serial],
        ['labels', labels(m.labels)], ['updated', m.updatedAt],
      ]) + agentBlock(m.agent),
    );
  });

  registerCredential(machine, ctx);

  withJson(machine.command('retire <hostname>').description('mark a machine retired')).action(async (hostname: string, opts: JsonOption) => {
    const m = await ctx.client().machines.retire(hostname);
    ctx.print(opts.json, m, () => `retired ${m.hostname}\n`);
  });
}

/** `canopy machine credential issue|ls|revoke`: the secrets agents register their machine's instances with. */
function registerCredential(machine: Command, ctx: CliContext): void {
  const credential = machine.command('credential').description("the credentials a machine's agent authenticates with");

  withJson(credential.command('issue <hostname>').description('issue a credential; its secret is printed once'))
    .option('--name <name>', 'a name unique on this machine', 'agent')
    .action(async (hostname: string, opts: JsonOption & { name: string }) => {
      const c = await ctx.client().machines.credentials.issue(hostname, { name: opts.name });
      ctx.print(opts.json, c, () => `${c.token}\n`);
      if (!opts.json) ctx.note(`credential '${c.name}' (#${c.id}) for ${hostname}: the secret above is shown only now; give it to the agent as its Bearer token`);
    });

  withJson(credential.command('ls <hostname>').description("list a machine's credentials (names and prefixes, never secrets)")).action(async (hostname: string, opts: JsonOption) => {
    const items = await ctx.client().machines.credentials.list(hostname);
    ctx.print(opts.json, items, () => credentialTable(items));
  });

  credential
    .command('revoke')
    .description('revoke a credential: the agent holding it is refused from its next request')
    .argument('<hostname>')
    .argument('<id>', 'the credential id (see `ls`)', integer(1, 2 ** 31 - 1))
    .action(async (hostname: string, id: number) => {
      await ctx.client().machines.credentials.revoke(hostname, id);
      ctx.out(`revoked credential #${id} of ${hostname}\n`);
    });
}

/** The machine's agent: state, last heartbeat, version and the facts it read ("never" when none connected). */
export function agentBlock(a: MachineView['agent']): string {
  if (!a) return '';
  const f = (a.facts ?? {}) as Record<string, unknown>;
  const gib = (n: unknown) => (typeof n === 'number' ? `${(n / 2 ** 30).toFixed(1)} GiB` : '');
  const disks = Array.isArray(f['disks']) ? (f['disks'] as { mount: string; sizeBytes: number }[]).map((d) => `${d.mount} ${gib(d.sizeBytes)}`).join(', ') : '';
  const rows: [string, unknown][] = [
    ['agent', a.state === 'never' ? 'never enrolled' : a.state], ['agent version', a.version ?? ''], ['last heartbeat', a.lastHeartbeatAt ?? ''], ['connected at', a.connectedAt ?? ''],
  ];
  if (a.facts) {
    rows.push(
      ['facts: hostname', f['hostname']], ['facts: ips', Array.isArray(f['ips']) ? f['ips'].join(', ') : ''], ['facts: cpus', f['cpus']], ['facts: memory', gib(f['memoryBytes'])],
      ['facts: disks', disks], ['facts: os', f['os']], ['facts: kernel', f['kernel']], ['facts: serial', f['serial'] ?? ''], ['facts: boot id', f['bootId'] ?? ''], ['facts: booted at', f['bootedAt'] ?? ''],
    );
  }
  return fields(rows.map(([k, v]) => [k, v === undefined || v === null ? '' : String(v)]));
}

function credentialTable(items: Credential[]): string {
  return table(['id', 'name', 'prefix', 'created by', 'created'], items.map((c) => [c.id, c.name, `${c.prefix}…`, c.createdBy, c.createdAt]), '(no credentials)\n');
}
