/**
 * Relaying metric collections between replicas: an agent pushes to the replica holding its
 * session, which ingests the collection and appends it to `monitor_relay` (grouped, every 100 ms);
 * every replica reads the rows the others appended (every 200 ms) and ingests them as relayed. Each
 * replica's store then holds every machine's recent samples: its dashboards and the alert evaluator
 * (on whichever replica holds the lease) see machines connected elsewhere, not only their history
 * chunks. History chunks stay the business of the replica the machine pushes to (history.ts).
 * Rows are visible in commit order, not id order, so a read looks back over ids it may have missed.
 */
import { sql } from 'drizzle-orm';
import { rows, type Queryable } from '../db/connection.ts';
import type { IngestSample } from './history.ts';

export interface RelayOptions {
  db: Queryable;
  /** This replica's id (the dispatcher's). */
  replica: string;
  /** Ingest what another replica received. */
  take: (machineId: number, samples: IngestSample[]) => void;
  onError: (err: unknown) => void;
  sendMs?: number | undefined;
  pollMs?: number | undefined;
}

/** Ids a read looks back over: rows of another replica that committed after a higher id was read. */
const LOOK_BACK = 1000;
/** Rows older than this are dropped: every replica has read them, or was down and has its history. */
const KEEP_SECONDS = 120;

export type Relay = ReturnType<typeof createRelay>;

export function createRelay(opts: RelayOptions) {
  let queue: { machineId: number; samples: IngestSample[] }[] = [];
  let cursor = 0;
  const seen = new Set<number>();
  /** The send and poll loops: each runs one round at a time, and stop() waits for the one under way. */
  const loops: { timer: NodeJS.Timeout; running: Promise<void> | null }[] = [];
  let lastPrune = 0;

  async function send(): Promise<void> {
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    const data = batch.map((b) => ({ machine_id: b.machineId, samples: b.samples }));
    await opts.db.execute(sql`INSERT INTO monitor_relay (replica, machine_id, samples)
      SELECT ${opts.replica}, x.machine_id, x.samples FROM jsonb_to_recordset(${JSON.stringify(data)}::jsonb) AS x(machine_id int, samples jsonb)`);
  }

  async function poll(): Promise<void> {
    // Ids first (cheap), then the samples of those not taken yet.
    const ids = await rows<{ id: string | number }>(opts.db, sql`SELECT id FROM monitor_relay WHERE id > ${Math.max(0, cursor - LOOK_BACK)} AND replica <> ${opts.replica}`);
    const fresh = ids.map((r) => Number(r.id)).filter((id) => !seen.has(id));
    if (fresh.length > 0) {
      const got = await rows<{ id: string | number; machineId: number; samples: IngestSample[] }>(opts.db, sql`SELECT id, machine_id AS "machineId", samples FROM monitor_relay
        WHERE id = ANY(${`{${fresh.join(',')}}`}::bigint[]) ORDER BY id`);
      for (const r of got) {
        const id = Number(r.id);
        seen.add(id);
        cursor = Math.max(cursor, id);
        opts.take(r.machineId, r.samples);
      }
    }
    for (const id of seen) if (id <= cursor - LOOK_BACK) seen.delete(id);
    if (Date.now() - lastPrune > 30_000) {
      lastPrune = Date.now();
      await opts.db.execute(sql`DELETE FROM monitor_relay WHERE created_at < now() - make_interval(secs => ${KEEP_SECONDS})`);
    }
  }

  return {
    /** Relay a collection this replica received from the agent of `machineId`. */
    add(machineId: number, samples: IngestSample[]): void {
      queue.push({ machineId, samples });
    },
    /** Start after what is relayed already: that is in the history chunks (or lost with its replica). */
    async load(): Promise<void> {
      const [r] = await rows<{ max: string | number | null }>(opts.db, sql`SELECT max(id) AS max FROM monitor_relay`);
      cursor = Number(r?.max ?? 0);
    },
    start(): void {
      for (const [ms, fn] of [[opts.sendMs ?? 100, send], [opts.pollMs ?? 200, poll]] as const) {
        const loop = { timer: setInterval(() => (loop.running ??= fn().catch(opts.onError).finally(() => (loop.running = null))), ms), running: null as Promise<void> | null };
        loop.timer.unref();
        loops.push(loop);
      }
    },
    async stop(): Promise<void> {
      for (const l of loops) clearInterval(l.timer);
      await Promise.all(loops.map((l) => l.running));
      loops.length = 0;
      await send().catch(opts.onError);
    },
  };
}
