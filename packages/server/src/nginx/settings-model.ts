/**
 * The in-memory read model of proxy settings rows (nginx domains, services, clusters; LVS
 * services, clusters), fed by change events so every replica holds the same rows. Writes go
 * through `put`/`remove` inside a writer transaction.
 */
import type { ChangeFeed, WriteContext } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import * as repo from './repo.ts';
import type { SettingsRow, SettingsTable } from './repo.ts';

/** Payload of a settings change: the row after the write, or null when it was deleted. */
interface SettingsChange {
  table: SettingsTable;
  key: string | number;
  row: SettingsRow | null;
}

/** Rows of one table keyed by domain name or node id; settings typed by the caller. */
export interface SettingsTableModel<K extends string | number, S> {
  get(key: K): SettingsRow<K, S> | undefined;
  all(): IterableIterator<SettingsRow<K, S>>;
  size(): number;
  /** Write the row (validated settings) and publish the change. */
  put(w: WriteContext, key: K, settings: S): Promise<SettingsRow<K, S>>;
  /** Delete the row; false when there was none. */
  remove(w: WriteContext, key: K): Promise<boolean>;
}

export interface SettingsModel {
  table<K extends string | number, S>(name: SettingsTable): SettingsTableModel<K, S>;
  /** Fill every table from the database (start-up snapshot). */
  load(q: Queryable): Promise<void>;
  /** Called after any row of a table changes on this replica (from the feed). */
  onChange(listener: (table: SettingsTable, key: string | number) => void): void;
}

/** A settings model over `tables`, following `topic` on the feed. */
export function createSettingsModel(feed: ChangeFeed, topic: string, tables: readonly SettingsTable[]): SettingsModel {
  const maps = new Map<SettingsTable, Map<string | number, SettingsRow>>(tables.map((t) => [t, new Map()]));
  const listeners: ((table: SettingsTable, key: string | number) => void)[] = [];

  feed.on(topic, (c) => {
    const p = c.payload as SettingsChange;
    const map = maps.get(p.table);
    if (!map) return;
    const have = map.get(p.key);
    if (p.row === null) map.delete(p.key);
    else if (!have || have.version <= p.row.version) map.set(p.key, p.row);
    for (const l of listeners) l(p.table, p.key);
  });

  function mapOf(name: SettingsTable): Map<string | number, SettingsRow> {
    const m = maps.get(name);
    if (!m) throw new Error(`settings table ${name} is not part of this model`);
    return m;
  }

  return {
    table<K extends string | number, S>(name: SettingsTable): SettingsTableModel<K, S> {
      const map = mapOf(name) as unknown as Map<K, SettingsRow<K, S>>;
      return {
        get: (key) => map.get(key),
        all: () => map.values(),
        size: () => map.size,
        async put(w, key, settings) {
          const row = (await repo.upsertSettings(w.tx, name, key, settings, w.actor.name)) as SettingsRow<K, S>;
          w.emit(topic, { table: name, key, row } satisfies SettingsChange);
          return row;
        },
        async remove(w, key) {
          const gone = await repo.deleteSettings(w.tx, name, key);
          if (gone) w.emit(topic, { table: name, key, row: null } satisfies SettingsChange);
          return gone;
        },
      };
    },
    async load(q) {
      for (const [name, map] of maps) {
        map.clear();
        for (const row of await repo.loadSettings(q, name)) map.set(row.key, row);
      }
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
