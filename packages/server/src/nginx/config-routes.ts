/**
 * The routes every proxy cluster kind shares (nginx and LVS): the published config, a blocking
 * watch for agents, plan, apply, versions and rollback. Reads need `<kind>.read` on the cluster
 * node, changes `<kind>.write`.
 */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Operation } from '@canopy/core';
import type { AuthService } from '../auth/index.ts';
import { actorOf } from '../http/auth.ts';
import { PathParams } from '../http/route-helpers.ts';
import type { TreeNode } from '../tree/index.ts';
import type { WriteContext } from '../changes/index.ts';
import type { ApplyResult, PlanResult, RestoreReport, VersionDiff, VersionMeta } from './publisher.ts';
import type { PlanOrigin } from './plan-origins.ts';
import type { RenderedFile } from './model.ts';
import { ApplyBody, ApplyView, ConfigView, DiffParams, DiffView, PlanView, RollbackBody, VersionDetailView, VersionPage, VersionParams, VersionsQuery, WatchQuery } from './schema.ts';
import { applyView, fileViews, versionView } from './views.ts';

/** What the shared routes need of a kind's publisher, plus how to build a cluster's draft. */
export interface ConfigRoutesTarget<I> {
  kind: 'nginx' | 'lvs';
  /** The draft settings snapshot of the cluster at `node`; NotFoundError when it is no cluster. */
  draft(node: TreeNode): I;
  /** Sets the settings back to a rolled-back version's snapshot (in the rollback's transaction). */
  restore?(actor: ReturnType<typeof actorOf>, node: TreeNode, w: WriteContext, input: I): Promise<RestoreReport>;
  /** Whose change each part of the plan comes from. */
  origins?(node: TreeNode, draft: I): Promise<PlanOrigin[] | undefined>;
  publisher: {
    latest(cluster: number): VersionMeta | undefined;
    diffVersions(cluster: number, from: number, to: number): Promise<VersionDiff>;
    current(cluster: number): Promise<{ meta: VersionMeta; files: RenderedFile[] }>;
    plan(cluster: number, input: I): Promise<PlanResult>;
    apply(actor: ReturnType<typeof actorOf>, cluster: number, draft: () => I, reason: string): Promise<ApplyResult>;
    rollback(actor: ReturnType<typeof actorOf>, cluster: number, version: number, reason: string | undefined, restore?: (w: WriteContext, input: I) => Promise<RestoreReport>): Promise<ApplyResult>;
    versions(cluster: number, limit: number, before?: number): Promise<VersionMeta[]>;
    version(cluster: number, number: number): Promise<{ meta: VersionMeta; files: RenderedFile[]; diff: string; checkOutput: string; input: unknown }>;
    watch(cluster: number, after: number, waitMs: number): Promise<VersionMeta | undefined>;
  };
}

/** Routes under /api/v1/{kind}/clusters/{path}/…. */
export function configRoutes<I>(t: ConfigRoutesTarget<I>, auth: AuthService): FastifyPluginAsyncZod {
  const tags = [t.kind];
  const base = `/${t.kind}/clusters/:path`;
  const read = `${t.kind}.read` as Operation;
  const write = `${t.kind}.write` as Operation;

  async function config(node: TreeNode) {
    const { meta, files } = await t.publisher.current(node.id);
    return { cluster: node.path, ...versionView(meta), files: fileViews(files) };
  }

  return async (app) => {
    app.get(`${base}/config`, { schema: { tags, params: PathParams, response: { 200: ConfigView } } }, async (req) =>
      config(auth.nodeFor(actorOf(req), read, req.params.path)),
    );

    app.get(`${base}/watch`, { schema: { tags, params: PathParams, querystring: WatchQuery, response: { 200: ConfigView } } }, async (req) => {
      const node = auth.nodeFor(actorOf(req), read, req.params.path);
      await t.publisher.watch(node.id, req.query.version, req.query.wait);
      return config(node);
    });

    app.post(`${base}/plan`, { schema: { tags, params: PathParams, response: { 200: PlanView } } }, async (req) => {
      const node = auth.nodeFor(actorOf(req), read, req.params.path);
      const draft = t.draft(node);
      const plan = await t.publisher.plan(node.id, draft);
      const current = t.publisher.latest(node.id);
      // After a rollback the settings should equal the version rolled back to; say so when they do not.
      const note = current?.rollbackOf && plan.changed
        ? { note: `the settings differ from v${current.number} (a rollback to v${current.rollbackOf}): apply would publish the difference below` }
        : {};
      const origins = plan.changed && t.origins ? await t.origins(node, draft) : undefined;
      return { cluster: node.path, ...plan, ...note, ...(origins ? { origins } : {}) };
    });

    app.post(`${base}/apply`, { schema: { tags, params: PathParams, body: ApplyBody, response: { 200: ApplyView } } }, async (req) => {
      const actor = actorOf(req);
      const node = auth.nodeFor(actor, write, req.params.path);
      t.draft(node); // 404 before any work when the node is not a cluster
      return applyView(node.path, await t.publisher.apply(actor, node.id, () => t.draft(node), req.body.reason));
    });

    app.post(`${base}/rollback`, { schema: { tags, params: PathParams, body: RollbackBody, response: { 200: ApplyView } } }, async (req) => {
      const actor = actorOf(req);
      const node = auth.nodeFor(actor, write, req.params.path);
      const restore = t.restore && ((w: WriteContext, input: I) => (t.restore as NonNullable<typeof t.restore>)(actor, node, w, input));
      return applyView(node.path, await t.publisher.rollback(actor, node.id, req.body.version, req.body.reason, restore));
    });

    app.get(`${base}/versions`, { schema: { tags, params: PathParams, querystring: VersionsQuery, response: { 200: VersionPage } } }, async (req) => {
      const node = auth.nodeFor(actorOf(req), read, req.params.path);
      const list = await t.publisher.versions(node.id, req.query.limit + 1, req.query.cursor);
      const page = list.slice(0, req.query.limit).map(versionView);
      const last = page.at(-1);
      return list.length > req.query.limit && last ? { items: page, nextCursor: String(last.version) } : { items: page };
    });

    app.get(`${base}/versions/:version`, { schema: { tags, params: VersionParams, response: { 200: VersionDetailView } } }, async (req) => {
      const node = auth.nodeFor(actorOf(req), read, req.params.path);
      const v = await t.publisher.version(node.id, req.params.version);
      return { cluster: node.path, ...versionView(v.meta), files: fileViews(v.files), diff: v.diff, checkOutput: v.checkOutput, input: v.input };
    });

    app.get(`${base}/versions/:version/diff/:other`, { schema: { tags, params: DiffParams, response: { 200: DiffView } } }, async (req) => {
      const node = auth.nodeFor(actorOf(req), read, req.params.path);
      return { cluster: node.path, ...(await t.publisher.diffVersions(node.id, req.params.version, req.params.other)) };
    });
  };
}

/** A body parsed by a schema outside Fastify's validation (when a URL part joins the body). */
export const AnyObject = z.record(z.string(), z.unknown());
