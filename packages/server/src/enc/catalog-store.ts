/**
 * Keeping the classes catalog: import from the configured URL (at start, every refresh interval,
 * on demand) or from an upload, stored in the database and mirrored to every replica's model. A
 * failed fetch keeps the previous catalog and records the time and the error for the status.
 */
import { createHash } from 'node:crypto';
import { CanopyError, ConflictError } from '@canopy/core';
import type { Catalog } from '@canopy/core';
import type { Actor, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import { iso } from '../tree/index.ts';
import { parseCatalog } from './catalog.ts';
import { fetchCatalogText } from './fetch.ts';
import type { CatalogState, EncChange, EncModel } from './model.ts';
import * as repo from './repo.ts';

export const ENC_TOPIC = 'enc';
/** Audit entries name at most this many added/removed classes. */
const AUDIT_NAMES = 100;

/** What `GET /puppet/classes` answers: the catalog and how it is kept. */
export interface CatalogStatus extends CatalogState {
  /** The URL configured with CANOPY_PUPPET_CLASSES_URL, if any. */
  url: string | null;
  refreshSeconds: number;
  fetchedAt: string | null;
  lastAttemptAt: string | null;
  lastError: string | null;
}

export type CatalogStore = ReturnType<typeof createCatalogStore>;

/** The catalog's keeper; `url` null means uploads only. */
export function createCatalogStore(deps: {
  writer: Writer;
  db: Queryable;
  model: EncModel;
  url: string | null;
  refreshSeconds: number;
  onError: (err: unknown) => void;
}) {
  const { writer, db, model, url } = deps;
  let inFlight: Promise<CatalogStatus> | null = null;
  let timer: NodeJS.Timeout | undefined;

  function status(row: repo.CatalogRow): CatalogStatus {
    return {
      ...stateOf(row),
      url,
      refreshSeconds: deps.refreshSeconds,
      fetchedAt: row.fetchedAt ? iso(row.fetchedAt) : null,
      lastAttemptAt: row.lastAttemptAt ? iso(row.lastAttemptAt) : null,
      lastError: row.lastError,
    };
  }

  async function store(actor: Actor, catalog: Catalog, source: 'url' | 'upload', from: string | null): Promise<CatalogStatus> {
    const sha256 = createHash('sha256').update(JSON.stringify(catalog.classes)).digest('hex');
    const row = await writer.run(actor, async (w) => {
      const cur = await repo.loadCatalog(w.tx, true);
      if (cur.sha256 === sha256 && cur.source === source && cur.sourceUrl === from) {
        return source === 'url' ? repo.recordFetch(w.tx, from ?? '', null) : cur;
      }
      const saved = await repo.saveCatalog(w.tx, { classes: catalog.classes, source, sourceUrl: from, sha256 });
      const before = new Set(cur.classes.map((c) => c.name));
      const after = new Set(catalog.classes.map((c) => c.name));
      w.audit({
        operation: 'enc.catalog',
        targetKind: 'puppet-catalog',
        target: from ?? 'upload',
        before: { classes: cur.classes.length, sha256: cur.sha256 },
        after: {
          classes: catalog.classes.length,
          sha256,
          added: [...after].filter((n) => !before.has(n)).slice(0, AUDIT_NAMES),
          removed: [...before].filter((n) => !after.has(n)).slice(0, AUDIT_NAMES),
        },
      });
      w.emit(ENC_TOPIC, { catalog: stateOf(saved) } satisfies EncChange);
      return saved;
    });
    return status(row);
  }

  async function fetchNow(actor: Actor): Promise<CatalogStatus> {
    if (url === null) throw new ConflictError('no classes URL is configured (set CANOPY_PUPPET_CLASSES_URL, or upload the catalog)');
    let catalog: Catalog;
    try {
      const { text, contentType } = await fetchCatalogText(url);
      catalog = parseCatalog(text, contentType);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await writer.run(actor, (w) => repo.recordFetch(w.tx, url, message));
      const kept = model.catalog().classes.length;
      throw new CanopyError('unavailable', `refreshing the classes catalog failed: ${message}; the previous catalog (${kept} classes) is kept`, { url, error: message });
    }
    return store(actor, catalog, 'url', url);
  }

  /** Fetch from the configured URL now; concurrent calls share one fetch. */
  function refresh(actor: Actor): Promise<CatalogStatus> {
    inFlight ??= fetchNow(actor).finally(() => (inFlight = null));
    return inFlight;
  }

  return {
    url,
    /** The catalog with its fetch status (read from the database, so any replica's attempts show). */
    status: async () => status(await repo.loadCatalog(db)),

    /** Replace the catalog with an uploaded classes file (text or JSON, as parseCatalog reads). */
    upload: (actor: Actor, text: string, contentType?: string) => store(actor, parseCatalog(text, contentType), 'upload', null),

    refresh,

    /** Fetch once now (in the background) and then every refresh interval. */
    start(actor: Actor): void {
      if (url === null) return;
      const tick = () => void refresh(actor).catch(deps.onError);
      tick();
      if (deps.refreshSeconds > 0) {
        timer = setInterval(tick, deps.refreshSeconds * 1000);
        timer.unref();
      }
    },

    async stop(): Promise<void> {
      clearInterval(timer);
      await inFlight?.catch(() => {});
    },
  };
}

/** The in-memory part of a catalog row. */
export function stateOf(row: repo.CatalogRow): CatalogState {
  return { classes: row.classes, source: row.source, sourceUrl: row.sourceUrl, sha256: row.sha256, version: row.version, updatedAt: iso(row.updatedAt) };
}
