/**
 * A batch larger than one step goes out in steps that read only the next pending hosts: every host
 * gets exactly one task, a parallelism below the batch still bounds the tasks out, and a pause
 * between steps stops the dispatch.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { rows } from '../db/connection.ts';
import { mkNodes, startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { MAX_DISPATCH_PER_STEP } from './plan.ts';

const HOSTS = MAX_DISPATCH_PER_STEP * 2 + 300;

for (const backend of testBackends()) {
  describe(`job dispatch in steps (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
      await mkNodes(s, 'steps.many');
      const machines = Array.from({ length: HOSTS }, (_, i) => ({ hostname: `h${String(i).padStart(5, '0')}.steps.example`, nodes: ['steps.many'], status: 'online' }));
      const r = await s.call('POST', '/api/v1/machines/import', machines);
      assert.equal(r.body.created, HOSTS, JSON.stringify(r.body).slice(0, 300));
    });
    after(() => s.close());

    const tasksOf = async (jobId: number) =>
      (await rows<{ n: number; machines: number }>(s.database.db, sql`SELECT count(*)::int AS n, count(DISTINCT machine_id)::int AS machines
        FROM tasks WHERE owner_kind = 'job' AND owner_id = ${jobId}`))[0]!;
    const until = async (what: string, check: () => Promise<boolean>) => {
      for (let i = 0; i < 2000 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(await check(), `timed out waiting for ${what}`);
    };

    test('every host of a large batch gets exactly one task', async () => {
      const r = await s.call('POST', '/api/v1/jobs', { target: { under: 'steps.many' }, command: ['true'], batch: { size: '100%' } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      await until('all tasks out', async () => (await tasksOf(r.body.id)).n >= HOSTS);
      assert.deepEqual(await tasksOf(r.body.id), { n: HOSTS, machines: HOSTS });
      await s.call('POST', `/api/v1/jobs/${r.body.id}/stop`);
    });

    test('a parallelism below the batch bounds the tasks out across steps', async () => {
      const parallelism = MAX_DISPATCH_PER_STEP + 200;
      const r = await s.call('POST', '/api/v1/jobs', { target: { under: 'steps.many' }, command: ['true'], batch: { size: '100%', parallelism } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      await until('the parallelism filled', async () => (await tasksOf(r.body.id)).n >= parallelism);
      // No agent answers: nothing frees a slot, so a later step would only be one too many.
      await new Promise((res) => setTimeout(res, 300));
      assert.equal((await tasksOf(r.body.id)).n, parallelism);
      await s.call('POST', `/api/v1/jobs/${r.body.id}/stop`);
    });
  });
}
