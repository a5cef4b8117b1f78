import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { ExecSpec, TaskState } from '@canopy/core';
import { rows } from '../db/connection.ts';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import * as repo from './tasks-repo.ts';

const SYSTEM = { kind: 'system' as const, id: null, name: 'test', superuser: true };

for (const backend of testBackends()) {
  describe(`orphaning the tasks of an agent that stayed away (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      // The dispatcher's own sweep (once a heartbeat period) stays out of the way: the test sweeps.
      s = await startTestServer(backend, { agents: { heartbeatMs: 3_600_000 } });
    });
    after(() => s.close());

    /** A machine whose agent went unreachable `secondsAgo`, holding an exec task and a reboot task. */
    async function awayFor(hostname: string, secondsAgo: number): Promise<{ machineId: number; exec: string; reboot: string }> {
      const m = await s.call('POST', '/api/v1/machines', { hostname, status: 'online' });
      assert.equal(m.status, 201);
      const machineId = m.body.id as number;
      const [exec, reboot] = await s.services.writer.run(SYSTEM, (w) =>
        s.services.dispatcher.createTasks(w, [
          { machineId, kind: 'exec', spec: ExecSpec.parse({ argv: ['true'] }) },
          { machineId, kind: 'reboot', spec: { delaySeconds: 1, reason: '' } },
        ]),
      );
      await s.database.db.execute(sql`INSERT INTO agent_status (machine_id, state, changed_at) VALUES (${machineId}, 'unreachable', now() - ${secondsAgo} * interval '1 second')`);
      return { machineId, exec: exec!, reboot: reboot! };
    }
    const stateOf = async (id: string) => (await rows<{ state: number }>(s.database.db, sql`SELECT state FROM tasks WHERE id = ${id}`))[0]!.state;
    const sweep = async (grace: number, rebootGrace: number) => {
      const ids = await repo.orphanCandidates(s.database.db, grace, rebootGrace);
      return s.services.writer.run(SYSTEM, (w) => repo.orphanTasks(w.tx, ids, rebootGrace));
    };

    test('past the grace an exec task is ORPHANED, while a reboot task waits for the longer reboot grace', async () => {
      const t = await awayFor('orphan-a.example', 120);
      const out = await sweep(60, 900);
      assert.deepEqual(out.filter((x) => x.machineId === t.machineId).map((x) => x.id), [t.exec]);
      assert.equal(await stateOf(t.exec), TaskState.ORPHANED);
      assert.equal(await stateOf(t.reboot), TaskState.NEW, 'the machine may still be booting');
    });

    test('past the reboot grace the reboot task is ORPHANED too', async () => {
      const t = await awayFor('orphan-b.example', 1000);
      await sweep(60, 900);
      assert.equal(await stateOf(t.exec), TaskState.ORPHANED);
      assert.equal(await stateOf(t.reboot), TaskState.ORPHANED);
    });

    test('within the grace nothing is orphaned', async () => {
      const t = await awayFor('orphan-c.example', 10);
      await sweep(60, 900);
      assert.equal(await stateOf(t.exec), TaskState.NEW);
      assert.equal(await stateOf(t.reboot), TaskState.NEW);
    });
  });
}
