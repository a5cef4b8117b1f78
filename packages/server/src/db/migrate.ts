/** Applies the numbered SQL files in ./migrations once each, in order, each in its own transaction. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { rows, type Database } from './connection.ts';

const MIGRATIONS_DIR = join(import.meta.dirname, 'migrations');
const LOCK_KEY = 70_700_001;

/** Names of the migration files, in the order they apply. */
export function migrationNames(): string[] {
  return readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
}

/**
 * Bring the schema up to date; safe to run from several replicas at once: each file applies inside
 * one transaction that first takes an advisory lock and claims the file's name, so a racing replica
 * fails on the claim, rolls back, and finds the file applied when it looks again.
 */
export async function migrate(database: Database): Promise<string[]> {
  await database.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
  const applied: string[] = [];
  for (let attempt = 0; ; attempt++) {
    const done = await rows<{ name: string }>(database.db, sql`SELECT name FROM schema_migrations`);
    const have = new Set(done.map((r) => r.name));
    const todo = migrationNames().filter((n) => !have.has(n));
    if (todo.length === 0) return applied;
    try {
      for (const name of todo) {
        const body = readFileSync(join(MIGRATIONS_DIR, name), 'utf8');
        await database.exec(
          `BEGIN;\nSELECT pg_advisory_xact_lock(${LOCK_KEY});\n` +
            `INSERT INTO schema_migrations (name) VALUES ('${name}');\n${body}\n;COMMIT;`,
        );
        applied.push(name);
      }
    } catch (err) {
      if (attempt >= 3 || !isUniqueViolation(err)) throw err;
    }
  }
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}
