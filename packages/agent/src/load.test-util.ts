/**
 * A steady HTTP load for tests: `concurrency` loops sending GET / back to back over keep-alive
 * connections, counting answers by body (the backend's name) and every error.
 *
 * A request that fails before any byte of an answer arrived never reached a backend: nginx's
 * retiring workers close idle keep-alive connections when a reload retires them, and now and then
 * one closes a connection it had accepted but not read yet. Like browsers and Go's client (RFC
 * 9110 §9.2.2 lets a client retry an idempotent request automatically), the load sends such a GET
 * once more on a fresh connection, and counts it (`retried`, with the kind of connection) rather
 * than hiding it. Anything else — a 5xx, a reset after the answer began, a timeout, a retry that
 * fails too — is an error.
 */
import { Agent, request } from 'node:http';

export interface Load {
  readonly ok: number;
  /** Requests sent again after their connection closed before any answer: on a reused connection, on a new one. */
  readonly retried: number;
  readonly retriedNew: number;
  readonly errors: string[];
  /** Answers per backend name. */
  readonly counts: Map<string, number>;
  summary(): string;
  stop(): Promise<void>;
}

interface Outcome {
  status?: number;
  body?: string;
  error?: string;
  reused: boolean;
  answered: boolean;
}

function once(agent: Agent, host: string, port: number, hostHeader: string): Promise<Outcome> {
  return new Promise((resolve) => {
    let answered = false;
    const req = request({ host, port, path: '/', agent, headers: { host: hostHeader }, timeout: 10_000 }, (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, reused: req.reusedSocket, answered }));
      res.on('error', (err) => resolve({ error: err.message, reused: req.reusedSocket, answered }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out after 10 s')));
    req.on('error', (err) => resolve({ error: `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`, reused: req.reusedSocket, answered }));
    req.end();
  });
}

/** Start the load against `host:port` with `Host: hostHeader`. */
export function startLoad(opts: { host: string; port: number; hostHeader: string; concurrency: number }): Load {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const fresh = new Agent({ keepAlive: false });
  let running = true;
  const counts = new Map<string, number>();
  const errors: string[] = [];
  const stats = { ok: 0, retried: 0, retriedNew: 0 };

  async function loop(): Promise<void> {
    while (running) {
      let r = await once(agent, opts.host, opts.port, opts.hostHeader);
      let note = '';
      if (r.error !== undefined && !r.answered) {
        stats.retried++;
        if (!r.reused) stats.retriedNew++;
        note = ' (sent again on a fresh connection)';
        r = await once(fresh, opts.host, opts.port, opts.hostHeader);
      }
      if (r.error !== undefined) errors.push(`${new Date().toISOString()} ${r.error}${note}${r.reused ? ' on a reused connection' : ' on a new connection'}${r.answered ? ' after the answer began' : ''}`);
      else if (r.status !== 200) errors.push(`${new Date().toISOString()} HTTP ${r.status}: ${r.body?.slice(0, 200)}`);
      else {
        stats.ok++;
        counts.set(r.body!, (counts.get(r.body!) ?? 0) + 1);
      }
    }
  }
  const loops = Array.from({ length: opts.concurrency }, () => loop());

  return {
    get ok() {
      return stats.ok;
    },
    get retried() {
      return stats.retried;
    },
    get retriedNew() {
      return stats.retriedNew;
    },
    errors,
    counts,
    summary: () => `${stats.ok} answered (${[...counts].map(([k, v]) => `${k} ${v}`).join(', ')}), ${stats.retried} retried after their connection closed before any answer (${stats.retriedNew} of them on a new connection), ${errors.length} errors`,
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      fresh.destroy();
    },
  };
}
