/**
 * Alert rules on nodes against the real metrics store (`monitor.push`, as the dispatcher calls it
 * for an agent's push) and a loopback webhook receiver: inheritance and override, notifications
 * grouped per node and rule, recovery, silences, acknowledgement, machine down from heartbeats.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { AGENT_STATUS_TOPIC } from '../agents/index.ts';
import { createServices } from '../services.ts';
import { createNodes, startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { startReceiver, until, type Receiver } from './receiver.test-util.ts';

const SYSTEM = { kind: 'system' as const, id: null, name: 'test', superuser: true };
const disk = (threshold: number, extra: Record<string, unknown> = {}) => ({ conditions: [{ metric: 'disk_used_percent', fn: 'all(#1)', op: '>', threshold }], severity: 'critical', summary: 'disk {{value}} %', receivers: ['ops'], ...extra });

for (const backend of testBackends()) {
  describe(`alert rules on nodes (${backend.name})`, () => {
    let s: TestServer;
    let hook: Receiver;
    const gens = new Map<number, number>();
    let last = 0;
    before(async () => {
      hook = await startReceiver();
      s = await startTestServer(backend, { monitor: { flushSeconds: 3600 }, alerts: { tickMs: 3_600_000, groupWindowMs: 50 } });
    });
    after(async () => {
      await s.close();
      await hook.close();
    });

    async function machines(node: string, ...hostnames: string[]): Promise<number[]> {
      const ids: number[] = [];
      for (const hostname of hostnames) {
        const r = await s.call('POST', '/api/v1/machines', { hostname, status: 'online', nodes: [node] });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        ids.push(r.body.id as number);
      }
      return ids;
    }
    /** One collection of gauges from a machine, as its agent pushes it. */
    async function push(id: number, values: Record<string, number>): Promise<void> {
      const gen = (gens.get(id) ?? 0) + 1;
      gens.set(id, gen);
      last = Math.max(Date.now() - 1000, last + 1);
      await s.services.monitor.push(id, { gen, defs: Object.keys(values), samples: [{ at: last, v: Object.values(values) }] });
      await s.services.alerts.evaluator.evaluate([id]);
    }
    async function agents(ids: number[], state: 'connected' | 'unreachable'): Promise<void> {
      await s.services.writer.run(SYSTEM, async (w) => {
        for (const id of ids) await w.tx.execute(sql`INSERT INTO agent_status (machine_id, state) VALUES (${id}, ${state}) ON CONFLICT (machine_id) DO UPDATE SET state = EXCLUDED.state, changed_at = now()`);
        w.emit(AGENT_STATUS_TOPIC, { machineIds: ids, state });
      });
      await s.services.alerts.evaluator.evaluate(ids);
    }
    const active = async (under: string) => (await s.call('GET', `/api/v1/monitor/alerts?under=${under}`)).body.items as { id: number; rule: string; origin: string; node: string; machine: string; labels: Record<string, string>; state: string; silenced: boolean; ackedBy: string | null; notifications: number }[];
    const receiver = (node: string, name: string, format: string, path: string, extra: Record<string, unknown> = {}) => s.call('PUT', `/api/v1/nodes/${node}/alert-receivers/${name}`, { format, url: `${hook.url}${path}`, ...extra });

    test('the console sees effective rules with their origin: a child overrides by name, and can disable one', async () => {
      await createNodes(s, 'ef', 'ef.db', 'ef.batch');
      assert.equal((await s.call('PUT', '/api/v1/nodes/ef/alert-rules/disk', disk(90))).status, 200);
      assert.equal((await s.call('PUT', '/api/v1/nodes/ef/alert-rules/load', { conditions: [{ metric: 'node_load1', fn: 'avg(#3)', op: '>', threshold: 8 }] })).status, 200);
      const put = await s.call('PUT', '/api/v1/nodes/ef.db/alert-rules/disk', disk(95));
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.deepEqual(put.body.effective.map((e: { name: string; origin: string; inherited: boolean; overrides: string[]; conditions: { threshold: number }[] }) => [e.name, e.origin, e.inherited, e.overrides, e.conditions[0]!.threshold]), [
        ['disk', 'ef.db', false, ['ef'], 95],
        ['load', 'ef', true, [], 8],
      ]);
      assert.equal((await s.call('PUT', '/api/v1/nodes/ef.batch/alert-rules/load', { disabled: true })).status, 200);
      const batch = (await s.call('GET', '/api/v1/nodes/ef.batch/alert-rules')).body;
      assert.deepEqual(batch.effective.map((e: { name: string; origin: string; disabled: boolean }) => [e.name, e.origin, e.disabled]), [['disk', 'ef', false], ['load', 'ef.batch', true]]);
      const nothing = await s.call('PUT', '/api/v1/nodes/ef/alert-rules/nope', { disabled: true });
      assert.equal(nothing.status, 400, 'nothing inherited to disable');
      const audit = (await s.call('GET', '/api/v1/audit?operation=alert.rule.set&limit=100')).body.items as { target: string }[];
      assert.ok(audit.some((e) => e.target === 'ef.db/disk'));
    });

    test('bad input is a 400 naming the field and changes nothing; unknown nodes are 404', async () => {
      await createNodes(s, 'bad');
      const cases: [string, unknown, RegExp][] = [
        ['/api/v1/nodes/bad/alert-rules/r', { conditions: [{ metric: 'm', fn: 'avg(#0)', op: '>', threshold: 1 }] }, /#n must be/],
        ['/api/v1/nodes/bad/alert-rules/r', { conditions: [{ metric: 'm', fn: 'all(#1)', op: '>', threshold: 'x' }] }, /threshold/],
        ['/api/v1/nodes/bad/alert-rules/R!', disk(1), /name/],
        ['/api/v1/nodes/bad/alert-rules/r', { ...disk(1), shell: 'rm -rf /' }, /shell|unrecognized/i],
        ['/api/v1/nodes/bad/alert-receivers/x', { format: 'telegram', url: 'http://127.0.0.1/' }, /format/],
        ['/api/v1/nodes/bad/alert-receivers/x', { format: 'slack', url: 'file:///etc/passwd' }, /url/i],
        ['/api/v1/nodes/bad/alert-receivers/x', { format: 'slack', url: 'http://127.0.0.1/', template: '{{rm}}' }, /unknown template variable/],
      ];
      for (const [url, body, why] of cases) {
        const r = await s.call('PUT', url, body);
        assert.equal(r.status, 400, `${url} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
        assert.match(JSON.stringify(r.body), why);
      }
      assert.deepEqual((await s.call('GET', '/api/v1/nodes/bad/alert-rules')).body.own, []);
      assert.equal((await s.call('PUT', '/api/v1/nodes/bad.nowhere/alert-rules/r', disk(1))).status, 404);
      assert.equal((await s.call('POST', '/api/v1/monitor/silences', { node: 'bad', endsAt: new Date(Date.now() + 60_000).toISOString() })).status, 400, 'a silence needs a comment');
    });

    test('corp: disk > 90 and corp.db: disk > 95 never both judge a database machine; notices name origin and value, recovery too', async () => {
      await createNodes(s, 'ov', 'ov.web', 'ov.db');
      assert.equal((await receiver('ov', 'ops', 'json', '/ov')).status, 200);
      await s.call('PUT', '/api/v1/nodes/ov/alert-rules/disk', disk(90));
      await s.call('PUT', '/api/v1/nodes/ov.db/alert-rules/disk', disk(95));
      const [web, db] = await machines('ov.web', 'ov-web-1.example');
      const [dbm] = await machines('ov.db', 'ov-db-1.example');
      void db;
      await push(web!, { 'disk_used_percent{mountpoint="/"}': 93, 'disk_used_percent{mountpoint="/data"}': 10 });
      await push(dbm!, { 'disk_used_percent{mountpoint="/"}': 93 });
      let alerts = await active('ov');
      assert.deepEqual(alerts.map((a) => [a.machine, a.origin, a.node, a.labels, a.state]), [['ov-web-1.example', 'ov', 'ov.web', { mountpoint: '/' }, 'firing']]);
      await until('the firing notice', () => hook.at('/ov').length === 1);
      const n = hook.at('/ov')[0]!.body;
      assert.deepEqual([n['kind'], n['rule'], n['origin'], n['node'], n['count']], ['firing', 'disk', 'ov', 'ov.web', 1]);
      assert.match(String(n['text']), /disk 93 %/);

      await push(dbm!, { 'disk_used_percent{mountpoint="/"}': 97 });
      alerts = await active('ov.db');
      assert.deepEqual(alerts.map((a) => [a.machine, a.origin]), [['ov-db-1.example', 'ov.db']]);

      await push(web!, { 'disk_used_percent{mountpoint="/"}': 50, 'disk_used_percent{mountpoint="/data"}': 10 });
      assert.deepEqual((await active('ov.web')).length, 0);
      await until('the recovery notice', () => hook.at('/ov').some((r) => r.body['kind'] === 'resolved'));
      const history = (await s.call('GET', '/api/v1/monitor/alerts?under=ov&state=all')).body.items as { machine: string; state: string }[];
      assert.deepEqual(history.map((h) => [h.machine, h.state]), [['ov-db-1.example', 'firing'], ['ov-web-1.example', 'resolved']]);
    });

    test('forty machines whose agents go silent are one message naming forty, from heartbeats, not missing data', async () => {
      await createNodes(s, 'rk', 'rk.rack1');
      assert.equal((await receiver('rk', 'ops', 'wecom', '/rack')).status, 200);
      const r = await s.call('PUT', '/api/v1/nodes/rk/alert-rules/agent-down', { conditions: [{ metric: 'canopy_agent_up', fn: 'all(#1)', op: '==', threshold: 0 }], severity: 'critical', receivers: ['ops'] });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const hosts = Array.from({ length: 40 }, (_, i) => `rk-${String(i).padStart(2, '0')}.example`);
      const ids = await machines('rk.rack1', ...hosts);
      await agents(ids, 'connected');
      assert.equal((await active('rk')).length, 0, 'connected agents with no metrics at all are not down');
      await agents(ids, 'unreachable');
      assert.equal((await active('rk')).length, 40);
      await until('the grouped notice', () => hook.at('/rack').length >= 1);
      await s.services.alerts.notifier.flush();
      assert.equal(hook.at('/rack').length, 1, 'one message for the rack');
      const content = (hook.at('/rack')[0]!.body['markdown'] as { content: string }).content;
      assert.match(content, /critical agent-down on rk\.rack1: 40 machine\(s\)/);
      for (const h of hosts) assert.ok(content.includes(h), h);

      await agents(ids, 'connected');
      assert.equal((await active('rk')).length, 0);
      await until('one recovery message', () => hook.at('/rack').length === 2);
      assert.match((hook.at('/rack')[1]!.body['markdown'] as { content: string }).content, /RESOLVED/);
    });

    test('a silence mutes matching alerts (node, rule, machine, labels); acknowledged alerts get no repeat', async () => {
      await createNodes(s, 'sl');
      await receiver('sl', 'ops', 'slack', '/sl');
      await s.call('PUT', '/api/v1/nodes/sl/alert-rules/disk', disk(90, { repeatIntervalSeconds: 10 }));
      const [a, b] = await machines('sl', 'sl-a.example', 'sl-b.example');
      const sil = await s.call('POST', '/api/v1/monitor/silences', { node: 'sl', rule: 'disk', machine: 'sl-a.example', match: { mountpoint: '/' }, endsAt: new Date(Date.now() + 3_600_000).toISOString(), comment: 'disk swap tonight' });
      assert.equal(sil.status, 201, JSON.stringify(sil.body));
      await push(a!, { 'disk_used_percent{mountpoint="/"}': 99 });
      await push(b!, { 'disk_used_percent{mountpoint="/"}': 99 });
      const alerts = await active('sl');
      assert.deepEqual(alerts.map((x) => [x.machine, x.silenced]).sort(), [['sl-a.example', true], ['sl-b.example', false]]);
      await until('b is told', () => hook.at('/sl').length === 1);
      await s.services.alerts.notifier.flush();
      assert.doesNotMatch(String(hook.at('/sl')[0]!.body['text']), /sl-a/, 'the silenced machine is not named');

      const bAlert = alerts.find((x) => x.machine === 'sl-b.example')!;
      const ack = await s.call('POST', `/api/v1/monitor/alerts/${bAlert.id}/ack`, { comment: 'on it' });
      assert.equal(ack.status, 200, JSON.stringify(ack.body));
      assert.equal(ack.body.ackedBy, 'admin');
      // Make the repeat interval due, then evaluate: an acknowledged alert is not told again.
      await s.services.database.db.execute(sql`UPDATE alerts SET last_notified_at = now() - interval '1 hour' WHERE id = ${bAlert.id}`);
      await s.services.alerts.load();
      await push(b!, { 'disk_used_percent{mountpoint="/"}': 99 });
      await s.services.alerts.notifier.flush();
      assert.equal(hook.at('/sl').length, 1);
      assert.equal((await s.call('POST', '/api/v1/monitor/alerts/999999/ack', {})).status, 404);
      assert.equal((await s.call('DELETE', `/api/v1/monitor/silences/${sil.body.id}`)).status, 204);
      assert.deepEqual((await s.call('GET', '/api/v1/monitor/silences?under=sl')).body.items, []);
    });

    test('an unacknowledged alert escalates once to the escalation receiver', async () => {
      await createNodes(s, 'es');
      await receiver('es', 'ops', 'json', '/es-ops');
      await receiver('es', 'boss', 'feishu', '/es-boss', { secret: 'feishu-secret' });
      await s.call('PUT', '/api/v1/nodes/es/alert-rules/disk', disk(90, { escalation: { afterMinutes: 5, receivers: ['boss'] } }));
      const [m] = await machines('es', 'es-1.example');
      await push(m!, { 'disk_used_percent{mountpoint="/"}': 99 });
      await until('ops told', () => hook.at('/es-ops').length === 1);
      const [alert] = await active('es');
      await s.services.database.db.execute(sql`UPDATE alerts SET fired_at = now() - interval '6 minutes' WHERE id = ${alert!.id}`);
      await s.services.alerts.load();
      await s.services.alerts.evaluator.stop();
      await s.services.alerts.evaluator.start();
      await push(m!, { 'disk_used_percent{mountpoint="/"}': 99 });
      await until('boss told', () => hook.at('/es-boss').length === 1);
      const body = hook.at('/es-boss')[0]!.body;
      assert.equal(body['msg_type'], 'text');
      assert.match(String((body['content'] as { text: string }).text), /ESCALATED/);
      assert.equal(typeof body['sign'], 'string', 'signed with the Feishu secret');
      await push(m!, { 'disk_used_percent{mountpoint="/"}': 99 });
      await s.services.alerts.notifier.flush();
      assert.equal(hook.at('/es-boss').length, 1, 'once');
      const receivers = (await s.call('GET', '/api/v1/nodes/es/alert-receivers')).body.own as { name: string; hasSecret: boolean; secret?: string }[];
      assert.deepEqual(receivers.map((r) => [r.name, r.hasSecret, r.secret]), [['boss', true, undefined], ['ops', false, undefined]]);
    });

    test('only the replica holding the lease evaluates; when it stops, another takes over the live alerts', async () => {
      await createNodes(s, 'ld');
      await receiver('ld', 'ops', 'json', '/ld');
      await s.call('PUT', '/api/v1/nodes/ld/alert-rules/disk', disk(90));
      const other = createServices(s.database, { alerts: { tickMs: 3_600_000, groupWindowMs: 50 } });
      await other.start();
      try {
        assert.deepEqual([s.services.alerts.evaluator.isLeader(), other.alerts.evaluator.isLeader()], [true, false]);
        const [m] = await machines('ld', 'ld-1.example');
        await push(m!, { 'disk_used_percent{mountpoint="/"}': 99 });
        await other.feed.catchUp();
        await other.alerts.evaluator.evaluate();
        await until('told once', () => hook.at('/ld').length === 1);
        assert.equal(other.alerts.service.active(other.tree.model.byPath('ld')!).length, 1, 'the other replica sees the alert too');

        await s.services.alerts.evaluator.stop();
        await until('the other replica takes the lease', () => other.alerts.evaluator.isLeader());
        await other.monitor.push(m!, { gen: 1, defs: ['disk_used_percent{mountpoint="/"}'], samples: [{ at: Date.now() - 500, v: [10] }] });
        await other.alerts.evaluator.evaluate([m!]);
        await until('the recovery, told by the new leader', () => hook.at('/ld').some((r) => r.body['kind'] === 'resolved'));
        await other.alerts.notifier.flush();
        assert.equal(hook.at('/ld').filter((r) => r.body['kind'] === 'firing').length, 1, 'the new leader did not fire it again');
      } finally {
        await other.stop();
        await s.services.alerts.evaluator.start();
      }
    });

    test('the alert routes are in the OpenAPI document', async () => {
      const doc = await s.call('GET', '/api/v1/openapi.json');
      assert.equal(doc.status, 200);
      for (const p of ['/api/v1/nodes/{path}/alert-rules/{name}', '/api/v1/monitor/alerts', '/api/v1/monitor/silences', '/api/v1/monitor/alertmanager', '/api/v1/monitor/prometheus/rules']) assert.ok(doc.body.paths[p], p);
    });

    test('a viewer may read alerts and rules but not change, silence or acknowledge', async () => {
      await createNodes(s, 'vw');
      await s.call('PUT', '/api/v1/nodes/vw/alert-rules/disk', disk(90));
      assert.equal((await s.call('POST', '/api/v1/users', { username: 'al-viewer', password: 'password-123' })).status, 201);
      assert.equal((await s.call('POST', '/api/v1/grants', { user: 'al-viewer', role: 'viewer', nodePath: 'vw' })).status, 201);
      const token = await s.login('al-viewer', 'password-123');
      assert.equal((await s.call('GET', '/api/v1/nodes/vw/alert-rules', undefined, { token })).status, 200);
      assert.equal((await s.call('GET', '/api/v1/monitor/alerts?under=vw', undefined, { token })).status, 200);
      assert.equal((await s.call('PUT', '/api/v1/nodes/vw/alert-rules/disk', disk(1), { token })).status, 403);
      assert.equal((await s.call('POST', '/api/v1/monitor/silences', { node: 'vw', endsAt: new Date(Date.now() + 60_000).toISOString(), comment: 'x' }, { token })).status, 403);
      assert.equal((await s.call('GET', '/api/v1/nodes/ov/alert-rules', undefined, { token })).status, 404, 'a node it cannot see');
    });
  });
}
