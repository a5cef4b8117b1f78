/**
 * Every `timestamptz` leaves the database as ISO 8601 (`2026-12-04T06:52:50.971Z`). Drizzle asks both
 * drivers for the raw text of timestamp columns, which is PostgreSQL's own format
 * (`2026-12-04 06:52:50.971+00`); raw SQL rows and `mode: 'string'` columns then reached API answers
 * and audit snapshots as such. The parsers here replace the raw text at the driver, for every query.
 */
import pg from 'pg';
import type { PGlite, Transaction } from '@electric-sql/pglite';

/** PostgreSQL's type oid of `timestamptz`. */
export const TIMESTAMPTZ_OID = 1184;

/** PostgreSQL's text of a timestamptz as ISO 8601 UTC; values JS cannot represent (infinity) pass unchanged. */
export function isoTimestamp(text: string): string {
  // `+05:30`, `+05`, `-08`, and years past 9999 are all valid PostgreSQL output; Date parses the
  // normalised form of each except the last two, which stay as PostgreSQL wrote them.
  const normal = text.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00');
  const d = new Date(normal);
  return Number.isNaN(d.getTime()) ? text : d.toISOString();
}

type QueryOptions = Parameters<PGlite['query']>[2];

function withIso(opts: QueryOptions): NonNullable<QueryOptions> {
  return { ...opts, parsers: { ...opts?.parsers, [TIMESTAMPTZ_OID]: isoTimestamp } };
}

/** Make every query of `client`, inside transactions too, parse timestamptz as ISO 8601. */
export function isoTimestampsOnPglite(client: PGlite): void {
  client.parsers[TIMESTAMPTZ_OID] = isoTimestamp;
  // Drizzle passes its own per-query parsers, which win over the client's: put ours back on top.
  const query = client.query.bind(client);
  const transaction = client.transaction.bind(client);
  client.query = ((text: string, params?: unknown[], opts?: QueryOptions) => query(text, params, withIso(opts))) as PGlite['query'];
  client.transaction = ((work: (tx: Transaction) => Promise<unknown>) =>
    transaction((tx) => {
      const wrapped: Transaction = Object.create(tx);
      wrapped.query = ((text: string, params?: unknown[], opts?: QueryOptions) => tx.query(text, params, withIso(opts))) as Transaction['query'];
      return work(wrapped);
    })) as PGlite['transaction'];
}

type TypeParsers = { getTypeParser: (oid: number, format?: string) => unknown };

/** A pg Client whose queries parse timestamptz as ISO 8601, whatever per-query parsers they bring. */
export class IsoTimestampClient extends pg.Client {
  override query(...args: unknown[]): never {
    const config = args[0];
    if (config && typeof config === 'object' && 'types' in config) {
      const types = (config as { types?: TypeParsers }).types;
      if (types) {
        (config as { types: TypeParsers }).types = {
          getTypeParser: (oid, format) => (oid === TIMESTAMPTZ_OID ? isoTimestamp : types.getTypeParser(oid, format)),
        };
      }
    }
    return (super.query as (...a: unknown[]) => never)(...args);
  }
}

/** Pool-wide parsers for queries that bring none of their own. */
export const isoTypeParsers: TypeParsers = {
  getTypeParser: (oid, format) => (oid === TIMESTAMPTZ_OID ? isoTimestamp : pg.types.getTypeParser(oid, format as 'text')),
};
