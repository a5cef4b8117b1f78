/**
 * The repository over a real S3-compatible server (s3rver, on loopback): blobs by sha256 in the
 * bucket, shared by identical content, deleted with their last version; and two replicas over one
 * PostgreSQL and one bucket serving the same artifacts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { sql } from 'drizzle-orm';
import { mkNodes, startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { openDatabase, type Database } from '../db/connection.ts';
import { createServices, type Services } from '../services.ts';
import { buildApp } from '../http/app.ts';
import type { ArtifactOptions } from './config.ts';

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverClass = new (opts: object) => S3rverInstance;

function loadS3rver(): S3rverClass | undefined {
  try {
    return createRequire(import.meta.url)('s3rver') as S3rverClass;
  } catch {
    return undefined;
  }
}

const S3rver = loadS3rver();
const BUCKET = 'canopy-artifacts';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
if (!S3rver) console.warn('SKIPPED: s3rver is not installed (npm install: it is a devDependency of @canopy/server)');

describe('artifacts in an S3-compatible bucket', { skip: S3rver ? false : 's3rver not installed' }, () => {
  let s3: S3rverInstance;
  let work: string;
  let endpoint: string;
  let client: S3Client;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'canopy-s3-'));
    s3 = new S3rver!({ address: '127.0.0.1', port: 0, silent: true, directory: join(work, 's3'), configureBuckets: [{ name: BUCKET }] });
    const addr = await s3.run();
    endpoint = `http://127.0.0.1:${addr.port}`;
    client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  });
  after(async () => {
    client?.destroy();
    await s3?.close();
    await rm(work, { recursive: true, force: true });
  });

  const options = (prefix: string, spool: string): ArtifactOptions => ({
    dir: spool,
    maxBytes: 16 * 1024 * 1024,
    retention: { keepLast: 10, keepDeployedDays: 30 },
    sweepMinutes: 0,
    s3: { bucket: BUCKET, endpoint, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', prefix, forcePathStyle: true },
  });
  const keys = async (prefix: string) => {
    const out = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
    return (out.Contents ?? []).map((o) => o.Key!.slice(prefix.length)).sort();
  };
  const put = (app: FastifyInstance, token: string, path: string, body: Buffer, query = '') =>
    app.inject({ method: 'PUT', url: `/api/v1/artifacts/${path}${query}`, payload: body, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' } });
  const get = (app: FastifyInstance, token: string, path: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url: `/api/v1/artifacts/${path}`, headers: { authorization: `Bearer ${token}`, ...headers } });

  for (const backend of testBackends()) {
    describe(backend.name, () => {
      let s: TestServer;
      const prefix = `${backend.name}/`;
      before(async () => {
        s = await startTestServer(backend, { artifacts: options(prefix, join(work, `spool-${backend.name}`)) });
      });
      after(() => s.close());

      test('stores blobs in the bucket by sha256, once per content, and serves ranges from it', async () => {
        await mkNodes(s, 'corp.s3.api');
        const body = randomBytes(300_000);
        assert.equal((await put(s.app, s.adminToken, 'corp.s3.api/1.0.0', body, `?sha256=${sha(body)}`)).statusCode, 201);
        assert.equal((await put(s.app, s.adminToken, 'corp.s3.api/1.0.1', body)).statusCode, 201);
        assert.deepEqual(await keys(prefix), [`blobs/${sha(body)}`]);
        const all = await get(s.app, s.adminToken, 'corp.s3.api/1.0.0');
        assert.ok(all.rawPayload.equals(body));
        const part = await get(s.app, s.adminToken, 'corp.s3.api/1.0.1', { range: 'bytes=1000-1999' });
        assert.equal(part.statusCode, 206);
        assert.ok(part.rawPayload.equals(body.subarray(1000, 2000)));
        await s.call('DELETE', '/api/v1/artifacts/corp.s3.api/1.0.0');
        assert.deepEqual(await keys(prefix), [`blobs/${sha(body)}`], 'still named by 1.0.1');
        await s.call('DELETE', '/api/v1/artifacts/corp.s3.api/1.0.1');
        assert.deepEqual(await keys(prefix), []);
      });

      test('a body that does not match its digest never reaches the bucket', async () => {
        await mkNodes(s, 'corp.s3.bad');
        const r = await put(s.app, s.adminToken, 'corp.s3.bad/1.0.0', randomBytes(1000), `?sha256=${'1'.repeat(64)}`);
        assert.equal(r.statusCode, 400);
        assert.deepEqual(await keys(prefix), []);
      });
    });
  }

  const pgUrl = process.env['CANOPY_TEST_DATABASE_URL'];
  describe('two replicas over one PostgreSQL and one bucket', { skip: pgUrl ? false : 'set CANOPY_TEST_DATABASE_URL: two replicas need one PostgreSQL' }, () => {
    let a: TestServer;
    let database: Database;
    let b: Services;
    let appB: FastifyInstance;
    before(async () => {
      const postgres = testBackends().find((x) => x.name === 'postgres')!;
      a = await startTestServer(postgres, { artifacts: options('replicas/', join(work, 'spool-a')) });
      // Before B starts, so B loads the node with its tree (the artifact rows it reads from SQL).
      await mkNodes(a, 'corp.rep.api');
      const r = (await a.database.db.execute(sql`SELECT current_database() AS name`)) as unknown as { rows: { name: string }[] };
      const url = new URL(pgUrl!);
      url.pathname = `/${r.rows[0]!.name}`;
      database = await openDatabase({ url: url.toString() });
      b = createServices(database, { artifacts: options('replicas/', join(work, 'spool-b')) });
      await b.start();
      appB = await buildApp(b, { logLevel: 'silent' });
    });
    after(async () => {
      await appB?.close();
      await b?.stop();
      await database?.close();
      await a?.close();
    });

    test('a version pushed through one replica is listed and served by the other', async () => {
      const body = randomBytes(500_000);
      assert.equal((await put(a.app, a.adminToken, 'corp.rep.api/2.0.0', body)).statusCode, 201);
      const list = await appB.inject({ method: 'GET', url: '/api/v1/artifacts/corp.rep.api', headers: { authorization: `Bearer ${a.adminToken}` } });
      assert.deepEqual(list.json().items.map((x: { ref: string }) => x.ref), ['corp.rep.api@2.0.0']);
      const fromB = await get(appB, a.adminToken, 'corp.rep.api/2.0.0');
      assert.equal(fromB.statusCode, 200);
      assert.ok(fromB.rawPayload.equals(body));
      // Immutability holds across replicas: B refuses other content under A's version.
      assert.equal((await put(appB, a.adminToken, 'corp.rep.api/2.0.0', randomBytes(10))).statusCode, 409);
    });
  });
});
