import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import WebSocket from 'ws';
import { AGENT_PROTOCOL, ExecSpec, TaskState } from '@canopy/core';
import { canMakeTestHosts, testBackends, type TestHosts, type TestServer } from '@canopy/server/testing';
import { startFleet, until, type Fleet, type RunningAgent } from './testing.ts';

const noHosts = canMakeTestHosts();
const [backend] = testBackends();

interface Row {
  id: string;
  state: number;
  message: string;
  error: string | null;
  exit_code: number | null;
  stdout: string;
  stderr: string;
}

describe('agent and dispatcher on test hosts', { skip: noHosts && `test hosts unavailable: ${noHosts}` }, () => {
  let s: TestServer;
  let hosts: TestHosts;
  let url: string;
  let creds: Map<string, { id: number; token: string }>;
  let agents: RunningAgent[] = [];
  let fleet: Fleet | undefined;

  const task = async (id: string): Promise<Row> => {
    const r = await s.database.db.execute(sql`SELECT id, state, message, error, exit_code, stdout, stderr FROM tasks WHERE id = ${id}`);
    return (r as unknown as { rows: Row[] }).rows[0]!;
  };
  const create = async (hostname: string, kind: string, spec: unknown): Promise<string> => {
    const machineId = creds.get(hostname)!.id;
    const [id] = await s.services.writer.run({ kind: 'system', id: null, name: 'test', superuser: true }, (w) =>
      s.services.dispatcher.createTasks(w, [{ machineId, kind, spec }]),
    );
    return id!;
  };
  const ended = (id: string) => until(`task ${id} to end`, async () => (await task(id)).state >= TaskState.COMPLETE);

  before(async () => {
    fleet = await startFleet({ backend: backend!, count: 3, name: 'agent', server: { agents: { heartbeatMs: 300, orphanGraceSeconds: 60 } } });
    ({ s, hosts, url, creds, agents } = fleet);
  });
  after(() => fleet?.close());

  test('an exec task runs on its own host and reports its output and exit code', async () => {
    const h = hosts.hosts[1]!;
    const id = await create(h.hostname, 'exec', ExecSpec.parse({ argv: ['ip', '-4', '-o', 'addr', 'show', 'eth0'] }));
    await ended(id);
    const t = await task(id);
    assert.equal(t.state, TaskState.COMPLETE, JSON.stringify(t));
    assert.equal(t.exit_code, 0);
    assert.match(t.stdout, new RegExp(h.address.replaceAll('.', '\\.')));
  });

  test('a failing script is FAILED with its exit code and stderr', async () => {
    const id = await create('agent-0', 'exec', ExecSpec.parse({ script: 'echo oops >&2\nexit 3\n' }));
    await ended(id);
    const t = await task(id);
    assert.equal(t.state, TaskState.FAILED);
    assert.equal(t.exit_code, 3);
    assert.equal(t.stderr, 'oops\n');
  });

  test('a kind the agent does not know is REJECTED with the reason', async () => {
    const id = await create('agent-0', 'teleport', {});
    await ended(id);
    const t = await task(id);
    assert.equal(t.state, TaskState.REJECTED);
    assert.match(t.error ?? '', /unknown task kind "teleport"/);
  });

  test('an unknown OS user is REJECTED naming the user', async () => {
    const id = await create('agent-0', 'exec', ExecSpec.parse({ argv: ['true'], user: 'no-such-user' }));
    await ended(id);
    const t = await task(id);
    assert.equal(t.state, TaskState.REJECTED);
    assert.match(t.error ?? '', /no such OS user "no-such-user"/);
  });

  test('the timeout kills the command, not just labels it', async () => {
    const marker = `/tmp/canopy-timeout-${process.pid}`;
    const id = await create('agent-2', 'exec', ExecSpec.parse({ script: `sleep 30; echo late > ${marker}`, timeoutSeconds: 1, killGraceSeconds: 1 }));
    await ended(id);
    const t = await task(id);
    assert.equal(t.state, TaskState.FAILED);
    assert.match(t.error ?? '', /timed out after 1 s/);
    assert.throws(() => readFileSync(marker));
  });

  test('an agent killed with -9 mid-task resumes it after restart: run once, finished, output kept', async () => {
    const a = agents[0]!;
    const count = `/tmp/canopy-once-${process.pid}`;
    writeFileSync(count, '');
    const id = await create('agent-0', 'exec', ExecSpec.parse({ script: `echo run >> ${count}\necho started\nsleep 2\necho done\n` }));
    await until('task running', async () => (await task(id)).state === TaskState.RUNNING);
    await a.kill9();
    a.restart();
    await ended(id);
    const t = await task(id);
    assert.equal(t.state, TaskState.COMPLETE, JSON.stringify(t));
    assert.equal(t.stdout, 'started\ndone\n');
    assert.equal(readFileSync(count, 'utf8'), 'run\n');
  });

  test('a report about another machine’s task is refused: nothing changes', async () => {
    const id = await create('agent-0', 'exec', ExecSpec.parse({ argv: ['sleep', '5'] }));
    await until('task running', async () => (await task(id)).state === TaskState.RUNNING).catch((err) => {
      throw new Error(`${(err as Error).message}\n${agents[0]!.log.slice(-30).join('\n')}`);
    });
    // agent-1 is stopped while its credential is borrowed, or its reconnect would replace the
    // forger's session before the report is read.
    const real = agents[1]!;
    await real.kill9();
    const forger = new WebSocket(`ws://${hosts.gateway}:${new URL(url).port}/api/v1/agent/session`, { headers: { authorization: `Bearer ${creds.get('agent-1')!.token}` } });
    const messages: string[] = [];
    const closed = new Promise<void>((r) => forger.once('close', () => r()));
    forger.on('message', (d) => messages.push(String(d)));
    await new Promise((r, j) => forger.once('open', r).once('error', j));
    const facts = { hostname: 'agent-1', ips: [], cpus: 1, memoryBytes: 1, disks: [], os: 'x', kernel: 'x', serial: null, macs: [], bootId: null, bootedAt: null };
    forger.send(JSON.stringify({ t: 'hello', protocol: AGENT_PROTOCOL, agentVersion: 'forger', facts, tasks: [] }));
    const heard = (what: string) => until(`the forger to hear ${what}`, () => messages.some((m) => m.includes(`"t":"${what}"`)), 10_000);
    await heard('welcome');
    forger.send(JSON.stringify({ t: 'report', seq: 1, reports: [{ taskId: id, state: TaskState.FAILED, message: 'forged', error: 'forged', at: new Date().toISOString() }] }));
    await heard('ack');
    assert.equal((await task(id)).state, TaskState.RUNNING);
    forger.terminate();
    await closed;
    real.restart();
    await until('agent-1 back', () => s.services.dispatcher.connectedHere(creds.get('agent-1')!.id));
    await ended(id);
    assert.equal((await task(id)).state, TaskState.COMPLETE);
  });

  test('revoking the credential ends the session within a second', async () => {
    const h = hosts.hosts[2]!;
    const list = await s.call('GET', `/api/v1/machines/${h.hostname}/credentials`);
    const id = creds.get(h.hostname)!.id;
    assert.equal(s.services.dispatcher.connectedHere(id), true);
    const revoked = await s.call('DELETE', `/api/v1/machines/${h.hostname}/credentials/${list.body.items[0].id}`);
    assert.equal(revoked.status, 204);
    await until('session ended', () => !s.services.dispatcher.connectedHere(id), 1000);
  });

  test('retiring the machine ends its session within a second', async () => {
    const id = creds.get('agent-0')!.id;
    await until('agent-0 connected', () => s.services.dispatcher.connectedHere(id));
    const r = await s.call('POST', '/api/v1/machines/agent-0/retire');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await until('session ended', () => !s.services.dispatcher.connectedHere(id), 1000);
    // Its agent comes back and is turned away (a retired machine's credential no longer authenticates).
    const a = agents[0]!;
    const seen = a.log.length;
    const turnedAway = () => {
      const after = a.log.slice(seen);
      const retry = after.findIndex((l) => /session connecting/.test(l));
      return retry >= 0 && after.slice(retry).some((l) => /machine retired|answered 401/.test(l));
    };
    await until('the agent to try again and be turned away', turnedAway, 30_000).catch((err) => {
      throw new Error(`${(err as Error).message}\n${a.log.slice(-10).join('\n')}`);
    });
    assert.equal(s.services.dispatcher.connectedHere(id), false);
  });

  test('a cut link makes the agent unreachable; restored, it is connected again and nothing ran twice', async () => {
    const h = hosts.hosts[1]!;
    const id = creds.get(h.hostname)!.id;
    const state = async () => (await s.services.dispatcher.statuses([id]))[0]?.state;
    h.setLink(false);
    await until('unreachable', async () => (await state()) === 'unreachable', 10_000);
    h.setLink(true);
    await until('connected again', async () => (await state()) === 'connected' && s.services.dispatcher.connectedHere(id), 60_000);
  });
});
