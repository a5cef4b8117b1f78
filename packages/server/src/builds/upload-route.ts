/**
 * PUT /api/v1/builds/{id}/artifact: the build machine's agent hands in the packaged output with its
 * machine credential. Only the machine running that build may, only while it runs; the bytes
 * stream straight into the artifact repository, which checks them against the sha256 the agent
 * computed. A second upload for a build that already stored one is answered with that one when the
 * content is the same and refused otherwise, so a build never makes two artifacts.
 */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CanopyError, ConflictError, derivedVersion, NotFoundError, Sha256Hex } from '@canopy/core';
import { actorOf } from '../http/auth.ts';
import { artifactExists, type ArtifactSink } from './artifact-port.ts';
import type { BuildService } from './service.ts';

const IdParams = z.strictObject({ id: z.coerce.number().int().positive().max(2 ** 31 - 1) });
const Headers = z.object({ 'x-canopy-sha256': Sha256Hex, 'x-canopy-commit': z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'must be a full commit id') });
const TYPES = ['application/gzip', 'application/octet-stream', 'application/x-gzip'];

/** The upload route. */
export function uploadRoute(builds: BuildService, artifacts: ArtifactSink): FastifyPluginAsyncZod {
  const inFlight = new Set<number>();
  return async (app) => {
    app.addContentTypeParser(TYPES, (_req, payload, done) => done(null, payload));
    app.put('/builds/:id/artifact', { schema: { tags: ['builds'], params: IdParams, headers: Headers, hide: true } }, async (req) => {
      const actor = actorOf(req);
      const b = await builds.row(req.params.id).catch(() => undefined);
      // Anyone but the agent of the machine running the build is told there is no such build.
      if (!b || actor.kind !== 'agent' || actor.machineId !== b.machineId) throw new NotFoundError('build', String(req.params.id));
      const sha256 = req.headers['x-canopy-sha256'];
      const commit = req.headers['x-canopy-commit'];
      if (b.artifactVersion) {
        if (b.artifactSha256 === sha256) return { version: b.artifactVersion, sha256, size: Number(b.artifactSize) };
        throw new ConflictError(`build ${b.id} already stored ${b.artifactVersion} with other content`, { build: b.id });
      }
      if (b.state !== 'running') throw new ConflictError(`build ${b.id} is ${b.state}: it takes no artifact`, { state: b.state });
      // 503, not 409: the agent tries again, and once the first upload landed it is answered with it.
      if (inFlight.has(b.id)) throw new CanopyError('unavailable', `an upload for build ${b.id} is in progress; try again`, { build: b.id });
      inFlight.add(b.id);
      try {
        const nodePath = await builds.nodePathOf(b.id);
        let version = b.version ?? derivedVersion(b.ref, commit);
        // A rebuild of the same commit packs other bytes (new mtimes): it gets a version of its own.
        if (b.version === null && (await artifactExists(artifacts, nodePath, version))) version = `${version}-b${b.id}`;
        const stored = await artifacts.put(actor, {
          nodePath, version, body: req.body as NodeJS.ReadableStream, sha256, commit, builder: b.hostname, buildId: b.id, log: `/api/v1/builds/${b.id}/log`,
        });
        await builds.stored(b.id, { version: stored.version, sha256: stored.sha256, size: stored.size, commit });
        return { version: stored.version, sha256: stored.sha256, size: stored.size };
      } finally {
        inFlight.delete(b.id);
      }
    });
  };
}
