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
import type { ApplyResult, PlanResult, VersionMeta } from './publisher.ts';
import type { RenderedFile } from './model.ts';
import { ApplyBody, ApplyView, ConfigView, PlanView, RollbackBody, VersionDetailView, VersionPage, VersionParams, VersionsQuery, WatchQuery } from './schema.ts';
import { applyView, fileViews, versionView } from './views.ts';

/** What the shared routes need of a kind's publisher, plus how to build a cluster's draft. */
export interface ConfigRoutesTarget<I> {
  kind: 'nginx' | 'lvs';
  /** The draft settings snapshot of the cluster at `node`; NotFoundError when it is no cluster. */
  draft(node: TreeNode): I;
  publisher: {
    current(cluster: number): Promise<{ meta: VersionMeta; files: RenderedFile[] }>;
    plan(cluster: number, input: I): Promise<PlanResult>;
    apply(actor: ReturnType<typeof actorOf>, cluster: number, draft: () => I, reason: string): Promise<ApplyResult>;
    rollback(actor: ReturnType<typeof actorOf>, cluster: number, version: number, reason: string | undefined): Promise<ApplyResult>;
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
      return { cluster: node.path, ...(await t.publisher.plan(node.id, t.draft(node))) };
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
      return applyView(node.path, await t.publisher.rollback(actor, node.id, req.body.version, req.body.reason));
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
  };
}

/** A body parsed by a schema outside Fastify's validation (when a URL part joins the body). */
export const AnyObject = z.record(z.string(), z.unknown());
