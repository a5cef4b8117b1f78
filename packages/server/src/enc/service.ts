/**
 * The Puppet ENC's domain: associations of classes with tree nodes, the default class set, the
 * classes catalog, and the answer for a hostname, computed from memory. Associations are keyed by
 * node id, so renaming or moving a node keeps them.
 */
import { NotFoundError, PreconditionFailedError, ValidationError } from '@canopy/core';
import type { EffectiveConfig, EncAssociationInput, EncClasses, EncDefaults, EncResult, FieldIssue } from '@canopy/core';
import type { Actor, ChangeFeed, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { MachineService } from '../machines/index.ts';
import type { ProvisioningService } from '../provisioning/index.ts';
import { iso, TREE_TOPIC, type TreeChange, type TreeService } from '../tree/index.ts';
import { catalogIssues } from './catalog.ts';
import { createCatalogStore, ENC_TOPIC, stateOf } from './catalog-store.ts';
import { createEncModel, type Association, type DefaultsState, type EncChange } from './model.ts';
import * as repo from './repo.ts';
import { renderEncYaml } from './render.ts';
import { resolveEnc } from './resolve.ts';

export interface EncOptions {
  /** CANOPY_PUPPET_CLASSES_URL: where the Puppet code base publishes its classes; null: uploads only. */
  classesUrl: string | null;
  /** Seconds between catalog refreshes; 0: only at start and on demand. */
  refreshSeconds: number;
  onError?: ((err: unknown) => void) | undefined;
}

/** A node's own association and its effective configuration, as the API shows them. */
export interface NodePuppetView {
  nodeId: number;
  nodePath: string;
  own: Omit<Association, 'nodeId'> | null;
  effective: EffectiveConfig;
  /** Classes or parameters in the effective set that the current catalog no longer lists. */
  catalogIssues: FieldIssue[];
}

export type EncService = ReturnType<typeof createEncService>;

/** The actor catalog fetches at start and on the timer are recorded under. */
const ENC_SYSTEM: Actor = Object.freeze({ kind: 'system', id: null, name: 'enc', superuser: true });

/** Build the ENC service and subscribe its model to the tree, machine and ENC topics. */
export function createEncService(
  deps: { writer: Writer; feed: ChangeFeed; db: Queryable; tree: TreeService; machines: MachineService; provisioning: ProvisioningService },
  opts: EncOptions,
) {
  const { writer, feed, db, tree, machines, provisioning } = deps;
  const onError = opts.onError ?? (() => {});
  const model = createEncModel(tree.model);
  const catalog = createCatalogStore({ writer, db, model, url: opts.classesUrl, refreshSeconds: opts.refreshSeconds, onError });

  feed.on(ENC_TOPIC, (c) => model.apply(c.payload as EncChange));
  feed.on(TREE_TOPIC, (c) => {
    const t = c.payload as TreeChange;
    if (t.upsert || t.remove) model.invalidate();
  });

  function checkValues(input: { classes?: EncClasses | null | undefined; parameters?: Record<string, unknown> | undefined }): void {
    const issues = [...nulIssues(input.classes ?? {}, ['classes']), ...nulIssues(input.parameters ?? {}, ['parameters'])];
    if (issues.length > 0) throw new ValidationError(`values may not contain U+0000 (the database cannot store it): ${issues.map((i) => i.path.join('.')).join(', ')}`, issues);
  }

  function checkCatalog(classes: EncClasses, base: string[]): void {
    const issues = catalogIssues(classes, model.catalog(), base);
    if (issues.length === 0) return;
    const hint = model.catalog().classes.length === 0 ? ' (the catalog is empty: upload it or set CANOPY_PUPPET_CLASSES_URL)' : '';
    throw new ValidationError(`${issues.map((i) => i.message).join('; ')}${hint}`, issues);
  }

  function nodeView(nodeId: number): NodePuppetView {
    const node = tree.model.get(nodeId);
    if (!node) throw new NotFoundError('node', String(nodeId));
    const own = model.association(nodeId);
    const effective = model.effective(nodeId) as EffectiveConfig;
    return { nodeId, nodePath: node.path, own: own ? withoutId(own) : null, effective, catalogIssues: catalogIssues(effective.classes, model.catalog()) };
  }

  // Everything an answer is computed from, looked up in memory.
  function gather(hostname: string) {
    const host = machines.model.byHostname(hostname);
    const nodes: { path: string; effective: EffectiveConfig }[] = [];
    const nodeIds: number[] = [];
    for (const id of host?.nodeIds ?? []) {
      const n = tree.model.get(id);
      const effective = model.effective(id);
      if (n && effective) {
        nodes.push({ path: n.path, effective });
        nodeIds.push(id);
      }
    }
    const req = nodes.length === 0 ? provisioning.openFor(hostname) : undefined;
    const reqNode = req && tree.model.get(req.nodeId);
    const reqEffective = req && model.effective(req.nodeId);
    const fromRequest = reqNode && reqEffective ? { nodePath: reqNode.path, effective: reqEffective } : null;
    if (req && fromRequest) nodeIds.push(req.nodeId);
    const zone = host?.zone || req?.zone || '';
    const idc = host?.idc || req?.idc || '';
    // The YAML (unlike the explanation) names no host: hosts with the same nodes and placement share it.
    const key = nodes.length > 0 ? `t${nodeIds.join(',')}|${zone}|${idc}` : fromRequest ? `p${req!.nodeId}|${zone}|${idc}` : null;
    // A machine Canopy knows but that sits in no node and has no open request gets a clearer message.
    if (key === null && host) throw new NotFoundError('node or open install request for machine', hostname);
    const input = { hostname, machine: { zone, idc }, nodes, provisioning: fromRequest, defaults: model.defaults() };
    return { input, nodeIds, key };
  }

  /** The answer for a host and the node ids it was computed from (for authorization). */
  function resolve(hostname: string): { result: EncResult; nodeIds: number[] } {
    const { input, nodeIds } = gather(hostname);
    return { result: resolveEnc(input), nodeIds };
  }

  /** The ENC YAML for a host, rendered once per distinct answer until something changes. */
  function yaml(hostname: string): { yaml: string; nodeIds: number[] } {
    const { input, nodeIds, key } = gather(hostname);
    if (key === null) throw new NotFoundError('machine', hostname);
    return { yaml: model.rendered(key, () => renderEncYaml(resolveEnc(input))), nodeIds };
  }

  return {
    model,
    catalog,
    resolve,
    yaml,
    /** The ENC answer for `hostname`; NotFoundError when neither the tree nor provisioning knows it. */
    answer: (hostname: string) => resolve(hostname).result,

    get: (path: string) => nodeView(tree.node(path).id),
    etag(path: string): string {
      const id = tree.node(path).id;
      return associationEtag(id, model.association(id)?.version ?? 0);
    },

    /** Replace a node's association; classes and parameters must be in the catalog. */
    async set(actor: Actor, path: string, input: EncAssociationInput, ifMatch?: string): Promise<NodePuppetView> {
      const nodeId = await writer.run(actor, async (w) => {
        const node = tree.node(path);
        checkValues(input);
        if (input.classes) checkCatalog(input.classes, ['classes']);
        const before = await repo.lockAssociation(w.tx, node.id);
        checkVersion(node.id, before?.version ?? 0, ifMatch);
        const row = await repo.upsertAssociation(w.tx, {
          nodeId: node.id,
          classes: input.classes ?? null,
          parameters: input.parameters ?? {},
          environment: input.environment ?? null,
          updatedBy: actor.name,
        });
        w.audit({ operation: 'enc.associate', targetKind: 'node', target: node.path, nodeId: node.id, nodePath: node.path, before: before && plain(before), after: plain(row) });
        w.emit(ENC_TOPIC, { association: { nodeId: node.id, record: toAssociation(row) } } satisfies EncChange);
        return node.id;
      });
      return nodeView(nodeId);
    },

    /** Remove a node's association: it inherits everything again. */
    async remove(actor: Actor, path: string, ifMatch?: string): Promise<void> {
      await writer.run(actor, async (w) => {
        const node = tree.node(path);
        const before = await repo.lockAssociation(w.tx, node.id);
        if (!before) throw new NotFoundError('puppet association of node', path);
        checkVersion(node.id, before.version, ifMatch);
        await repo.deleteAssociation(w.tx, node.id);
        w.audit({ operation: 'enc.unassociate', targetKind: 'node', target: node.path, nodeId: node.id, nodePath: node.path, before: plain(before) });
        w.emit(ENC_TOPIC, { association: { nodeId: node.id, record: null } } satisfies EncChange);
      });
    },

    defaults: (): DefaultsState => model.defaults(),

    /** Replace the default class set (what machines whose nodes disagree get). */
    async setDefaults(actor: Actor, input: EncDefaults): Promise<DefaultsState> {
      await writer.run(actor, async (w) => {
        checkValues(input);
        checkCatalog(input.classes, ['classes']);
        const before = model.defaults();
        const row = await repo.saveDefaults(w.tx, input);
        const after = defaultsOf(row);
        w.audit({ operation: 'enc.defaults', targetKind: 'puppet-defaults', target: 'defaults', before: { classes: before.classes, environment: before.environment }, after: input });
        w.emit(ENC_TOPIC, { defaults: after } satisfies EncChange);
      });
      return model.defaults();
    },

    /** Fill the model from the database (start-up snapshot). */
    async load(q: Queryable): Promise<void> {
      const cat = await repo.loadCatalog(q);
      const def = await repo.loadDefaults(q);
      const assocs = await repo.loadAssociations(q);
      model.load({ catalog: stateOf(cat), defaults: defaultsOf(def), associations: assocs.map(toAssociation) });
    },

    start: () => catalog.start(ENC_SYSTEM),
    stop: () => catalog.stop(),
  };
}

/** Strong ETag of a node's association (version 0: none yet). */
export function associationEtag(nodeId: number, version: number): string {
  return `"p${nodeId}v${version}"`;
}

function checkVersion(nodeId: number, version: number, ifMatch: string | undefined): void {
  const etag = associationEtag(nodeId, version);
  if (ifMatch !== undefined && ifMatch !== etag) throw new PreconditionFailedError(ifMatch, etag);
}

function toAssociation(r: repo.AssociationRow): Association {
  return { nodeId: r.nodeId, classes: r.classes, parameters: r.parameters, environment: r.environment, version: r.version, updatedAt: iso(r.updatedAt), updatedBy: r.updatedBy };
}

function withoutId({ nodeId: _id, ...rest }: Association): Omit<Association, 'nodeId'> {
  return rest;
}

function plain(r: repo.AssociationRow) {
  return { classes: r.classes, parameters: r.parameters, environment: r.environment, version: r.version };
}

function defaultsOf(r: repo.DefaultsRow): DefaultsState {
  return { classes: r.classes, environment: r.environment, version: r.version, updatedAt: iso(r.updatedAt) };
}

// PostgreSQL's jsonb (tables, audit entries, change events) refuses U+0000 in any string.
function nulIssues(value: unknown, path: (string | number)[]): FieldIssue[] {
  if (typeof value === 'string') return value.includes('\u0000') ? [{ path, message: 'contains U+0000' }] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => nulIssues(v, [...path, i]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [...(k.includes('\u0000') ? [{ path: [...path, k], message: 'key contains U+0000' }] : []), ...nulIssues(v, [...path, k])]);
  }
  return [];
}
