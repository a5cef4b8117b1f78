/**
 * The simulated agents of `agent-sessions.bench.ts`, run as their own process: one WebSocket per
 * machine credential speaking the real protocol (core/tasks/protocol.ts): hello, heartbeats at the
 * period the welcome names (jittered ±10 % like the agent), and for each exec assignment a RUNNING
 * report and then a COMPLETE one (exit 0, "ok\n"), queued and sent together every 100 ms as the
 * agent's reporter does. It tells its parent over IPC
 * when every session is welcomed, and on request the time each task's assignment arrived.
 *
 * argv: URL TOKENS_FILE (one token per line). Messages out: {t:'connected', ms, failed} and
 * {t:'receipts', receipts: [taskId, epochMs][]}; in: {t:'receipts'} and {t:'close'}.
 */
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { AGENT_PROTOCOL, AGENT_SESSION_PATH, TaskState, type ControlMessage } from '../packages/core/src/index.ts';

const [url, tokensFile] = process.argv.slice(2);
if (!url || !tokensFile || !process.send) throw new Error('usage: agent-sessions-client.ts URL TOKENS_FILE (as a child with IPC)');
const tokens = readFileSync(tokensFile, 'utf8').split('\n').filter(Boolean);
const wsUrl = new URL(AGENT_SESSION_PATH, url.replace(/^http/, 'ws')).toString();
const IN_FLIGHT = 50;
const now = () => performance.timeOrigin + performance.now();

const receipts = new Map<string, number>();
let toFlush: (() => void)[] = [];
setInterval(() => {
  const list = toFlush;
  toFlush = [];
  for (const f of list) f();
}, 100).unref();
const sockets: WebSocket[] = [];
const beats: NodeJS.Timeout[] = [];
let welcomed = 0;
let failed = 0;
const t0 = now();

function facts(i: number) {
  return { hostname: `sim-${i}`, ips: [], cpus: 1, memoryBytes: 1, disks: [], os: 'sim', kernel: 'sim', serial: null, macs: [], bootId: null, bootedAt: null };
}

/** Open session `i`; resolves once it is welcomed (or has failed). */
function open(i: number): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${tokens[i]}` }, perMessageDeflate: false });
    sockets.push(ws);
    let seq = 0;
    // Like the agent's reporter: reports are queued and sent together on the next 100 ms tick.
    const queue: Record<string, unknown>[] = [];
    const report = (taskId: string, state: number, extra: Record<string, unknown> = {}) => {
      if (queue.length === 0) toFlush.push(() => ws.send(JSON.stringify({ t: 'report', seq: ++seq, reports: queue.splice(0) })));
      queue.push({ taskId, state, message: state === TaskState.RUNNING ? 'running' : 'done', at: new Date().toISOString(), ...extra });
    };
    ws.on('open', () => ws.send(JSON.stringify({ t: 'hello', protocol: AGENT_PROTOCOL, agentVersion: 'sim', facts: facts(i), tasks: [] })));
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as ControlMessage;
      if (msg.t === 'welcome') {
        welcomed++;
        const beat = () => {
          beats[i] = setTimeout(() => {
            if (ws.readyState === WebSocket.OPEN) ws.send('{"t":"heartbeat"}');
            beat();
          }, msg.heartbeatMs * (0.9 + Math.random() * 0.2));
        };
        beat();
        resolve();
      } else if (msg.t === 'assign') {
        const at = now();
        for (const task of msg.tasks) {
          if (receipts.has(task.taskId) || task.kind !== 'exec') continue;
          receipts.set(task.taskId, at);
          // Answer after this turn's other sockets are read: 10,000 agents share this one process,
          // and replying inline would delay (and so inflate) the receipts still waiting to be read.
          setImmediate(() => {
            report(task.taskId, TaskState.RUNNING);
            setImmediate(() => report(task.taskId, TaskState.COMPLETE, { exitCode: 0, stdout: 'ok\n', stderr: '' }));
          });
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
async function lane(): Promise<void> {
  while (next < tokens.length) await open(next++);
}
await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
process.send({ t: 'connected', ms: now() - t0, welcomed, failed });

process.on('message', (m: { t: string }) => {
  if (m.t === 'receipts') process.send!({ t: 'receipts', receipts: [...receipts] });
  if (m.t === 'close') {
    for (const b of beats) clearTimeout(b);
    for (const ws of sockets) ws.terminate();
    process.disconnect();
  }
});
