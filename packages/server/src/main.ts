/** `npm start`: open the database, migrate, load, serve the API and console until a signal. */
import { readFileSync } from 'node:fs';
import type { ListenOptions } from 'node:net';
import { join } from 'node:path';
import type { FastifyListenOptions } from 'fastify';
import { ValidationError } from '@canopy/core';
import { loadConfig } from './config.ts';
import { openDatabase } from './db/connection.ts';
import { migrate } from './db/migrate.ts';
import { createServices } from './services.ts';
import { buildApp } from './http/app.ts';

const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  const applied = await migrate(database);
  const dns = config.dnsPort === undefined ? undefined : { port: config.dnsPort, host: config.dnsHost, domain: config.dnsDomain, ttl: config.dnsTtl, reusePort: config.reusePort };
  const services = createServices(database, {
    sessionHours: config.sessionHours,
    onError: (err) => console.error('change feed:', err),
    dns,
    puppetClassesUrl: config.puppetClassesUrl,
    puppetClassesRefreshSeconds: config.puppetClassesRefreshSeconds,
    provisioningTtlHours: config.provisioningTtlHours,
    configKeepVersions: config.configKeepVersions,
    monitor: { prometheusUrl: config.prometheusUrl, flushSeconds: config.monitorFlushSeconds, recording: { minMachines: config.prometheusRecordMinMachines, intervalSeconds: config.prometheusRecordIntervalSeconds } },
    agentInstall: { publicUrl: config.publicUrl },
  });
  await services.start();
  const { generatedPassword } = await services.auth.bootstrap(config.adminPassword);
  const webDir = config.webDir ?? join(import.meta.dirname, '../../web/dist');
  const accessLog = config.accessLog ? (line: string) => void process.stdout.write(`${line}\n`) : undefined;
  // Read at start: a missing or unreadable file is a start-up error, not a failed handshake later.
  const https = config.tlsCert && config.tlsKey ? { cert: readFileSync(config.tlsCert, 'utf8'), key: readFileSync(config.tlsKey, 'utf8') } : undefined;
  const app = await buildApp(services, { bodyLimit: config.bodyLimit, logLevel: config.logLevel, webDir, accessLog, https });
  // Fastify hands its listen options to net.Server.listen as they are; its types predate `reusePort`.
  const listen: FastifyListenOptions & Pick<ListenOptions, 'reusePort'> = { port: config.port, host: config.host, reusePort: config.reusePort };
  await app.listen(listen);
  // Handlers before the "listening" line: a supervisor (or test) that signals as soon as it reads the
  // line would otherwise meet the default action and kill the server undrained.
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: draining`);
    const force = setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS);
    force.unref();
    await app.close();
    await services.stop();
    await database.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  const where = config.databaseUrl ? 'PostgreSQL' : `PGlite in ${config.dataDir}`;
  console.log(`Canopy listening on ${https ? 'https' : 'http'}://${config.host}:${config.port}${config.reusePort ? ` (port shared with other replicas, pid ${process.pid})` : ''} (database: ${where}${applied.length ? `, applied ${applied.join(', ')}` : ''})`);
  if (services.dns) console.log(`DNS for ${config.dnsDomain} on ${config.dnsHost}:${services.dns.port()} (UDP and TCP)`);
  if (generatedPassword) {
    console.log(`First start: created user 'admin' with password ${generatedPassword}  (shown once; set CANOPY_ADMIN_PASSWORD to choose it)`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  // Which setting is wrong, and why (a bad CANOPY_* variable is the usual first-start mistake).
  if (err instanceof ValidationError) for (const i of err.issues) console.error(`  ${i.path.join('.')}: ${i.message}`);
  process.exit(1);
});
