/**
 * The in-memory ENC read model: catalog, default class set, associations by node id, and a cache
 * of effective configurations. Every replica keeps one, loaded at start and fed by the change
 * feed; with the machines index (hostname → zone, idc, node ids) and the tree model, an ENC answer
 * never touches the database.
 */
import { DEFAULT_ENVIRONMENT } from '@canopy/core';
import type { CatalogClass, EffectiveConfig, EncClasses, EncDefaults, EncValue } from '@canopy/core';
import type { TreeModel } from '../tree/index.ts';
import { effectiveConfig, type AssociationRecord } from './effective.ts';

/** One node's stored association (classes/environment null: inherited). */
export interface Association {
  nodeId: number;
  classes: EncClasses | null;
  parameters: Record<string, EncValue>;
  environment: string | null;
  version: number;
  updatedAt: string;
  updatedBy: string;
}

/** The classes catalog as held in memory; the fetch status stays in the database. */
export interface CatalogState {
  classes: CatalogClass[];
  source: 'none' | 'url' | 'upload';
  sourceUrl: string | null;
  sha256: string;
  version: number;
  updatedAt: string;
}

/** The default class set with its version. */
export interface DefaultsState extends EncDefaults {
  version: number;
  updatedAt: string;
}

/** Payload of an `enc` change: whichever parts changed. */
export interface EncChange {
  catalog?: CatalogState;
  defaults?: DefaultsState;
  association?: { nodeId: number; record: Association | null };
}

export type EncModel = ReturnType<typeof createEncModel>;

/** Rendered answers kept at most; past it the memo starts over (each entry is a few hundred bytes). */
const RENDERED_MAX = 50_000;

const EMPTY_CATALOG: CatalogState = { classes: [], source: 'none', sourceUrl: null, sha256: '', version: 0, updatedAt: '' };
const EMPTY_DEFAULTS: DefaultsState = { classes: {}, environment: DEFAULT_ENVIRONMENT, version: 0, updatedAt: '' };

/** An empty model over the tree model; the ENC service loads and feeds it. */
export function createEncModel(tree: TreeModel) {
  let catalog = EMPTY_CATALOG;
  let defaults = EMPTY_DEFAULTS;
  const associations = new Map<number, Association>();
  // Effective configuration per node id. Any tree or association change may alter any node's
  // chain, so the whole cache is dropped then; ENC reads far outnumber such writes.
  let effective = new Map<number, EffectiveConfig>();
  // Rendered YAML by what determines it (see the service's answerKey); dropped with `effective`
  // and when the defaults change. Bounded, since placements vary per machine.
  let rendered = new Map<string, string>();

  function drop(): void {
    if (effective.size > 0) effective = new Map();
    if (rendered.size > 0) rendered = new Map();
  }

  function record(nodeId: number, path: string): AssociationRecord {
    const a = associations.get(nodeId);
    return a ? { nodePath: path, classes: a.classes, parameters: a.parameters, environment: a.environment } : { nodePath: path };
  }

  return {
    catalog: () => catalog,
    defaults: () => defaults,
    association: (nodeId: number) => associations.get(nodeId),
    associationCount: () => associations.size,

    /** The node's configuration after inheritance, or undefined when the node is not live. */
    effective(nodeId: number): EffectiveConfig | undefined {
      const cached = effective.get(nodeId);
      if (cached) return cached;
      const node = tree.get(nodeId);
      if (!node) return undefined;
      const chain = tree.ancestors(nodeId).map((n) => record(n.id, n.path));
      chain.push(record(node.id, node.path));
      const out = effectiveConfig(chain);
      effective.set(nodeId, out);
      return out;
    },

    /** The YAML rendered earlier for `key`, or `render()` now (remembered until the next change). */
    rendered(key: string, render: () => string): string {
      let text = rendered.get(key);
      if (text === undefined) {
        text = render();
        if (rendered.size >= RENDERED_MAX) rendered = new Map();
        rendered.set(key, text);
      }
      return text;
    },

    /** Drop cached configurations and answers (the tree changed). */
    invalidate: drop,

    apply(c: EncChange): void {
      if (c.catalog) catalog = c.catalog;
      if (c.defaults) {
        defaults = c.defaults;
        drop();
      }
      if (c.association) {
        if (c.association.record) associations.set(c.association.nodeId, c.association.record);
        else associations.delete(c.association.nodeId);
        drop();
      }
    },

    /** Replace everything from a snapshot. */
    load(s: { catalog: CatalogState; defaults: DefaultsState; associations: Association[] }): void {
      catalog = s.catalog;
      defaults = s.defaults;
      associations.clear();
      for (const a of s.associations) associations.set(a.nodeId, a);
      drop();
    },
  };
}
