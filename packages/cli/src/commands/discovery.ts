/**
 * `canopy discovery register PATH HOSTNAME PORT`: keep one instance registered while this command
 * runs — what a release script or a systemd unit starts next to the service. It registers,
 * heartbeats every third of the TTL, and on SIGTERM/SIGINT drains the instance, then deregisters
 * it and exits 0, so the service can stop with nothing sent to it any more. Run it with the
 * machine's credential (`canopy machine credential issue`) as CANOPY_TOKEN.
 *
 * `canopy discovery service ls|show|set|rm` and `canopy discovery alias ls|set|rm` manage the
 * services and CNAME-like aliases themselves (discovery-services.ts).
 */
import type { Command } from 'commander';
import { createRegistration } from '@canopy/sdk/discovery';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { UsageError } from '../output.ts';
import { registerAliases, registerServices } from './discovery-services.ts';
import { collect, integer, keyValues } from './options.ts';

interface RegisterOptions extends JsonOption {
  ttl: number;
  weight?: number;
  meta: string[];
  ip?: string;
  drain: number;
}

/** Adds `canopy discovery`. */
export function registerDiscovery(program: Command, ctx: CliContext): void {
  const discovery = program.command('discovery').description('register service instances; manage services and aliases');
  registerServices(discovery, ctx);
  registerAliases(discovery, ctx);

  withJson(discovery.command('register').description('register an instance and keep it alive until SIGTERM/SIGINT, then drain and deregister it'))
    .argument('<path>', 'the service (a tree node path)')
    .argument('<hostname>', 'the machine it runs on')
    .argument('<port>', 'the port it serves', integer(1, 65535))
    .option('--ttl <seconds>', 'heartbeat TTL (heartbeats every third of it)', integer(1, 86_400), 30)
    .option('--weight <n>', 'load-balancing weight', integer(1, 1000))
    .option('--meta <key=value>', 'metadata (repeatable)', collect, [])
    .option('--ip <address>', "which of the machine's addresses to announce (default: its first)")
    .option('--drain <ms>', 'how long to stay draining before deregistering', integer(0, 600_000), 5000)
    .action(async (path: string, hostname: string, port: number, opts: RegisterOptions) => {
      const { url, token } = ctx.connection();
      if (!token) throw new UsageError('no token: set CANOPY_TOKEN to the machine credential (or log in)');
      const say = (event: string, text: string, extra: object = {}) =>
        opts.json ? ctx.out(`${JSON.stringify({ event, path, hostname, port, ...extra })}\n`) : ctx.note(text);
      const reg = createRegistration({
        url,
        token,
        path,
        hostname,
        port,
        ttlSeconds: opts.ttl,
        ...(opts.weight !== undefined ? { weight: opts.weight } : {}),
        ...(opts.meta.length ? { meta: keyValues(opts.meta, '--meta') } : {}),
        ...(opts.ip ? { ip: opts.ip } : {}),
        drainMs: opts.drain,
        onError: (err) => say('error', `error: ${err instanceof Error ? err.message : String(err)} (retrying)`, { error: err instanceof Error ? err.message : String(err) }),
      });
      const stop = new Promise<string>((resolve) => {
        process.once('SIGTERM', () => resolve('SIGTERM'));
        process.once('SIGINT', () => resolve('SIGINT'));
      });
      const first = await Promise.race([reg.ready.then(() => undefined), stop]);
      if (first === undefined) say('registered', `registered ${path} ${hostname}:${port} (ttl ${opts.ttl} s)`);
      const signal = first ?? (await stop);
      say('draining', `${signal}: draining ${hostname}:${port} for ${opts.drain} ms, then deregistering`);
      await reg.close();
      say('deregistered', `deregistered ${path} ${hostname}:${port}`);
    });
}
