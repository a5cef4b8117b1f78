/**
 * Child process of discovery.bench.ts: holds thousands of streaming watch connections (Canopy SSE
 * or etcd's gateway `/v3/watch`) and reports, per write, when each connection saw the change. It
 * runs apart from the server so the watchers' sockets and parsing do not share the server's event
 * loop or file-descriptor limit, and it speaks HTTP/1.1 over raw sockets, looking for a marker in
 * the bytes, so the clock it reads is not slowed by a full HTTP client per connection (both systems
 * get the same client). Times are CLOCK_MONOTONIC (process.hrtime), which every process on the
 * machine shares, so they compare directly with the parent's write time.
 *
 * Parent → child: {op:'open', …spec} · {op:'arm', round} · {op:'close'}
 * Child → parent: {op:'opened', open, failed, ms} · {op:'armed', round} · {op:'delivered', round, at: number[], missing}
 */
import net from 'node:net';

export interface WatchSpec {
  kind: 'sse' | 'etcd';
  host: string;
  port: number;
  count: number;
  /** Connections opened at once. */
  concurrency: number;
  /** SSE: the request path of connection i. etcd: the JSON lines of its body. */
  requests: string[];
  token?: string;
}

/** Monotonic milliseconds, comparable across processes. */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** What marks a subscription answered, and a change delivered, in each protocol's bytes. */
const MARKERS = {
  sse: { ready: Buffer.from('event: snapshot'), change: Buffer.from('event: change') },
  etcd: { ready: Buffer.from('"created"'), change: Buffer.from('"events"') },
};
const OVERLAP = 16;

interface Conn {
  socket: net.Socket;
  ready: boolean;
  /** The last bytes of the previous chunk, so a marker split between two reads is still found. */
  tail: Buffer;
  /** Monotonic ms of the first change seen since the last arm, or 0. */
  seenAt: number;
}

const conns: Conn[] = [];
let armed = -1;
let seen = 0;
/** Connections whose subscription was answered; only these are expected to see changes. */
let readyCount = 0;
let deadline: NodeJS.Timeout | undefined;

const send = (m: object) => process.send?.(m);

function report(): void {
  clearTimeout(deadline);
  const at = conns.filter((c) => c.seenAt > 0).map((c) => c.seenAt);
  send({ op: 'delivered', round: armed, at, missing: readyCount - at.length });
  armed = -1;
}

function requestOf(spec: WatchSpec, line: string): string {
  const host = `Host: ${spec.host}:${spec.port}\r\n`;
  if (spec.kind === 'sse') return `GET ${line} HTTP/1.1\r\n${host}Accept: text/event-stream\r\n${spec.token ? `Authorization: Bearer ${spec.token}\r\n` : ''}\r\n`;
  return `POST /v3/watch HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(line)}\r\n\r\n${line}`;
}

function open(spec: WatchSpec, i: number, onReady: () => void, onFail: (err: Error) => void): void {
  const socket = net.connect({ host: spec.host, port: spec.port });
  const c: Conn = { socket, ready: false, tail: Buffer.alloc(0), seenAt: 0 };
  const m = MARKERS[spec.kind];
  let settled = false;
  const fail = (err: Error) => {
    if (!settled) onFail(err);
    settled = true;
  };
  conns.push(c);
  socket.setNoDelay(true);
  socket.on('connect', () => socket.write(requestOf(spec, spec.requests[i % spec.requests.length] as string)));
  socket.on('error', fail);
  socket.on('data', (chunk: Buffer) => {
    // The clock is read first: what this process does with the bytes is not the server's latency.
    const at = nowMs();
    if (!c.ready && c.tail.length === 0 && !chunk.subarray(0, 12).toString().startsWith('HTTP/1.1 200')) {
      fail(new Error(chunk.subarray(0, chunk.indexOf('\r\n')).toString()));
      socket.destroy();
      return;
    }
    const marker = c.ready ? m.change : m.ready;
    // A marker split across two reads is in the previous tail plus this chunk's first bytes.
    const found = chunk.includes(marker) || (c.tail.length > 0 && Buffer.concat([c.tail, chunk.subarray(0, OVERLAP)]).includes(marker));
    c.tail = Buffer.from(chunk.subarray(Math.max(0, chunk.length - OVERLAP)));
    if (!c.ready) {
      if (found) {
        c.ready = true;
        readyCount++;
        settled = true;
        onReady();
      }
      return;
    }
    if (armed >= 0 && c.seenAt === 0 && found) {
      c.seenAt = at;
      if (++seen === readyCount) report();
    }
  });
}

async function openAll(spec: WatchSpec): Promise<void> {
  const t0 = nowMs();
  let next = 0;
  let ok = 0;
  let failed = 0;
  let firstError = '';
  await new Promise<void>((resolve) => {
    const pump = () => {
      if (ok + failed === spec.count) return resolve();
      while (next < spec.count && next - ok - failed < spec.concurrency) {
        open(
          spec,
          next++,
          () => {
            ok++;
            pump();
          },
          (err) => {
            failed++;
            firstError ||= err.message;
            pump();
          },
        );
      }
    };
    pump();
  });
  send({ op: 'opened', open: ok, failed, firstError, ms: nowMs() - t0 });
}

process.on('message', (m: { op: string; round?: number } & Partial<WatchSpec>) => {
  if (m.op === 'open') void openAll(m as WatchSpec);
  else if (m.op === 'arm') {
    for (const c of conns) c.seenAt = 0;
    seen = 0;
    armed = m.round ?? 0;
    deadline = setTimeout(report, 15_000);
    send({ op: 'armed', round: armed });
  } else if (m.op === 'close') {
    for (const c of conns) c.socket.destroy();
    send({ op: 'closed' });
    setTimeout(() => process.exit(0), 50);
  }
});
