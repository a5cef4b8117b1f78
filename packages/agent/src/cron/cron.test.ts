/**
 * Cron on a real agent on a test host: a node's every-second entry runs on the machine below it
 * with its output reported; the overlap policies (skip, queue-one, allow) as the runs show them; a
 * table change (new command, disabled below, removed) reaches the agent; and an agent killed with
 * -9 mid-run adopts the run when it comes back instead of losing or repeating it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canMakeTestHosts, mkNodes, testBackends, type TestServer } from '@canopy/server/testing';
import { startFleet, until, type Fleet } from '../testing.ts';

const noHosts = canMakeTestHosts();
const [pglite] = testBackends();

interface Run { id: string; state: string; scheduledAt: string; startedAt: string | null; endedAt: string | null; exitCode: number | null; reason: string | null; lastLine: string; hostname: string }

describe('cron on a test host', { skip: noHosts && `test hosts unavailable: ${noHosts}` }, () => {
  let fleet: Fleet;
  let s: TestServer;
  let host: string;

  before(async () => {
    fleet = await startFleet({ backend: pglite!, count: 1, name: 'cron' });
    s = fleet.s;
    host = fleet.hosts.hosts[0]!.hostname;
    await mkNodes(s, 'cj.svc.leaf');
    assert.ok((await s.call('PUT', `/api/v1/nodes/cj.svc.leaf/machines/${host}`)).status < 300);
  });
  after(() => fleet?.close());

  const put = async (path: string, name: string, body: unknown) => {
    const r = await s.call('PUT', `/api/v1/nodes/${path}/cron/${name}`, body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
  };
  const runs = async (name: string, path = 'cj'): Promise<Run[]> => (await s.call('GET', `/api/v1/nodes/${path}/cron/${name}/runs?limit=200`)).body.items;
  const final = (r: Run) => r.state !== 'running';
  const fail = (what: string) => async (err: unknown) => {
    throw new Error(`${(err as Error).message} (${what})\n${fleet.agents[0]!.log.slice(-20).join('\n')}`);
  };
  // The table as the agent holds it (the module host persists it in the state dir).
  const agentTable = (): { name: string; node: string }[] => {
    try {
      return JSON.parse(readFileSync(join(fleet.agents[0]!.stateDir, 'docs', 'cron.json'), 'utf8')).entries;
    } catch {
      return [];
    }
  };

  const journalNames = (): string[] => {
    const dir = join(fleet.agents[0]!.stateDir, 'cron', 'journal');
    return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => {
      try {
        return (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { report: { name: string } }).report.name;
      } catch {
        return 'unreadable'; // renamed away between the listing and the read
      }
    });
  };

  test('an every-second entry on an ancestor runs on the machine, with its output and exit status', async () => {
    await put('cj', 'tick', { schedule: '* * * * * *', script: 'echo "tick from $CANOPY_CRON_NAME"\nexit 3\n' });
    await until('three finished runs', async () => (await runs('tick')).filter(final).length >= 3).catch(fail('tick'));
    const done = (await runs('tick')).filter(final);
    assert.ok(done.every((r) => r.state === 'failed' && r.exitCode === 3 && r.reason === 'exit status 3' && r.hostname === host), JSON.stringify(done));
    const one = (await s.call('GET', `/api/v1/nodes/cj.svc.leaf/cron/tick/runs/${done[0]!.id}`)).body;
    assert.equal(one.stdout, 'tick from tick\n');
    const view = (await s.call('GET', '/api/v1/nodes/cj.svc.leaf/cron')).body;
    assert.equal(view.entries[0].from, 'cj');
    assert.ok(view.entries[0].lastRun);
    assert.equal((await s.call('DELETE', '/api/v1/nodes/cj/cron/tick')).status, 204);
  });

  test('overlap skip: a tick while the last run still runs is recorded as skipped, runs never overlap', async () => {
    await put('cj', 'slow-skip', { schedule: '* * * * * *', argv: ['sleep', '2.2'], overlap: 'skip' });
    await until('two finished runs and a skip', async () => {
      const r = await runs('slow-skip');
      return r.filter((x) => x.state === 'succeeded').length >= 2 && r.some((x) => x.state === 'skipped');
    }).catch(fail('skip'));
    await s.call('DELETE', '/api/v1/nodes/cj/cron/slow-skip');
    const r = (await runs('slow-skip')).reverse();
    assert.match(r.find((x) => x.state === 'skipped')!.reason!, /overlap: the previous run is still running/);
    const ran = r.filter((x) => x.startedAt !== null);
    for (let i = 1; i < ran.length; i++) assert.ok(ran[i - 1]!.endedAt === null || Date.parse(ran[i]!.startedAt!) >= Date.parse(ran[i - 1]!.endedAt!), 'no two runs at once');
  });

  test('overlap queue-one: one tick waits and starts when the run ends; more are skipped', async () => {
    await put('cj', 'slow-queue', { schedule: '* * * * * *', argv: ['sleep', '2.2'], overlap: 'queue-one' });
    await until('three finished runs and a skip', async () => {
      const r = await runs('slow-queue');
      return r.filter((x) => x.state === 'succeeded').length >= 3 && r.some((x) => x.state === 'skipped');
    }).catch(fail('queue-one'));
    await s.call('DELETE', '/api/v1/nodes/cj/cron/slow-queue');
    const r = (await runs('slow-queue')).reverse();
    assert.match(r.find((x) => x.state === 'skipped')!.reason!, /already queued/);
    const ran = r.filter((x) => x.state === 'succeeded');
    for (let i = 1; i < ran.length; i++) assert.ok(Date.parse(ran[i]!.startedAt!) >= Date.parse(ran[i - 1]!.endedAt!), 'never two at once');
    // A queued tick waits for the run before it (which sleeps 2.2 s): it starts a second or more after its time.
    assert.ok(ran.some((x) => Date.parse(x.startedAt!) - Date.parse(x.scheduledAt) >= 1000), 'a run waited in the queue');
  });

  test('overlap allow: runs of one entry run side by side', async () => {
    await put('cj', 'slow-allow', { schedule: '* * * * * *', argv: ['sleep', '2.2'], overlap: 'allow' });
    const overlapping = (r: Run[]) => r.some((a) => r.some((b) => a !== b && a.startedAt && b.startedAt && Date.parse(b.startedAt) > Date.parse(a.startedAt) && (a.endedAt === null || Date.parse(b.startedAt) < Date.parse(a.endedAt))));
    await until('two runs at once', async () => overlapping(await runs('slow-allow'))).catch(fail('allow'));
    await s.call('DELETE', '/api/v1/nodes/cj/cron/slow-allow');
    assert.equal((await runs('slow-allow')).some((x) => x.state === 'skipped'), false);
  });

  test('a table change reaches the agent: a new command, a mask below, and a removal', async () => {
    await put('cj', 'clock', { schedule: '* * * * * *', argv: ['true'] });
    await put('cj', 'say', { schedule: '* * * * * *', argv: ['echo', 'v1'] });
    await until('v1 said', async () => (await runs('say')).some((r) => r.lastLine === 'v1')).catch(fail('v1'));
    await put('cj', 'say', { schedule: '* * * * * *', argv: ['echo', 'v2'] });
    await until('v2 said', async () => (await runs('say')).some((r) => r.lastLine === 'v2')).catch(fail('v2'));

    // Disabled on the machine's parent: the agent drops it, the clock keeps going, `say` runs no more.
    await put('cj.svc', 'say', { disabled: true });
    await until('the agent holds the table without say', () => agentTable().every((e) => e.name !== 'say') && agentTable().length > 0);
    // Every run of it reported and acknowledged: none left in the agent's journal.
    await until('say has no run left to report', () => journalNames().every((n) => n !== 'say'));
    const said = (await runs('say')).length;
    const ticks = (await runs('clock')).length;
    await until('three more clock runs', async () => (await runs('clock')).filter(final).length >= ticks + 3);
    assert.equal((await runs('say')).length, said, 'a disabled entry does not run');

    // The mask removed: it runs again; the entry removed: it stops and the agent's table is empty.
    assert.equal((await s.call('DELETE', '/api/v1/nodes/cj.svc/cron/say')).status, 204);
    await until('say again', async () => (await runs('say')).length > said).catch(fail('unmasked'));
    for (const n of ['say', 'clock']) assert.equal((await s.call('DELETE', `/api/v1/nodes/cj/cron/${n}`)).status, 204);
    await until('the agent holds an empty table', () => agentTable().length === 0);
  });

  test('a run is killed at its timeout, runs as its OS user, keeps the head and tail of long output', async () => {
    await put('cj', 'stuck', { schedule: '* * * * * *', argv: ['sleep', '30'], timeoutSeconds: 1, killGraceSeconds: 1 });
    await put('cj', 'who', { schedule: '* * * * * *', argv: ['id', '-un'], user: 'nobody' });
    await put('cj', 'ghost', { schedule: '* * * * * *', argv: ['true'], user: 'no-such-user-x' });
    await put('cj', 'chatty', { schedule: '* * * * * *', script: "head -c 5000 /dev/zero | tr '\\0' a\necho\necho END\n", outputLimitBytes: 1024 });
    const ended = (r: Run) => final(r) && r.state !== 'skipped';
    const first = async (name: string) => {
      await until(`a finished run of ${name}`, async () => (await runs(name)).some(ended)).catch(fail(name));
      await s.call('DELETE', `/api/v1/nodes/cj/cron/${name}`);
      const r = (await runs(name)).find(ended)!;
      return { ...r, ...(await s.call('GET', `/api/v1/nodes/cj/cron/${name}/runs/${r.id}`)).body };
    };
    const stuck = await first('stuck');
    assert.deepEqual([stuck.state, stuck.reason, stuck.exitCode], ['timed-out', 'timed out after 1 s', 143]);
    const who = await first('who');
    assert.deepEqual([who.state, who.stdout], ['succeeded', 'nobody\n']);
    const ghost = await first('ghost');
    assert.deepEqual([ghost.state, ghost.reason], ['failed', 'no such OS user "no-such-user-x" on this machine']);
    const chatty = await first('chatty');
    assert.equal(chatty.state, 'succeeded');
    assert.ok(chatty.truncated > 3000, String(chatty.truncated));
    assert.match(chatty.stdout, /^a{512}\n… \d+ bytes not kept …\n[a]*\nEND\n$/);
  });

  test('an agent killed with -9 mid-run adopts the run when it restarts: reported once, with its output', async () => {
    await put('cj', 'long', { schedule: '* * * * * *', script: 'echo begin\nsleep 3\necho end\n', overlap: 'skip' });
    await until('a run in flight', async () => (await runs('long')).some((r) => r.state === 'running')).catch(fail('long running'));
    const inFlight = (await runs('long')).find((r) => r.state === 'running')!;
    const agent = fleet.agents[0]!;
    await agent.kill9();
    agent.restart();
    await until('the run finished', async () => (await runs('long')).find((r) => r.id === inFlight.id)?.state !== 'running', 60_000).catch(fail('adopted'));
    await s.call('DELETE', '/api/v1/nodes/cj/cron/long');
    const after = (await runs('long')).filter((r) => r.id === inFlight.id);
    assert.equal(after.length, 1);
    assert.equal(after[0]!.state, 'succeeded', JSON.stringify(after[0]));
    const one = (await s.call('GET', `/api/v1/nodes/cj/cron/long/runs/${inFlight.id}`)).body;
    assert.equal(one.stdout, 'begin\nend\n');
  });

  test("moving the machine's node under another brings that node's entries to the agent, and back", async () => {
    await mkNodes(s, 'cm');
    await put('cm', 'moved-in', { schedule: '0 0 1 1 *', argv: ['true'] });
    const names = () => agentTable().map((e) => `${e.node}/${e.name}`);
    assert.equal((await s.call('POST', '/api/v1/nodes/cj.svc/move', { parentPath: 'cm' })).status, 200);
    await until('the entry of the new ancestor on the agent', () => names().includes('cm/moved-in'));
    assert.equal((await s.call('POST', '/api/v1/nodes/cm.svc/move', { parentPath: 'cj' })).status, 200);
    await until('gone again once moved back', () => !names().includes('cm/moved-in'));
  });
});
