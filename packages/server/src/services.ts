/** The composition root: every service wired once, in dependency order. */
import type { FastifyPluginAsync } from 'fastify';
import type { Database } from './db/connection.ts';
import { createChangeFeed, createWriter, type ChangeFeed, type Writer } from './changes/index.ts';
import { createTreeService, treeRoutes, type TreeService } from './tree/index.ts';
import { authRoutes, createAuthService, type AuthService } from './auth/index.ts';
import { createMachineService, machineRoutes, type MachineService } from './machines/index.ts';
import { auditRoutes } from './audit/index.ts';

export interface Services {
  database: Database;
  feed: ChangeFeed;
  writer: Writer;
  tree: TreeService;
  auth: AuthService;
  machines: MachineService;
  /** Route plugins mounted under /api/v1. */
  routes: FastifyPluginAsync[];
  /** Load read models and follow the change feed. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  sessionHours?: number;
  onError?: (err: unknown) => void;
}

/** Build every service over `database`. */
export function createServices(database: Database, opts: ServiceOptions = {}): Services {
  const db = database.db;
  const feed = createChangeFeed(database, opts.onError);
  const writer = createWriter(database, feed);
  const tree = createTreeService({ writer, feed, db });
  const auth = createAuthService({ writer, feed, db, tree, sessionHours: opts.sessionHours ?? 12 });
  const machines = createMachineService({ writer, feed, db, tree });
  const routes = [
    treeRoutes(tree, auth),
    authRoutes(auth),
    machineRoutes(machines, auth, writer),
    auditRoutes(db, tree, auth),
  ] as FastifyPluginAsync[];
  return {
    database,
    feed,
    writer,
    tree,
    auth,
    machines,
    routes,
    start: () =>
      feed.start(async () => {
        await tree.load(db);
        await auth.load(db);
        await machines.load(db);
      }),
    stop: () => feed.stop(),
  };
}
