/** One way to the database: PGlite in-process by default, PostgreSQL when a URL is given. */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { ExtractTablesWithRelations, SQL } from 'drizzle-orm';
import { IsoTimestampClient, isoTimestampsOnPglite, isoTypeParsers } from './timestamps.ts';
import { openPrivately } from './permissions.ts';

export type Db = PgDatabase<PgQueryResultHKT, Record<string, never>, ExtractTablesWithRelations<Record<string, never>>>;
export type Tx = PgTransaction<PgQueryResultHKT, Record<string, never>, ExtractTablesWithRelations<Record<string, never>>>;
/** Anything that can run a query: the database or an open transaction. */
export type Queryable = Db | Tx;

export interface Database {
  readonly kind: 'pglite' | 'postgres';
  readonly db: Db;
  /** Run several statements with no parameters (migrations). */
  exec(sqlText: string): Promise<void>;
  /** Subscribe to NOTIFY on a channel; returns the unsubscribe function. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
  /** PGlite only: the data dir as a tarball (test templates, backups). */
  dumpDataDir?: () => Promise<Blob>;
}

export interface OpenOptions {
  /** postgres://… to use a server; otherwise PGlite. */
  url?: string | undefined;
  /** PGlite data directory; omitted means in memory. */
  dataDir?: string | undefined;
  /** A PGlite data dir dump (tar) to start from, used by tests. */
  loadDataDir?: Blob | File | undefined;
}

/** Open the database named by the options. */
export async function openDatabase(opts: OpenOptions): Promise<Database> {
  return opts.url ? openPostgres(opts.url) : openPglite(opts);
}

async function openPglite(opts: OpenOptions): Promise<Database> {
  const create = () =>
    PGlite.create({
      ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
      ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}),
    });
  const client = await (opts.dataDir ? openPrivately(opts.dataDir, create) : create());
  yieldBetweenStatements(client);
  isoTimestampsOnPglite(client);
  const db = drizzlePglite({ client }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    exec: async (text) => {
      try {
        await client.exec(text);
      } catch (err) {
        // A failed multi-statement script may leave its BEGIN open on the only connection.
        await client.exec('ROLLBACK').catch(() => {});
        throw err;
      }
    },
    // PGlite lives in this process and nothing else can open its data dir, so there are no other
    // replicas to hear from. Listening would also deadlock: a notification raised inside a write
    // transaction would queue a read behind that transaction's own next statement.
    listen: async () => async () => {},
    close: () => client.close(),
    dumpDataDir: () => client.dumpDataDir('gzip'),
  };
}

/**
 * PGlite runs in this thread and answers through promises that settle without any I/O, so a long
 * transaction (a 5,000-row import) is one unbroken chain of microtasks: timers, sockets and DNS
 * starve until it commits (measured: no timer fired during an 11 s, 1,000-row import). Handing the
 * loop a turn once a chain of statements has held it for YIELD_EVERY_MS lets in-memory reads,
 * heartbeats and DNS answer in between; yielding after every statement cost up to 3× on a busy host.
 */
const YIELD_EVERY_MS = 5;

function yieldBetweenStatements(client: PGlite): void {
  let since = performance.now();
  const turn = async () => {
    if (performance.now() - since < YIELD_EVERY_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    since = performance.now();
  };
  const stream = client.execProtocolStream.bind(client);
  const whole = client.execProtocol.bind(client);
  client.execProtocolStream = async (...args) => {
    const out = await stream(...args);
    await turn();
    return out;
  };
  client.execProtocol = async (...args) => {
    const out = await whole(...args);
    await turn();
    return out;
  };
}

async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10, Client: IsoTimestampClient, types: isoTypeParsers as pg.CustomTypesConfig });
  // An idle connection the server drops (restart, failover, DROP DATABASE … FORCE) raises 'error' on
  // the pool; without a listener that would crash the process. The pool replaces the connection.
  pool.on('error', (err) => console.warn(`database connection lost: ${err.message}`));
  // Fail fast on a wrong URL instead of on the first request.
  const probe = await pool.connect();
  probe.release();
  const db = drizzlePg({ client: pool }) as unknown as Db;
  const listeners: pg.PoolClient[] = [];
  return {
    kind: 'postgres',
    db,
    exec: async (text) => {
      const client = await pool.connect();
      try {
        await client.query(text);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    listen: async (channel, onPayload) => {
      const client = await pool.connect();
      client.on('error', (err) => console.warn(`database listener lost: ${err.message}`));
      listeners.push(client);
      client.on('notification', (msg) => {
        if (msg.channel === channel) onPayload(msg.payload ?? '');
      });
      await client.query(`LISTEN ${quoteIdent(channel)}`);
      return async () => {
        await client.query(`UNLISTEN ${quoteIdent(channel)}`).catch(() => {});
        client.release();
        listeners.splice(listeners.indexOf(client), 1);
      };
    },
    close: async () => {
      for (const c of listeners.splice(0)) c.release();
      await pool.end();
    },
  };
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Run a raw SQL query and return its rows; both drivers answer with `{ rows }`. */
export async function rows<T>(q: Queryable, query: SQL): Promise<T[]> {
  const res = (await q.execute(query)) as unknown as { rows: T[] };
  return res.rows;
}
