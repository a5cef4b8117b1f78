/**
 * `canopy artifact push|ls|show|pull|rm|prune`: the artifact repository. `push` hashes the file
 * first and sends the digest with it, so a byte changed on the way is refused by the server;
 * `pull` checks the digest of what it wrote before keeping it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { CanopyApiError } from '@canopy/sdk/client';
import { isNodePath, parseArtifactRef, type ArtifactList, type ArtifactView, type ErrorCode, type PruneResult } from '@canopy/core';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { fields, table, UsageError } from '../output.ts';

function ref(v: string): { nodePath: string; version: string } {
  const r = parseArtifactRef(v);
  if (!r) throw new UsageError(`'${v}' is not an artifact reference: write <node path>@<version>, e.g. corp.pay.api@1.4.2`);
  return r;
}

function nodePath(v: string): string {
  if (!isNodePath(v)) throw new UsageError(`'${v}' is not a node path (dot-separated DNS labels, e.g. corp.pay.api)`);
  return v;
}

const at = (r: { nodePath: string; version: string }) => `/artifacts/${r.nodePath}/${encodeURIComponent(r.version)}`;

function show(a: ArtifactView): string {
  return fields([
    ['ref', a.ref], ['sha256', a.sha256], ['size', `${a.size} bytes`], ['commit', a.commit], ['builder', a.builder],
    ['build', a.buildId], ['log', a.log], ['pushed by', a.createdBy], ['pushed at', a.createdAt], ['deployed at', a.deployedAt], ['url', a.url],
  ]);
}

async function sha256Of(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

/** Raw fetch for the byte-carrying calls (the SDK's request is JSON and text only). */
async function raw(ctx: CliContext, method: string, path: string, init: { headers?: Record<string, string>; body?: ReadableStream } = {}): Promise<Response> {
  const { url, token } = ctx.connection();
  if (!token) throw new UsageError(`not logged in to ${url}: run \`canopy login\` or set CANOPY_TOKEN`);
  const res = await fetch(`${url.replace(/\/+$/, '')}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...init.headers },
    ...(init.body ? { body: init.body, duplex: 'half' } : {}),
  } as RequestInit);
  if (res.ok) return res;
  const text = await res.text();
  let p: { code?: ErrorCode; detail?: string } = {};
  try {
    p = JSON.parse(text) as typeof p;
  } catch {
    // not a problem document
  }
  throw new CanopyApiError(res.status, p.code ?? 'internal', p.detail ?? `HTTP ${res.status}: ${text.slice(0, 200)}`);
}

/** Adds `canopy artifact`. */
export function registerArtifact(program: Command, ctx: CliContext): void {
  const artifact = program.command('artifact').description('the artifact repository: immutable versions of each service, by sha256');

  withJson(artifact.command('push <ref> <file>').description('store <file> (a tar.gz) as <ref> = <node path>@<version>'))
    .option('--commit <sha>', 'the git commit it was built from')
    .option('--builder <name>', 'what built it (a CI runner, a host)')
    .option('--build-id <n>', 'the id of the build that made it')
    .option('--log <ref>', 'where its build log is (a URL)')
    .action(async (r: string, file: string, o: JsonOption & { commit?: string; builder?: string; buildId?: string; log?: string }) => {
      const target = ref(r);
      const st = await stat(file).catch(() => undefined);
      if (!st?.isFile()) throw new UsageError(`${file}: not a readable file`);
      const q = new URLSearchParams({ sha256: await sha256Of(file) });
      if (o.commit) q.set('commit', o.commit);
      if (o.builder) q.set('builder', o.builder);
      if (o.buildId) q.set('buildId', o.buildId);
      if (o.log) q.set('log', o.log);
      const body = Readable.toWeb(createReadStream(file)) as ReadableStream;
      const res = await raw(ctx, 'PUT', `${at(target)}?${q}`, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(st.size) }, body });
      const a = (await res.json()) as ArtifactView;
      ctx.print(o.json, a, () => `${res.status === 201 ? 'stored' : 'already stored (same content)'} ${a.ref}: ${a.size} bytes, sha256 ${a.sha256}\n`);
    });

  withJson(artifact.command('ls <path>').description('versions of the service <path>, newest first'))
    .option('--subtree', 'also the services below <path>')
    .option('--limit <n>', 'at most this many (1-500)', '50')
    .action(async (path: string, o: JsonOption & { subtree?: boolean; limit: string }) => {
      if (!/^\d{1,3}$/.test(o.limit)) throw new UsageError(`--limit '${o.limit}' must be a number from 1 to 500`);
      const q = new URLSearchParams({ limit: o.limit, ...(o.subtree ? { subtree: 'true' } : {}) });
      const list = await ctx.client().request<ArtifactList>('GET', `/artifacts/${nodePath(path)}?${q}`);
      ctx.print(o.json, list.items, () =>
        table(['ref', 'size', 'sha256', 'commit', 'pushed by', 'pushed at'], list.items.map((a) => [a.ref, a.size, a.sha256.slice(0, 12), a.commit?.slice(0, 12), a.createdBy, a.createdAt])),
      );
    });

  withJson(artifact.command('show <ref>').description('one version: digest, size, commit, builder, build log, who pushed it'))
    .action(async (r: string, o: JsonOption) => {
      const a = await ctx.client().request<ArtifactView>('GET', `${at(ref(r))}/meta`);
      ctx.print(o.json, a, () => show(a));
    });

  withJson(artifact.command('pull <ref>').description('download a version and check its sha256'))
    .option('-o, --output <file>', 'where to write it (default <name>-<version>.tar.gz)')
    .action(async (r: string, o: JsonOption & { output?: string }) => {
      const target = ref(r);
      const meta = await ctx.client().request<ArtifactView>('GET', `${at(target)}/meta`);
      const out = o.output ?? `${target.nodePath.split('.').at(-1)}-${target.version}.tar.gz`;
      const res = await raw(ctx, 'GET', at(target));
      const h = createHash('sha256');
      const tee = new Transform({ transform: (c: Buffer, _e, done) => (h.update(c), done(null, c)) });
      const part = `${out}.part`;
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), tee, createWriteStream(part));
      const got = h.digest('hex');
      if (got !== meta.sha256) {
        await rm(part, { force: true });
        throw new UsageError(`refusing ${meta.ref}: what arrived has sha256 ${got}, not ${meta.sha256}`);
      }
      await rename(part, out);
      ctx.print(o.json, { ...meta, file: out }, () => `${out}: ${meta.ref}, ${meta.size} bytes, sha256 verified\n`);
    });

  withJson(artifact.command('rm <ref>').description('remove a version (refused while it runs somewhere)'))
    .action(async (r: string, o: JsonOption) => {
      const target = ref(r);
      await ctx.client().request('DELETE', at(target));
      ctx.print(o.json, { removed: `${target.nodePath}@${target.version}` }, () => `removed ${target.nodePath}@${target.version}\n`);
    });

  withJson(artifact.command('prune <path>').description('apply retention to the service <path> now'))
    .action(async (path: string, o: JsonOption) => {
      const p = await ctx.client().request<PruneResult>('POST', `/artifacts/${nodePath(path)}/prune`);
      ctx.print(o.json, p, () => `removed ${p.removed.length} version(s)${p.removed.length ? `: ${p.removed.join(', ')}` : ''}; ${p.kept} kept; ${p.freedBytes} bytes freed\n`);
    });
}
