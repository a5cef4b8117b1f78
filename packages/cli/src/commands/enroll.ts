/**
 * `canopy machine enroll HOSTNAME --under NODE`: create an install request that carries an
 * enrollment token, and print the one line to run on the machine (the control center serves the
 * install script, the agent and its runtime).
 */
import type { Command } from 'commander';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { UsageError } from '../output.ts';
import { integer } from './options.ts';

/** The install request as the API answers its create (only what this command shows). */
interface EnrollRequest {
  id: number;
  hostname: string;
  nodePath: string | null;
  state: string;
  expiresAt: string;
  enrollmentToken?: string;
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const isLoopback = (host: string) => host === 'localhost' || host === '[::1]' || /^127\./.test(host);

/** The commands that install and enroll the agent on the machine, for the control center at `url`. */
export function installCommands(url: string, token: string): { curl: string; agent: string } {
  const origin = new URL(url).origin;
  // The agent refuses plain HTTP beyond loopback unless told; an operator who serves HTTP has decided.
  const insecure = origin.startsWith('http:') && !isLoopback(new URL(origin).hostname) ? ' --insecure-http' : '';
  return {
    curl: `curl -fsS ${origin}/agent/install.sh | sudo sh -s -- --token ${token}${insecure}`,
    agent: `canopy-agent enroll --url ${origin} --token ${token}${insecure}`,
  };
}

/** Adds `canopy machine enroll`. */
export function registerMachineEnroll(machine: Command, ctx: CliContext): void {
  withJson(machine.command('enroll <hostname>').description('create an install request with an enrollment token and print the command that installs the agent there'))
    .requiredOption('--under <node>', 'the node the machine joins')
    .option('--zone <zone>', 'availability zone the machine takes')
    .option('--idc <idc>', 'data centre the machine takes')
    .option('--serial <serial>', 'serial number the machine must report, if it already exists')
    .option('--ttl-hours <hours>', 'hours until the token expires (server default otherwise)', integer(1, 2160))
    .action(async (hostname: string, opts: JsonOption & { under: string; zone?: string; idc?: string; serial?: string; ttlHours?: number }) => {
      if (!HOSTNAME.test(hostname)) throw new UsageError(`'${hostname}' is not a host name (lower-case DNS labels separated by dots)`);
      const body = { hostname, nodePath: opts.under, enroll: true, zone: opts.zone, idc: opts.idc, serial: opts.serial, ttlHours: opts.ttlHours };
      const given = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
      const r = await ctx.client().request<EnrollRequest>('POST', '/provisioning', given);
      const token = r.enrollmentToken ?? '';
      const commands = installCommands(ctx.connection().url, token);
      ctx.print(opts.json, { request: { ...r, enrollmentToken: undefined }, enrollmentToken: token, commands }, () =>
        [
          `install request #${r.id} for ${r.hostname} under ${r.nodePath ?? opts.under} (${r.state}; the token expires ${r.expiresAt})`,
          `enrollment token (shown once): ${token}`,
          `on ${r.hostname}, as root:`,
          `  ${commands.curl}`,
          `or, where canopy-agent is installed:`,
          `  ${commands.agent}`,
          '',
        ].join('\n'),
      );
    });
}
