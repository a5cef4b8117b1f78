/**
 * Unreachable agents on every replica and across a restart. The dispatcher's part (noticing the
 * silence) is covered with real agents in packages/agent/src/agent-views.test.ts; here the test
 * records the state change as the dispatcher does — the row and the `agent.status` event in one
 * write — and checks what discovery answers on this replica, on another one, and on one started
 * afterwards from the database alone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { AGENT_STATUS_TOPIC } from '../agents/index.ts';
import { createServices, type Services } from '../services.ts';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { mkInstance, mkService } from './fixtures.test-util.ts';

const SYSTEM = { kind: 'system' as const, id: null, name: 'test', superuser: true };

for (const backend of testBackends()) {
  describe(`instances of machines whose agent is unreachable (${backend.name})`, () => {
    let s: TestServer;
    const others: Services[] = [];
    before(async () => {
      s = await startTestServer(backend);
    });
    after(async () => {
      for (const o of others) await o.stop();
      await s.close();
    });

    const serving = (svc: Services, path: string) => svc.discovery.resolve(path, { healthyOnly: false })!.instances.filter((i) => i.serving).map((i) => i.hostname);
    async function agentState(hostname: string, state: 'connected' | 'unreachable'): Promise<void> {
      const id = s.services.machines.model.byHostname(hostname)!.id;
      await s.services.writer.run(SYSTEM, async (w) => {
        await w.tx.execute(sql`INSERT INTO agent_status (machine_id, state) VALUES (${id}, ${state})
          ON CONFLICT (machine_id) DO UPDATE SET state = EXCLUDED.state, changed_at = now()`);
        w.emit(AGENT_STATUS_TOPIC, { machineIds: [id], state });
      });
    }

    test('they leave the serving set on this replica and another, keep their own health, and come back with the agent', async () => {
      await mkService(s, 'ah.web');
      await mkInstance(s, 'ah.web', 'ah-a.example', '10.61.0.1');
      await mkInstance(s, 'ah.web', 'ah-b.example', '10.61.0.2');
      const other = createServices(s.database);
      others.push(other);
      await other.start();

      await agentState('ah-a.example', 'unreachable');
      await other.feed.catchUp();
      for (const svc of [s.services, other]) assert.deepEqual(serving(svc, 'ah.web'), ['ah-b.example']);
      const a = s.services.discovery.resolve('ah.web', { healthyOnly: false })!.instances.find((i) => i.hostname === 'ah-a.example')!;
      assert.deepEqual([a.health, a.agentUnreachable], ['critical', true]);
      assert.deepEqual(s.services.discovery.resolve('ah.web')!.instances.map((i) => i.hostname), ['ah-b.example'], 'healthy answers (DNS, SDK) skip it');
      const stored = await s.call('GET', '/api/v1/services/ah.web/instances/ah-a.example/8080');
      assert.equal(stored.status, 200);

      await agentState('ah-a.example', 'connected');
      await other.feed.catchUp();
      for (const svc of [s.services, other]) assert.deepEqual(serving(svc, 'ah.web'), ['ah-a.example', 'ah-b.example']);
      assert.equal(s.services.discovery.resolve('ah.web', { healthyOnly: false })!.instances.find((i) => i.hostname === 'ah-a.example')!.health, 'passing');
    });

    test('a replica started while an agent is unreachable reads it from the database', async () => {
      await mkService(s, 'ah.api');
      await mkInstance(s, 'ah.api', 'ah-c.example', '10.61.0.3');
      await mkInstance(s, 'ah.api', 'ah-d.example', '10.61.0.4');
      await agentState('ah-c.example', 'unreachable');
      const late = createServices(s.database);
      others.push(late);
      await late.start();
      assert.deepEqual(serving(late, 'ah.api'), ['ah-d.example']);
      await agentState('ah-c.example', 'connected');
      await late.feed.catchUp();
      assert.deepEqual(serving(late, 'ah.api'), ['ah-c.example', 'ah-d.example']);
    });

    test('a machine no agent ever reached is not affected', async () => {
      await mkService(s, 'ah.static');
      await mkInstance(s, 'ah.static', 'ah-e.example', '10.61.0.5');
      assert.deepEqual(serving(s.services, 'ah.static'), ['ah-e.example']);
    });
  });
}
