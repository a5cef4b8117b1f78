/**
 * The simulated agents of `deploy.bench.ts`, run as their own process: one WebSocket per machine
 * credential speaking the real protocol (core/tasks/protocol.ts) and, for each `process` task, what
 * the agent's worker and supervisor send (agent/src/worker.ts, exec/supervise.ts,
 * supervisor/module.ts). Desired READY: ACCEPTED, PREPARING, then the artifact really downloaded
 * from the control center with the machine's token, streamed through sha256 and checked against
 * the task's digest and size (bytes dropped, not written), then READY — or REJECTED with the
 * agent's refusal. Desired RUNNING: STARTING, a `processes` push saying running and healthy, then
 * RUNNING. Desired SHUTDOWN: a push saying stopped, then SHUTDOWN. Reports are queued per session
 * and sent together every `tick` ms (the agent's reporter: 100 ms; 0 sends them at once).
 *
 * argv: URL CREDS_FILE (a `hostname token` line per machine). IPC out: {t:'connected'}, {t:'ready'}
 * per READY sent, {t:'events'}; in: {t:'tick', ms}, {t:'events'}, {t:'close'}.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import WebSocket from 'ws';
import { AGENT_PROTOCOL, AGENT_SESSION_PATH, TaskState, type ControlMessage, type ProcessLive, type ProcessTaskSpec, type TaskAssignment, type TaskReport, type TaskStateValue } from '../packages/core/src/index.ts';

const [url, credsFile] = process.argv.slice(2);
if (!url || !credsFile || !process.send) throw new Error('usage: deploy-agents.ts URL CREDS_FILE (as a child with IPC)');
const creds = readFileSync(credsFile, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]);
const wsUrl = new URL(AGENT_SESSION_PATH, url.replace(/^http/, 'ws')).toString();
let tick = 100;

/** What one task went through, epoch ms (Date.now(): compared with the parent's and the server's clocks). */
export interface TaskEvents {
  taskId: string;
  hostname: string;
  service: string;
  /** First assignment (desired READY or above) arrived. */
  assigned: number;
  dlStart?: number;
  dlEnd?: number;
  bytes?: number;
  readySent?: number;
  /** Desired RUNNING arrived. */
  runAssigned?: number;
  /** The later of the running+healthy push and the RUNNING report, sent. */
  upSent?: number;
  shutdownAssigned?: number;
  shutdownSent?: number;
  error?: string;
}

interface Task {
  a: TaskAssignment;
  spec: ProcessTaskSpec;
  state: TaskStateValue;
  staging: boolean;
  ev: TaskEvents;
}

const events: TaskEvents[] = [];
const sockets: WebSocket[] = [];
let pushErrors = 0;
let welcomed = 0;
let failed = 0;

function facts(hostname: string) {
  return { hostname, ips: [], cpus: 1, memoryBytes: 1, disks: [], os: 'sim', kernel: 'sim', serial: null, macs: [], bootId: null, bootedAt: null };
}

/** Stream `path` from the control center through sha256; resolves with the bytes, rejects as the agent refuses. */
function download(path: string, token: string, want: { sha256: string; size: number }): Promise<number> {
  return new Promise((resolve, reject) => {
    get(new URL(path, url), { headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`artifact refused (unavailable): HTTP ${res.statusCode}`));
      }
      const h = createHash('sha256');
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        h.update(c);
      });
      res.on('end', () => {
        if (n < want.size) return reject(new Error(`artifact refused (truncated): ${n} of ${want.size} bytes`));
        const got = h.digest('hex');
        if (got !== want.sha256) return reject(new Error(`artifact refused (corrupt): sha256 ${got}, the task names ${want.sha256}`));
        resolve(n);
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** Open session `i`; resolves once it is welcomed (or has failed). */
function open(hostname: string, token: string): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    sockets.push(ws);
    const tasks = new Map<string, Task>();
    let seq = 0;
    let pushSeq = 0;
    let pending = new Map<string, TaskReport>();
    let flushing = false;
    let beat: NodeJS.Timeout | undefined;

    // The reporter: the newest state of a task replaces one not yet sent; one message per flush.
    const flush = () => {
      flushing = false;
      if (pending.size === 0 || ws.readyState !== WebSocket.OPEN) return;
      const reports = [...pending.values()];
      pending = new Map();
      ws.send(JSON.stringify({ t: 'report', seq: ++seq, reports }));
      const at = Date.now();
      for (const r of reports) {
        const t = tasks.get(r.taskId);
        if (!t) continue;
        if (r.state === TaskState.READY) {
          t.ev.readySent = at;
          process.send!({ t: 'ready' });
        } else if (r.state === TaskState.RUNNING) t.ev.upSent = at;
        else if (r.state === TaskState.SHUTDOWN) t.ev.shutdownSent = at;
      }
    };
    const report = (t: Task, state: TaskStateValue, message: string, error?: string) => {
      t.state = state;
      pending.set(t.a.taskId, { taskId: t.a.taskId, state, message, ...(error === undefined ? {} : { error }), at: new Date().toISOString() });
      if (flushing) return;
      flushing = true;
      if (tick === 0) setImmediate(flush);
      else setTimeout(flush, tick - (Date.now() % tick)); // a shared rhythm, like the reporter's interval
    };
    const push = (t: Task, state: ProcessLive['state'], health: ProcessLive['health']) => {
      const now = new Date().toISOString();
      const live: ProcessLive = { taskId: t.a.taskId, nodeId: t.spec.nodeId, generation: t.spec.generation, state, pid: state === 'running' ? 4242 : null, startedAt: state === 'running' ? now : null, restarts: 0, health, lastExit: null, message: state, at: now };
      ws.send(JSON.stringify({ t: 'push', seq: ++pushSeq, stream: 'processes', data: { full: false, items: [live] } }));
    };

    const drive = (t: Task) => {
      const d = t.a.desired;
      if (d >= TaskState.SHUTDOWN) {
        if (t.state >= TaskState.COMPLETE) return;
        if (t.state === TaskState.RUNNING) push(t, 'stopped', 'unknown');
        report(t, TaskState.SHUTDOWN, 'shutdown requested');
      } else if (t.state < TaskState.READY) {
        if (t.staging || d < TaskState.READY) return;
        t.staging = true;
        report(t, TaskState.ACCEPTED, 'accepted');
        report(t, TaskState.PREPARING, 'preparing');
        const art = t.spec.release?.artifact;
        if (!art) return report(t, TaskState.REJECTED, 'prepare failed', 'the task names no artifact');
        t.ev.dlStart = Date.now();
        download(art.path, token, art).then(
          (n) => {
            Object.assign(t.ev, { dlEnd: Date.now(), bytes: n });
            t.staging = false;
            if (t.a.desired >= TaskState.SHUTDOWN) return drive(t);
            report(t, TaskState.READY, 'prepared');
            drive(t);
          },
          (err: Error) => {
            t.ev.error = err.message;
            t.staging = false;
            report(t, TaskState.REJECTED, 'prepare failed', err.message);
          },
        );
      } else if (t.state === TaskState.READY && d >= TaskState.RUNNING) {
        report(t, TaskState.STARTING, 'starting');
        push(t, 'running', 'healthy');
        report(t, TaskState.RUNNING, 'started');
      }
    };

    ws.on('open', () => ws.send(JSON.stringify({ t: 'hello', protocol: AGENT_PROTOCOL, agentVersion: 'sim', facts: facts(hostname), tasks: [] })));
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as ControlMessage;
      if (msg.t === 'welcome') {
        welcomed++;
        const again = () => (beat = setTimeout(() => {
          if (ws.readyState === WebSocket.OPEN) ws.send('{"t":"heartbeat"}');
          again();
        }, msg.heartbeatMs * (0.9 + Math.random() * 0.2)));
        again();
        ws.once('close', () => clearTimeout(beat));
        resolve();
      } else if (msg.t === 'pushed' && msg.error) pushErrors++;
      else if (msg.t === 'assign') {
        const at = Date.now();
        for (const a of msg.tasks) {
          if (a.kind !== 'process') continue;
          let t = tasks.get(a.taskId);
          if (!t) {
            const spec = a.spec as ProcessTaskSpec;
            t = { a, spec, state: TaskState.ASSIGNED, staging: false, ev: { taskId: a.taskId, hostname, service: spec.service, assigned: at } };
            tasks.set(a.taskId, t);
            events.push(t.ev);
          }
          t.a.desired = a.desired;
          if (a.desired === TaskState.RUNNING) t.ev.runAssigned ??= at;
          if (a.desired >= TaskState.SHUTDOWN) t.ev.shutdownAssigned ??= at;
          // Like the worker, each task moves on its own turn, after the whole message was read.
          const task = t;
          setImmediate(() => drive(task));
        }
      }
    });
    ws.on('error', () => {
      failed++;
      resolve();
    });
  });
}

let next = 0;
const lane = async () => {
  while (next < creds.length) {
    const [hostname, token] = creds[next++]!;
    await open(hostname, token);
  }
};
await Promise.all(Array.from({ length: 20 }, lane));
process.send({ t: 'connected', welcomed, failed });

process.on('message', (m: { t: string; ms?: number }) => {
  if (m.t === 'tick') tick = m.ms ?? 100;
  if (m.t === 'events') process.send!({ t: 'events', events, pushErrors });
  if (m.t === 'close') {
    for (const ws of sockets) ws.terminate();
    process.disconnect();
  }
});
