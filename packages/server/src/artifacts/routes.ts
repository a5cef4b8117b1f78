/** HTTP routes of the artifact repository, under /api/v1/artifacts. */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ArtifactList, CanopyError, ArtifactListQuery, ArtifactPutQuery, ArtifactVersion, ArtifactView, NodePath, NotFoundError, PruneResult, isWithin } from '@canopy/core';
import type { Actor } from '../changes/index.ts';
import type { AuthService } from '../auth/index.ts';
import type { TreeNode, TreeService } from '../tree/index.ts';
import { actorOf } from '../http/auth.ts';
import { sendArtifact } from './download.ts';
import type { ArtifactService } from './service.ts';

const tags = ['artifacts'];
const PathParams = z.strictObject({ path: NodePath });
const VersionParams = z.strictObject({ path: NodePath, version: ArtifactVersion });
const ListQuery = ArtifactListQuery.extend({ subtree: z.stringbool().default(false) });

export interface ArtifactRouteDeps {
  artifacts: ArtifactService;
  auth: AuthService;
  tree: TreeService;
  /** The nodes an agent's machine is bound to (undefined for other callers). */
  agentNodes: (actor: Actor) => number[] | undefined;
}

/** Routes to push, list, show, download and remove artifacts. */
export function artifactRoutes(deps: ArtifactRouteDeps): FastifyPluginAsyncZod {
  const { artifacts, auth, tree } = deps;

  // An agent reads the artifacts of the services its machine runs: a node at or above one it is bound to.
  function readable(actor: Actor, path: string): TreeNode {
    if (actor.kind !== 'agent') return auth.nodeFor(actor, 'artifact.read', path);
    const node = tree.model.byPath(path);
    const mine = (deps.agentNodes(actor) ?? []).map((id) => tree.model.get(id)?.path).filter((p): p is string => p !== undefined);
    if (!node || !mine.some((p) => isWithin(p, node.path))) throw new NotFoundError('node', path);
    return node;
  }

  return async (app) => {
    // The body of a push is a stream handed to the service as it arrives, never buffered whole, and
    // taken as bytes whatever its type says (application/octet-stream, gzip, none). JSON keeps the
    // app's parser, and the PUT refuses it: an artifact sent as JSON is a client's mistake.
    app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

    app.put('/artifacts/:path/:version', { schema: { tags, params: VersionParams, querystring: ArtifactPutQuery, response: { 200: ArtifactView, 201: ArtifactView } } }, async (req, reply) => {
      const actor = actorOf(req);
      const node = auth.nodeFor(actor, 'artifact.write', req.params.path);
      const q = req.query;
      if (!isStream(req.body)) throw new CanopyError('unsupported_media_type', 'send the artifact\'s bytes as the body (Content-Type: application/octet-stream), not JSON');
      const { view, created } = await artifacts.push(actor, {
        nodePath: node.path,
        version: req.params.version,
        body: req.body as NodeJS.ReadableStream,
        sha256: q.sha256,
        commit: q.commit ?? null,
        builder: q.builder ?? null,
        buildId: q.buildId ?? null,
        log: q.log ?? null,
      });
      return reply.status(created ? 201 : 200).header('etag', `"${view.sha256}"`).header('location', view.url).send(view);
    });

    app.get('/artifacts/:path/:version', { schema: { tags, params: VersionParams, produces: ['application/octet-stream'] } }, async (req, reply) => {
      const node = readable(actorOf(req), req.params.path);
      const meta = await artifacts.get(node.path, req.params.version);
      return sendArtifact(req, reply, meta, (range) => artifacts.open(node.path, req.params.version, range).then((o) => o.body));
    });

    app.get('/artifacts/:path/:version/meta', { schema: { tags, params: VersionParams, response: { 200: ArtifactView } } }, async (req, reply) => {
      const node = readable(actorOf(req), req.params.path);
      const view = await artifacts.get(node.path, req.params.version);
      return reply.header('etag', `"${view.sha256}"`).send(view);
    });

    app.get('/artifacts/:path', { schema: { tags, params: PathParams, querystring: ListQuery, response: { 200: ArtifactList } } }, async (req) => {
      const node = readable(actorOf(req), req.params.path);
      return artifacts.list(node.path, { limit: req.query.limit, cursor: req.query.cursor, subtree: req.query.subtree });
    });

    app.delete('/artifacts/:path/:version', { schema: { tags, params: VersionParams, response: { 204: z.null() } } }, async (req, reply) => {
      const actor = actorOf(req);
      const node = auth.nodeFor(actor, 'artifact.write', req.params.path);
      await artifacts.remove(actor, node.path, req.params.version);
      return reply.status(204).send(null);
    });

    app.post('/artifacts/:path/prune', { schema: { tags, params: PathParams, response: { 200: PruneResult } } }, async (req) => {
      const node = auth.nodeFor(actorOf(req), 'artifact.write', req.params.path);
      return artifacts.prune(node.path);
    });
  };
}

function isStream(body: unknown): body is NodeJS.ReadableStream {
  return typeof (body as { pipe?: unknown } | null)?.pipe === 'function';
}
