/**
 * Child process of discovery.bench.ts: holds thousands of streaming watch connections (Canopy SSE
 * or etcd's gateway `/v3/watch`) and reports, per write, when each connection saw the change. It
 * runs apart from the server so the watchers' sockets and parsing do not share the server's event
 * loop or file-descriptor limit. Times are CLOCK_MONOTONIC (process.hrtime), which every process on
 * the machine shares, so they compare directly with the parent's write time.
 *
 * Parent → child: {op:'open', …spec} · {op:'arm', round} · {op:'close'}
 * Child → parent: {op:'opened', open, failed, ms} · {op:'armed', round} · {op:'delivered', round, at: number[], missing}
 */
import http from 'node:http';

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

interface Conn {
  req: http.ClientRequest;
  res?: http.IncomingMessage;
  ready: boolean;
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

/** A chunk of a stream: the first one answers the subscription, later ones carry changes. */
function onChunk(c: Conn, kind: WatchSpec['kind'], text: Buffer, onReady: () => void): void {
  const isChange = kind === 'sse' ? text.includes('event: change') : text.includes('"events"');
  if (!c.ready) {
    if (kind === 'sse' ? text.includes('event: snapshot') : text.includes('"created"')) {
      c.ready = true;
      readyCount++;
      onReady();
    }
    return;
  }
  if (isChange && armed >= 0 && c.seenAt === 0) {
    c.seenAt = nowMs();
    if (++seen === readyCount) report();
  }
}

function open(spec: WatchSpec, i: number, onReady: () => void, onFail: (err: Error) => void): void {
  const line = spec.requests[i % spec.requests.length] as string;
  const headers: Record<string, string> = spec.kind === 'sse' ? { accept: 'text/event-stream', ...(spec.token ? { authorization: `Bearer ${spec.token}` } : {}) } : { 'content-type': 'application/json' };
  const req = http.request({ host: spec.host, port: spec.port, method: spec.kind === 'sse' ? 'GET' : 'POST', path: spec.kind === 'sse' ? line : '/v3/watch', headers, agent: false });
  const c: Conn = { req, ready: false, seenAt: 0 };
  conns.push(c);
  let settled = false;
  const ready = () => {
    settled = true;
    onReady();
  };
  req.on('response', (res) => {
    c.res = res;
    if (res.statusCode !== 200) {
      res.resume();
      if (!settled) onFail(new Error(`HTTP ${res.statusCode}`));
      settled = true;
      return;
    }
    // Searched as bytes: decoding 10,000 chunks to strings would slow the clock we are reading.
    res.on('data', (t: Buffer) => onChunk(c, spec.kind, t, ready));
  });
  req.on('error', (err) => {
    if (!settled) onFail(err);
    settled = true;
  });
  req.setNoDelay(true);
  if (spec.kind === 'etcd') req.end(line);
  else req.end();
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
    for (const c of conns) c.req.destroy();
    send({ op: 'closed' });
    setTimeout(() => process.exit(0), 50);
  }
});
