/** Build the HTTP application from its services; `listen` happens elsewhere so tests can `inject`. */
import { existsSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import fastifyStatic from '@fastify/static';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { ValidationError } from '@canopy/core';
import { installErrorHandling, problem, sendProblem } from './errors.ts';
import { installAuthentication } from './auth.ts';
import { installOps } from './ops.ts';
import { parseJsonBody, urlHasNul } from './json.ts';
import type { Services } from '../services.ts';

export interface AppOptions {
  bodyLimit?: number;
  logLevel?: string;
  /** Directory of the built console, served at `/`. */
  webDir?: string | undefined;
  /** Receives one access-log line per request; no access log when absent. */
  accessLog?: ((line: string) => void) | undefined;
  /** PEM certificate (with chain) and key: listen with HTTPS (CANOPY_TLS_CERT / CANOPY_TLS_KEY). */
  https?: { cert: string; key: string } | undefined;
}

/** The Fastify app with every capability's routes under /api/v1. */
export async function buildApp(services: Services, opts: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    // Typed apart from an HTTP instance by Fastify, though its routes and hooks are the same: hidden from the overloads.
    ...(opts.https ? ({ https: opts.https } as object) : {}),
    bodyLimit: opts.bodyLimit ?? 10 * 1024 * 1024,
    logger: { level: opts.logLevel ?? 'warn' },
    // One line per request is noise at info; debug and trace keep it.
    logController: new LogController({ disableRequestLogging: !['debug', 'trace'].includes(opts.logLevel ?? 'warn') }),
    genReqId: () => crypto.randomUUID(),
    trustProxy: false,
    // Node paths and hostnames run to 253 characters; the default 100 answered valid ones with 414.
    routerOptions: { maxParamLength: 2048 },
    // Malformed percent-encoding and over-long parameters are answered before any hook runs: as problems too.
    frameworkErrors: (err, _req, reply) => {
      const why = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a URL path parameter is too long' : 'the URL is not validly percent-encoded';
      void sendProblem(reply, problem('validation_failed', why));
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  installBodyRules(app);
  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Canopy API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  // Ops first: its clock starts before authentication, so the access log's duration includes it.
  installOps(app, services, { accessLog: opts.accessLog });
  installAuthentication(app, services.auth, services.agents);

  await app.register(
    async (api) => {
      for (const plugin of services.routes) await api.register(plugin);
      api.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
      api.get('/health', { config: { public: true }, schema: { hide: true } }, async () => ({ status: 'ok', revision: services.feed.revision() }));
    },
    { prefix: '/api/v1' },
  );
  // Outside the API prefix: what `curl URL/agent/install.sh | sh` fetches.
  for (const plugin of services.rootRoutes) await app.register(plugin);

  if (opts.webDir && existsSync(join(opts.webDir, 'index.html'))) {
    const webDir = resolve(opts.webDir);
    // `serve: false`: the plugin's own file routes would not be public, so the console could not load
    // before login. One public route serves built files and, for client-side routes, the app shell.
    await app.register(fastifyStatic, { root: webDir, serve: false });
    app.get('/*', { config: { public: true }, schema: { hide: true } }, (req, reply) => {
      if (req.url.startsWith('/api/')) return reply.callNotFound();
      const file = (req.params as { '*'?: string })['*'] ?? '';
      const full = resolve(webDir, file);
      if (full.startsWith(webDir + sep) && statSync(full, { throwIfNoEntry: false })?.isFile()) return reply.sendFile(file);
      return reply.sendFile('index.html');
    });
  }
  return app;
}

/** JSON bodies too deep or holding text PostgreSQL cannot store, and URLs with NUL, are 400s at the door. */
function installBodyRules(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    // An empty body keeps Fastify's own answer (and its error code); everything else is ours.
    if (text === '') return parseJson(req, text, done);
    try {
      done(null, parseJsonBody(text));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addHook('onRequest', async (req) => {
    if (urlHasNul(req.url)) throw new ValidationError('the URL may not contain an encoded NUL (%00)', [{ path: ['url'], message: 'contains %00' }]);
  });
}
