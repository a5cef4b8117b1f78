import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from 'tar';
import { mkNodes, startTestServer, testBackends, type TestServer } from '@canopy/server/testing';
import { startControlCenter, type ControlCenterProcess } from '../testing.ts';
import { ArtifactRefused, downloadArtifact, fetchVerifyUnpack } from './index.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A tar.gz of `files` (name → content), plus whatever `extra` adds to the folder first. */
async function tarball(work: string, files: Record<string, string | Buffer>, extra?: (dir: string) => Promise<void>): Promise<Buffer> {
  const dir = await mkdtemp(join(work, 'src-'));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  await extra?.(dir);
  const out = join(work, `${Math.random().toString(36).slice(2)}.tar.gz`);
  await create({ gzip: true, file: out, cwd: dir, portable: true }, await readdir(dir));
  return readFile(out);
}

/** A TCP proxy that cuts its first connection after `cutAfter` bytes of the answer; later ones pass. */
async function cuttingProxy(target: number, cutAfter: number): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let n = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const first = n++ === 0;
    const upstream = connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    let sent = 0;
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (first && sent + chunk.length > cutAfter) {
        client.write(chunk.subarray(0, cutAfter - sent));
        client.destroy();
        upstream.destroy();
        return;
      }
      sent += chunk.length;
      client.write(chunk);
    });
    upstream.on('end', () => client.end());
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => n,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const [backend] = testBackends();

describe('agent artifact library against a real control center', () => {
  let s: TestServer;
  let work: string;
  let store: string;
  let base: string;
  let token: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'canopy-agent-artifacts-'));
    store = join(work, 'store');
    s = await startTestServer(backend!, { artifacts: { dir: store, maxBytes: 64 * 1024 * 1024, retention: { keepLast: 50, keepDeployedDays: 30 }, sweepMinutes: 0 } });
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}/api/v1/artifacts`;
    await mkNodes(s, 'corp.pay.api');
    await mkNodes(s, 'corp.other');
    assert.equal((await s.call('POST', '/api/v1/machines', { hostname: 'api-1', nodes: ['corp.pay.api'], status: 'online' })).status, 201);
    const cred = await s.call('POST', '/api/v1/machines/api-1/credentials', { name: 'agent' });
    assert.equal(cred.status, 201, JSON.stringify(cred.body));
    token = cred.body.token;
  });
  after(async () => {
    await s.close();
    await rm(work, { recursive: true, force: true });
  });

  async function push(path: string, version: string, body: Buffer): Promise<{ sha256: string; size: number }> {
    const r = await s.app.inject({ method: 'PUT', url: `/api/v1/artifacts/${path}/${version}`, payload: body, headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/octet-stream' } });
    assert.equal(r.statusCode, 201, r.body);
    return r.json();
  }

  test('a machine downloads its service\'s artifact with its own credential, verifies and unpacks it', async () => {
    const body = await tarball(work, { 'bin/app': '#!/bin/sh\necho hi\n', 'etc/app.conf': 'port=8080\n' });
    const a = await push('corp.pay.api', '1.0.0', body);
    const dest = join(work, 'releases', '1.0.0');
    const got = await fetchVerifyUnpack({ url: `${base}/corp.pay.api/1.0.0`, sha256: a.sha256, size: a.size, token }, dest, { cacheDir: join(work, 'cache') });
    assert.equal(got.fetched, body.length);
    assert.equal(await readFile(join(dest, 'etc/app.conf'), 'utf8'), 'port=8080\n');
    const head = await fetch(`${base}/corp.pay.api/1.0.0`, { method: 'HEAD', headers: { authorization: `Bearer ${token}` } });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(body.length), 'HEAD tells the size without the body');
    assert.equal(head.headers.get('etag'), `"${a.sha256}"`);
    const again = await fetchVerifyUnpack({ url: `${base}/corp.pay.api/1.0.0`, sha256: a.sha256, size: a.size, token }, dest, { cacheDir: join(work, 'cache') });
    assert.equal(again.fetched, 0, 'the verified copy in the cache is used again');
  });

  test('a machine may not download the artifacts of a service it does not run', async () => {
    const a = await push('corp.other', '1.0.0', randomBytes(1000));
    await assert.rejects(downloadArtifact({ url: `${base}/corp.other/1.0.0`, sha256: a.sha256, token }, { cacheDir: join(work, 'cache-other') }), (e: unknown) => e instanceof ArtifactRefused && e.reason === 'unavailable' && /404/.test(e.message));
  });

  test('resumes a partial copy with a Range request, fetching only the missing bytes', async () => {
    const body = randomBytes(3 * 1024 * 1024);
    const a = await push('corp.pay.api', '1.1.0', body);
    const cache = join(work, 'cache-resume');
    await mkdir(cache, { recursive: true });
    await writeFile(join(cache, `${a.sha256}.part`), body.subarray(0, 1_000_000));
    const got = await downloadArtifact({ url: `${base}/corp.pay.api/1.1.0`, sha256: a.sha256, size: a.size, token }, { cacheDir: cache });
    assert.equal(got.resumedFrom, 1_000_000);
    assert.equal(got.fetched, body.length - 1_000_000);
    assert.ok((await readFile(got.file)).equals(body));
  });

  test('a link cut mid-download is resumed where it stopped', async () => {
    const body = randomBytes(2 * 1024 * 1024);
    const a = await push('corp.pay.api', '1.2.0', body);
    const proxy = await cuttingProxy(Number(new URL(base).port), 700_000);
    try {
      const url = `http://127.0.0.1:${proxy.port}/api/v1/artifacts/corp.pay.api/1.2.0`;
      const got = await downloadArtifact({ url, sha256: a.sha256, size: a.size, token }, { cacheDir: join(work, 'cache-cut') });
      assert.ok((await readFile(got.file)).equals(body));
      assert.equal(proxy.connections(), 2, 'one cut connection, one resume');
      assert.ok(got.fetched < body.length + 700_000, `fetched ${got.fetched}: the second request did not start over`);
    } finally {
      await proxy.close();
    }
  });

  test('an artifact corrupted in storage is refused as corrupt, and nothing is unpacked or cached', async () => {
    const body = await tarball(work, { 'a.txt': 'original' });
    const a = await push('corp.pay.api', '1.3.0', body);
    const blob = join(store, 'blobs', a.sha256.slice(0, 2), a.sha256);
    const bad = Buffer.from(body);
    bad[bad.length >> 1]! ^= 0xff;
    await writeFile(blob, bad);
    const cache = join(work, 'cache-corrupt');
    const dest = join(work, 'releases', '1.3.0');
    await assert.rejects(fetchVerifyUnpack({ url: `${base}/corp.pay.api/1.3.0`, sha256: a.sha256, size: a.size, token }, dest, { cacheDir: cache }), (e: unknown) => e instanceof ArtifactRefused && e.reason === 'corrupt' && /sha256/.test(e.message));
    assert.deepEqual(await readdir(cache), []);
    await assert.rejects(readdir(dest));
  });

  test('an artifact truncated in storage is refused as truncated', async () => {
    const body = randomBytes(200_000);
    const a = await push('corp.pay.api', '1.4.0', body);
    await truncate(join(store, 'blobs', a.sha256.slice(0, 2), a.sha256), 50_000);
    await assert.rejects(downloadArtifact({ url: `${base}/corp.pay.api/1.4.0`, sha256: a.sha256, size: a.size, token }, { cacheDir: join(work, 'cache-trunc'), attempts: 2 }), (e: unknown) => e instanceof ArtifactRefused && e.reason === 'truncated' && /50000 of 200000/.test(e.message));
  });

  test('an archive with a link out of the release directory, or not an archive at all, is refused whole', async () => {
    const evil = await tarball(work, { 'ok.txt': 'fine' }, (dir) => symlink('/etc/passwd', join(dir, 'passwd')));
    const a = await push('corp.pay.api', '1.5.0', evil);
    const dest = join(work, 'releases', '1.5.0');
    await assert.rejects(fetchVerifyUnpack({ url: `${base}/corp.pay.api/1.5.0`, sha256: a.sha256, size: a.size, token }, dest, { cacheDir: join(work, 'cache-evil') }), (e: unknown) => e instanceof ArtifactRefused && e.reason === 'invalid' && /points outside/.test(e.message));
    await assert.rejects(readdir(dest), 'nothing unpacked');
    const junk = randomBytes(4096);
    const j = await push('corp.pay.api', '1.6.0', junk);
    await assert.rejects(fetchVerifyUnpack({ url: `${base}/corp.pay.api/1.6.0`, sha256: j.sha256, token }, join(work, 'releases', '1.6.0'), { cacheDir: join(work, 'cache-junk') }), (e: unknown) => e instanceof ArtifactRefused && e.reason === 'invalid');
    assert.equal(sha(junk), j.sha256);
  });
});

describe('a download across a kill -9 of the control center', () => {
  let cc: ControlCenterProcess;
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'canopy-agent-artifacts-cc-'));
    // The real server (main.ts): artifacts in its data dir, as configured by default.
    cc = await startControlCenter({ host: '127.0.0.1' });
    assert.equal((await cc.call('POST', '/api/v1/nodes', { parentPath: null, name: 'kcc' })).status, 201);
  });
  after(async () => {
    await cc?.stop();
    await rm(work, { recursive: true, force: true });
  });

  test('an agent cut off mid-download resumes from its partial copy once the restarted control center answers', async () => {
    const body = randomBytes(8 * 1024 * 1024);
    const put = await fetch(`${cc.url}/api/v1/artifacts/kcc/1.0.0`, { method: 'PUT', headers: { authorization: `Bearer ${cc.token}`, 'content-type': 'application/octet-stream' }, body });
    assert.equal(put.status, 201, await put.text());
    const src = { url: `${cc.url}/api/v1/artifacts/kcc/1.0.0`, sha256: sha(body), size: body.length, token: cc.token };
    const cache = join(work, 'cache');
    // The agent dies (its download is aborted) once a first part is on disk…
    const abort = new AbortController();
    await assert.rejects(downloadArtifact(src, { cacheDir: cache, signal: abort.signal, onProgress: (have) => void (have >= 1024 * 1024 && abort.abort()) }));
    const partial = (await readFile(join(cache, `${src.sha256}.part`))).length;
    assert.ok(partial > 0 && partial < body.length, `partial copy of ${partial} bytes`);
    // …and the control center is killed and comes back on the same data.
    await cc.kill9();
    await cc.restart();
    const got = await downloadArtifact(src, { cacheDir: cache });
    assert.equal(got.resumedFrom, partial);
    assert.equal(got.fetched, body.length - partial);
    assert.ok((await readFile(got.file)).equals(body));
  });
});
