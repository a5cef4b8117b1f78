/**
 * Cron with the control center gone: it is killed with -9 (a separate process, PGlite in a data
 * dir), the agent on its test host keeps running the entry, is itself killed and restarted with no
 * control center (the table comes from its state dir), and once the control center is back every
 * run made meanwhile is reported — each exactly once (the command records its run id in a file).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canMakeTestHosts, createTestHosts, type TestHosts } from '@canopy/server/testing';
import { enrollHosts, startAgent, startControlCenter, until, type ControlCenterProcess, type RunningAgent } from '../testing.ts';

const noHosts = canMakeTestHosts();

describe('cron while the control center is away', { skip: noHosts && `test hosts unavailable: ${noHosts}` }, () => {
  let hosts: TestHosts;
  let cc: ControlCenterProcess;
  let agent: RunningAgent;
  const markers = mkdtempSync(join(tmpdir(), 'canopy-cron-outage-'));
  const marker = join(markers, 'ran');

  before(async () => {
    hosts = createTestHosts(1, 'cron-outage');
    cc = await startControlCenter({ host: hosts.gateway });
    const h = hosts.hosts[0]!;
    const creds = await enrollHosts(cc, hosts.hosts);
    agent = startAgent(h, cc.url, creds.get(h.hostname)!.token);
    await until('the agent connected', async () => (await cc.call('GET', '/api/v1/agents')).body.items.some((a: { hostname: string; state: string }) => a.hostname === h.hostname && a.state === 'connected'), 120_000);
    for (const [parentPath, name] of [[null, 'co'], ['co', 'svc']] as const) assert.equal((await cc.call('POST', '/api/v1/nodes', { parentPath, name })).status, 201);
    assert.ok((await cc.call('PUT', `/api/v1/nodes/co.svc/machines/${h.hostname}`)).status < 300);
  });
  after(async () => {
    await agent?.stop();
    await cc?.stop();
    hosts?.close();
    rmSync(markers, { recursive: true, force: true });
  });

  const ran = (): string[] => (existsSync(marker) ? readFileSync(marker, 'utf8').split('\n').filter(Boolean) : []);
  const runs = async (): Promise<{ id: string; state: string }[]> => (await cc.call('GET', '/api/v1/nodes/co/cron/mark/runs?limit=200')).body.items;
  const journal = () => join(agent.stateDir, 'cron', 'journal');

  test('runs continue without the control center, across an agent restart, and are reported once when it is back', async () => {
    const put = await cc.call('PUT', '/api/v1/nodes/co/cron/mark', { schedule: '* * * * * *', script: `echo "$CANOPY_CRON_RUN_ID" >> ${marker}\necho marked\n` });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    await until('a run reported', async () => (await runs()).some((r) => r.state === 'succeeded'));

    await cc.kill9();
    const atStop = ran().length;
    await until('runs made with no control center', () => ran().length >= atStop + 3);
    // An agent started afresh while the control center is still away runs the table it kept.
    await agent.kill9();
    agent.restart();
    const atRestart = ran().length;
    await until('runs made by the restarted agent', () => ran().length >= atRestart + 3).catch((err: Error) => {
      throw new Error(`${err.message}\n${agent.log.slice(-20).join('\n')}`);
    });
    assert.ok(readdirSync(journal()).length >= 3, 'the runs wait in the journal');

    await cc.restart();
    await until('every run made meanwhile reported', async () => {
      const ids = new Set((await runs()).map((r) => r.id));
      return ran().every((id) => ids.has(id));
    }, 120_000);
    assert.equal((await cc.call('DELETE', '/api/v1/nodes/co/cron/mark')).status, 204);
    await until('the journal drained and nothing in flight', async () => readdirSync(journal()).filter((f) => f.endsWith('.json')).length === 0 && (await runs()).every((r) => r.state !== 'running'), 60_000);

    const reported = (await runs()).filter((r) => r.state !== 'skipped');
    const made = ran();
    assert.equal(new Set(made).size, made.length, 'each run ran once');
    const ids = reported.map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length, 'no run reported twice');
    const byId = new Map(reported.map((r) => [r.id, r]));
    assert.deepEqual(made.filter((id) => byId.get(id)?.state !== 'succeeded'), [], 'every run made is reported, succeeded');
    // The one other row there may be: the agent killed between journaling a run and spawning it.
    assert.deepEqual(reported.filter((r) => !made.includes(r.id) && r.state !== 'lost'), []);
  });
});
