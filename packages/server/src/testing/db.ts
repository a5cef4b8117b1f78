/**
 * Test databases. PGlite: every test database is a copy of one migrated template data dir, built
 * once per run (`scripts/test.ts`) or once per process. PostgreSQL (when CANOPY_TEST_DATABASE_URL is
 * set): every test database is a fresh, uniquely named database, dropped when the test closes it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from '../db/connection.ts';
import { migrate, migrationNames } from '../db/migrate.ts';

export interface TestBackend {
  name: 'pglite' | 'postgres';
  /** A fresh, migrated database; close it with `close()`, which also drops it. */
  open(): Promise<Database>;
}

const ROOT = join(import.meta.dirname, '../../../..');
const CACHE = join(ROOT, '.cache');

/** Key of the template: changes whenever a migration file changes. */
function templateKey(): string {
  const h = createHash('sha256');
  const dir = join(import.meta.dirname, '../db/migrations');
  for (const n of migrationNames()) h.update(n).update(readFileSync(join(dir, n)));
  return h.digest('hex').slice(0, 16);
}

let template: Promise<Blob> | undefined;

/** The migrated PGlite template as a tarball blob, built and cached on disk once. */
export function pgliteTemplate(): Promise<Blob> {
  template ??= (async () => {
    const file = join(CACHE, `pglite-template-${templateKey()}.tar.gz`);
    if (existsSync(file)) return new Blob([readFileSync(file)]);
    const db = await openDatabase({});
    await migrate(db);
    const dump = await db.dumpDataDir?.();
    await db.close();
    if (!dump) throw new Error('PGlite dump unavailable');
    mkdirSync(CACHE, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
    renameSync(tmp, file);
    return dump;
  })();
  return template;
}

const pgliteBackend: TestBackend = {
  name: 'pglite',
  async open() {
    return openDatabase({ loadDataDir: await pgliteTemplate() });
  },
};

function postgresBackend(url: string): TestBackend {
  return {
    name: 'postgres',
    async open() {
      const name = `canopy_test_${process.pid}_${randomBytes(4).toString('hex')}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const u = new URL(url);
      u.pathname = `/${name}`;
      const db = await openDatabase({ url: u.toString() });
      await migrate(db);
      const close = db.close.bind(db);
      return {
        ...db,
        kind: db.kind,
        db: db.db,
        async close() {
          await close();
          const a = new pg.Client({ connectionString: url });
          await a.connect();
          await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          await a.end();
        },
      };
    },
  };
}

/** PGlite always; PostgreSQL too when CANOPY_TEST_DATABASE_URL is set. */
export function testBackends(): TestBackend[] {
  const url = process.env['CANOPY_TEST_DATABASE_URL'];
  return url ? [pgliteBackend, postgresBackend(url)] : [pgliteBackend];
}
