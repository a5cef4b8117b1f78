/**
 * The control center the artifact benchmark downloads from, in its own process (so the clients do
 * not share its event loop): in-memory PGlite, artifacts in BENCH_ARTIFACT_DIR, no access log.
 * Prints `{"port":N}` once listening; exits on SIGTERM.
 */
import { openDatabase } from '../packages/server/src/db/connection.ts';
import { migrate } from '../packages/server/src/db/migrate.ts';
import { createServices } from '../packages/server/src/services.ts';
import { buildApp } from '../packages/server/src/http/app.ts';

const dir = process.env['BENCH_ARTIFACT_DIR'];
if (!dir) throw new Error('BENCH_ARTIFACT_DIR is not set');
const database = await openDatabase({});
await migrate(database);
const services = createServices(database, { artifacts: { dir, maxBytes: 2 ** 31, retention: { keepLast: 100, keepDeployedDays: 30 }, sweepMinutes: 0 } });
await services.start();
await services.auth.bootstrap(process.env['BENCH_ADMIN_PASSWORD'] ?? 'bench-password-1');
const app = await buildApp(services, { logLevel: 'silent' });
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
process.on('SIGTERM', () => {
  void app.close().then(() => services.stop()).then(() => database.close()).then(() => process.exit(0));
});
