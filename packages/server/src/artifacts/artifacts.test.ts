import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { mkNodes, startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { SYSTEM_ACTOR } from '../changes/index.ts';
import { cleanSpool } from './store.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Every blob file in the store's directory. */
async function blobs(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(join(dir, 'blobs')).catch(() => [])) out.push(...(await readdir(join(dir, 'blobs', d))));
  return out.sort();
}

for (const backend of testBackends()) {
  describe(`artifact repository (${backend.name})`, () => {
    let s: TestServer;
    let dir: string;
    /** What the deploy capability would say runs, per service. */
    const running = new Map<string, string[]>();
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'canopy-artifacts-'));
      s = await startTestServer(backend, {
        artifacts: { dir, maxBytes: 1024 * 1024, retention: { keepLast: 3, keepDeployedDays: 30 }, sweepMinutes: 0 },
        artifactsInUse: (path) => running.get(path) ?? [],
      });
    });
    after(async () => {
      await s.close();
      await rm(dir, { recursive: true, force: true });
    });

    const put = (path: string, version: string, body: Buffer, query = '', token = s.adminToken) =>
      s.app.inject({ method: 'PUT', url: `/api/v1/artifacts/${path}/${version}${query}`, payload: body, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' } });
    const get = (path: string, headers: Record<string, string> = {}) => s.app.inject({ method: 'GET', url: `/api/v1/artifacts/${path}`, headers: { authorization: `Bearer ${s.adminToken}`, ...headers } });

    test('stores a version with its digest, size and provenance, and serves the same bytes back', async () => {
      await mkNodes(s, 'corp.pay.api');
      const body = randomBytes(100_000);
      const r = await put('corp.pay.api', '1.4.2', body, `?sha256=${sha(body)}&commit=0123abcd&builder=build-1&buildId=7&log=/api/v1/builds/7/log`);
      assert.equal(r.statusCode, 201, r.body);
      const v = r.json();
      assert.equal(v.ref, 'corp.pay.api@1.4.2');
      assert.equal(v.sha256, sha(body));
      assert.equal(v.size, body.length);
      assert.deepEqual([v.commit, v.builder, v.buildId, v.log, v.createdBy], ['0123abcd', 'build-1', 7, '/api/v1/builds/7/log', 'admin']);
      const d = await get('corp.pay.api/1.4.2');
      assert.equal(d.statusCode, 200);
      assert.equal(d.headers.etag, `"${sha(body)}"`);
      assert.equal(d.headers['accept-ranges'], 'bytes');
      assert.ok(d.rawPayload.equals(body));
      const meta = await get('corp.pay.api/1.4.2/meta');
      assert.equal(meta.json().sha256, sha(body));
      const audit = await s.call('GET', '/api/v1/audit?limit=200');
      assert.ok(JSON.stringify(audit.body).includes('artifact.push'), 'the push is audited');
    });

    test('refuses a body whose sha256 is not the one given, keeping nothing', async () => {
      await mkNodes(s, 'corp.pay.bad');
      const before = await blobs(dir);
      const r = await put('corp.pay.bad', '1.0.0', randomBytes(5000), `?sha256=${'0'.repeat(64)}`);
      assert.equal(r.statusCode, 400);
      assert.match(r.json().detail, /nothing was kept/);
      assert.deepEqual(await blobs(dir), before);
      assert.equal((await get('corp.pay.bad/1.0.0/meta')).statusCode, 404);
      assert.deepEqual(await readdir(join(dir, 'tmp')), [], 'no spool file left behind');
    });

    test('versions are immutable: other content under a taken version is 409, the same content is accepted again', async () => {
      await mkNodes(s, 'corp.pay.imm');
      const body = randomBytes(3000);
      assert.equal((await put('corp.pay.imm', '2.0.0', body)).statusCode, 201);
      const same = await put('corp.pay.imm', '2.0.0', body);
      assert.equal(same.statusCode, 200);
      const before = await blobs(dir);
      const other = await put('corp.pay.imm', '2.0.0', randomBytes(3000));
      assert.equal(other.statusCode, 409);
      assert.match(other.json().detail, /immutable/);
      assert.deepEqual(await blobs(dir), before, 'the refused content left no blob');
      const early = await put('corp.pay.imm', '2.0.0', randomBytes(10), `?sha256=${'a'.repeat(64)}`);
      assert.equal(early.statusCode, 409, 'a declared digest that differs is refused before the body is read');
      assert.ok((await get('corp.pay.imm/2.0.0')).rawPayload.equals(body));
    });

    test('identical content under two versions or services is one blob, kept until its last version goes', async () => {
      await mkNodes(s, 'corp.shared.a');
      await mkNodes(s, 'corp.shared.b');
      const body = randomBytes(2048);
      await put('corp.shared.a', '1.0.0', body);
      await put('corp.shared.b', '9.9.9', body);
      assert.equal((await blobs(dir)).filter((b) => b === sha(body)).length, 1);
      assert.equal((await s.call('DELETE', '/api/v1/artifacts/corp.shared.a/1.0.0')).status, 204);
      assert.ok((await blobs(dir)).includes(sha(body)), 'still named by corp.shared.b@9.9.9');
      assert.equal((await s.call('DELETE', '/api/v1/artifacts/corp.shared.b/9.9.9')).status, 204);
      assert.ok(!(await blobs(dir)).includes(sha(body)));
    });

    test('serves byte ranges, resumes only the same content, and answers 416 past the end', async () => {
      await mkNodes(s, 'corp.rng');
      const body = randomBytes(10_000);
      await put('corp.rng', '1.0.0', body);
      const etag = `"${sha(body)}"`;
      const part = await get('corp.rng/1.0.0', { range: 'bytes=100-199' });
      assert.equal(part.statusCode, 206);
      assert.equal(part.headers['content-range'], 'bytes 100-199/10000');
      assert.ok(part.rawPayload.equals(body.subarray(100, 200)));
      const rest = await get('corp.rng/1.0.0', { range: 'bytes=9000-', 'if-range': etag });
      assert.equal(rest.statusCode, 206);
      assert.ok(rest.rawPayload.equals(body.subarray(9000)));
      const suffix = await get('corp.rng/1.0.0', { range: 'bytes=-10' });
      assert.ok(suffix.rawPayload.equals(body.subarray(-10)));
      const changed = await get('corp.rng/1.0.0', { range: 'bytes=9000-', 'if-range': `"${'b'.repeat(64)}"` });
      assert.equal(changed.statusCode, 200, 'another ETag: the whole body again');
      assert.equal(changed.rawPayload.length, body.length);
      const past = await get('corp.rng/1.0.0', { range: 'bytes=20000-' });
      assert.equal(past.statusCode, 416);
      assert.equal(past.headers['content-range'], 'bytes */10000');
      assert.equal((await get('corp.rng/1.0.0', { 'if-none-match': etag })).statusCode, 304);
      const head = await s.app.inject({ method: 'HEAD', url: '/api/v1/artifacts/corp.rng/1.0.0', headers: { authorization: `Bearer ${s.adminToken}` } });
      assert.equal(head.statusCode, 200);
      assert.equal(head.headers.etag, etag);
    });

    test('bad input is a clear 4xx and changes nothing', async () => {
      await mkNodes(s, 'corp.inp');
      assert.equal((await put('corp.inp', '.hidden', randomBytes(10))).statusCode, 400);
      assert.equal((await put('corp.inp', '1.0.0-', randomBytes(10))).statusCode, 400);
      assert.equal((await put('corp.inp', 'a..b', randomBytes(10))).statusCode, 400);
      assert.equal((await put('corp.inp', '1.0.0', randomBytes(10), '?sha256=XYZ')).statusCode, 400);
      assert.equal((await put('corp.inp', '1.0.0', randomBytes(10), '?commit=not-a-commit')).statusCode, 400);
      assert.equal((await put('corp.nowhere', '1.0.0', randomBytes(10))).statusCode, 404);
      assert.equal((await put('corp.inp', '1.0.0', Buffer.alloc(0))).statusCode, 400, 'an empty artifact');
      const asJson = await s.call('PUT', '/api/v1/artifacts/corp.inp/1.0.0', { not: 'bytes' });
      assert.equal(asJson.status, 415);
      const big = await put('corp.inp', '1.0.0', randomBytes(1024 * 1024 + 1));
      assert.equal(big.statusCode, 413);
      assert.equal((await get('corp.inp/1.0.0/meta')).statusCode, 404);
      assert.deepEqual(await readdir(join(dir, 'tmp')), []);
    });

    test('keeps the newest N versions of a service, and those deployed recently', async () => {
      await mkNodes(s, 'corp.ret');
      await put('corp.ret', '1.0.0', randomBytes(100));
      await put('corp.ret', '1.0.1', randomBytes(100));
      await s.services.artifacts.markDeployed(SYSTEM_ACTOR, 'corp.ret', '1.0.0');
      for (const v of ['1.0.2', '1.0.3', '1.0.4']) await put('corp.ret', v, randomBytes(100));
      const list = await s.call('GET', '/api/v1/artifacts/corp.ret');
      assert.deepEqual(list.body.items.map((a: { version: string }) => a.version), ['1.0.4', '1.0.3', '1.0.2', '1.0.0']);
    });

    test('never removes a version running somewhere, by retention or by hand', async () => {
      await mkNodes(s, 'corp.run');
      await put('corp.run', '0.9.0', randomBytes(100));
      running.set('corp.run', ['0.9.0']);
      for (const v of ['1.0.0', '1.1.0', '1.2.0', '1.3.0']) await put('corp.run', v, randomBytes(100));
      const list = await s.call('GET', '/api/v1/artifacts/corp.run');
      assert.deepEqual(list.body.items.map((a: { version: string }) => a.version), ['1.3.0', '1.2.0', '1.1.0', '0.9.0']);
      const del = await s.call('DELETE', '/api/v1/artifacts/corp.run/0.9.0');
      assert.equal(del.status, 409);
      assert.match(del.body.detail, /running/);
      running.delete('corp.run');
      const pruned = await s.call('POST', '/api/v1/artifacts/corp.run/prune');
      assert.deepEqual(pruned.body.removed, ['corp.run@0.9.0']);
    });

    test('reading needs artifact.read and pushing artifact.write on the node; others see no node', async () => {
      await mkNodes(s, 'corp.acl.api');
      await put('corp.acl.api', '1.0.0', randomBytes(100));
      for (const [user, role] of [['art-viewer', 'viewer'], ['art-dev', 'developer']] as const) {
        assert.equal((await s.call('POST', '/api/v1/users', { username: user, password: `pw-of-${user}` })).status, 201);
        assert.equal((await s.call('POST', '/api/v1/grants', { user, role, nodePath: 'corp.acl' })).status, 201);
      }
      assert.equal((await s.call('POST', '/api/v1/users', { username: 'art-none', password: 'pw-of-art-none' })).status, 201);
      const viewer = await s.login('art-viewer', 'pw-of-art-viewer');
      const dev = await s.login('art-dev', 'pw-of-art-dev');
      const none = await s.login('art-none', 'pw-of-art-none');
      assert.equal((await s.call('GET', '/api/v1/artifacts/corp.acl.api', undefined, { token: viewer })).status, 200);
      assert.equal((await s.call('GET', '/api/v1/artifacts/corp.acl.api/1.0.0/meta', undefined, { token: viewer })).status, 200);
      assert.equal((await put('corp.acl.api', '1.0.1', randomBytes(10), '', viewer)).statusCode, 403);
      assert.equal((await put('corp.acl.api', '1.0.1', randomBytes(10), '', dev)).statusCode, 201);
      assert.equal((await s.call('GET', '/api/v1/artifacts/corp.acl.api', undefined, { token: none })).status, 404);
      assert.equal((await put('corp.acl.api', '1.0.2', randomBytes(10), '', none)).statusCode, 404);
    });

    test('put() streams from any readable in-process, as builds call it', async () => {
      await mkNodes(s, 'corp.inproc');
      const chunks = [randomBytes(1000), randomBytes(2000)];
      const v = await s.services.artifacts.put(SYSTEM_ACTOR, { nodePath: 'corp.inproc', version: '3.1.0', body: Readable.from(chunks), buildId: 12 });
      assert.equal(v.sha256, sha(Buffer.concat(chunks)));
      assert.equal((await s.services.artifacts.get('corp.inproc', '3.1.0')).buildId, 12);
    });
  });
}

test('spool files a crash left behind are removed once old, fresh ones (uploads under way) stay', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'canopy-spool-'));
  try {
    await writeFile(join(dir, 'old.part'), 'x');
    await writeFile(join(dir, 'new.part'), 'x');
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    await utimes(join(dir, 'old.part'), twoDaysAgo, twoDaysAgo);
    assert.equal(await cleanSpool(dir, 86_400_000), 1);
    assert.deepEqual(await readdir(dir), ['new.part']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
