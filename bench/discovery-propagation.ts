/**
 * Change propagation, measured: a child process (discovery-watchers.ts) holds the watch streams;
 * this side arms it, makes one write, and collects when every stream saw the change. Each round's
 * clock starts just before the write is sent, so the figures include the write's own commit.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { nowMs, type WatchSpec } from './discovery-watchers.ts';

export interface Propagation {
  opened: number;
  openSeconds: number;
  failed: number;
  firstError: string;
  /** Write → arrival, every watcher of every round, sorted (ms). */
  deliveries: number[];
  /** Write → the last arrival of each round, sorted (ms). */
  lastPerRound: number[];
  /** Write → the writer's acknowledgement, sorted (ms). */
  ack: number[];
  /** Write → the server says it handed the change to every socket (when `serverDoneAt` is given). */
  fanout: number[];
  /** Watchers that never saw a round's change within 15 s, summed over rounds. */
  missing: number;
}

export interface PropagationOptions {
  rounds: number;
  /** Runs the write rounds (lets the caller profile just them). */
  around: <T>(work: () => Promise<T>) => Promise<T>;
  /** Monotonic ms of the server's last "fanned out" signal, if it gives one. */
  serverDoneAt?: () => number;
}

function nextMessage(child: ChildProcess, op: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: { op: string }) => {
      if (m.op !== op) return;
      child.off('message', onMsg);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code: number) => reject(new Error(`watcher process exited (${code}) waiting for '${op}'`));
    child.on('message', onMsg);
    child.once('exit', onExit);
  });
}

/** ROUNDS writes, each timed from just before the write to its arrival at every watcher. */
async function rounds(child: ChildProcess, write: (round: number) => Promise<void>, out: Propagation, o: PropagationOptions): Promise<void> {
  for (let round = 0; round < o.rounds; round++) {
    await new Promise((r) => setTimeout(r, 300));
    child.send({ op: 'arm', round });
    await nextMessage(child, 'armed');
    const delivered = nextMessage(child, 'delivered');
    const start = nowMs();
    await write(round);
    out.ack.push(nowMs() - start);
    const d = (await delivered) as { at: number[]; missing: number };
    const done = o.serverDoneAt?.() ?? 0;
    if (done > start) out.fanout.push(done - start);
    const lat = d.at.map((t) => t - start);
    out.deliveries.push(...lat);
    out.lastPerRound.push(lat.reduce((a, b) => Math.max(a, b), 0));
    out.missing += d.missing;
  }
  for (const list of [out.deliveries, out.lastPerRound, out.ack, out.fanout]) list.sort((a, b) => a - b);
}

/** Open `spec.count` watch streams in a child process, then time `o.rounds` writes made by `write`. */
export async function measurePropagation(spec: WatchSpec, write: (round: number) => Promise<void>, o: PropagationOptions): Promise<Propagation> {
  const child = fork(join(import.meta.dirname, 'discovery-watchers.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    child.send({ op: 'open', ...spec });
    const opened = await nextMessage(child, 'opened');
    const out: Propagation = { opened: opened.open, openSeconds: opened.ms / 1000, failed: opened.failed, firstError: opened.firstError, deliveries: [], lastPerRound: [], ack: [], fanout: [], missing: 0 };
    await o.around(() => rounds(child, write, out, o));
    child.send({ op: 'close' });
    await nextMessage(child, 'closed').catch(() => undefined);
    return out;
  } finally {
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
  }
}
