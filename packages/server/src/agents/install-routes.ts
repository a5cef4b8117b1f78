/**
 * The agent's install, served by the control center itself so machines without internet access can
 * install it: GET /agent/install.sh (the script), /agent/canopy-agent.mjs (the agent bundled into
 * one file) and /agent/node (the Node runtime this server runs on). All public: they hold no secret,
 * the enrollment token is the script's argument. Mounted outside /api/v1, so the command reads
 * `curl -fsS URL/agent/install.sh | sh -s -- --token TOKEN`.
 */
import { createReadStream, statSync } from 'node:fs';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ValidationError } from '@canopy/core';
import { agentBundle, isInstallUrl, renderInstallScript, runtimeDigest } from '@canopy/agent/install';

export interface InstallOptions {
  /** The control center's URL as machines reach it (CANOPY_PUBLIC_URL); else the request's own. */
  publicUrl?: string | undefined;
  /** The Node binary to serve; default the one running this server. */
  nodePath?: string | undefined;
}

const hide = { schema: { hide: true }, config: { public: true } } as const;

/** The install script, the agent bundle and the runtime. */
export function installRoutes(opts: InstallOptions = {}): FastifyPluginAsync {
  const nodePath = opts.nodePath ?? process.execPath;

  // Without a configured URL the script points back where it was fetched from; the Host header is
  // the client's to choose, so it must be a bare host[:port] before it goes anywhere near a script.
  function urlFor(req: FastifyRequest): string {
    const url = (opts.publicUrl ?? `${req.protocol}://${req.headers.host ?? ''}`).replace(/\/+$/, '');
    if (!isInstallUrl(url)) {
      throw new ValidationError('cannot tell the control center\'s URL for the install script: set CANOPY_PUBLIC_URL', [{ path: ['host'], message: `not a host[:port] an install script may carry: ${JSON.stringify(req.headers.host ?? '')}` }]);
    }
    return url;
  }

  return async (app) => {
    app.get('/agent/install.sh', hide, async (req, reply) => {
      const url = urlFor(req);
      const [bundle, node] = await Promise.all([agentBundle(), runtimeDigest(nodePath)]);
      return reply.type('text/x-shellscript; charset=utf-8').header('cache-control', 'no-store').send(renderInstallScript({ url, bundleSha256: bundle.sha256, nodeSha256: node.sha256 }));
    });

    app.get('/agent/canopy-agent.mjs', hide, async (_req, reply) => {
      const bundle = await agentBundle();
      return reply.type('text/javascript; charset=utf-8').header('x-checksum-sha256', bundle.sha256).send(bundle.code);
    });

    app.get('/agent/node', hide, async (_req, reply) => {
      const { sha256 } = await runtimeDigest(nodePath);
      return reply
        .type('application/octet-stream')
        .header('content-length', statSync(nodePath).size)
        .header('x-checksum-sha256', sha256)
        .send(createReadStream(nodePath));
    });
  };
}
