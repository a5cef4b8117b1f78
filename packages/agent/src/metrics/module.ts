/**
 * The metrics module: every interval (10 s) it reads the machine's metrics and those of every
 * process the supervisor runs (canopy_process_*, by service), runs the collect rules of document
 * `collect`, serves the latest on `/metrics` (Prometheus text, when a listen address is set), and
 * pushes them to the control center on stream `metrics`: the series keys once per generation, then
 * values only. Collections made while the session is down wait (up to an
 * hour) and go up together when it returns; a change of the series set starts a new generation.
 */
import { createServer, type Server } from 'node:http';
import { CollectDoc, NEED_DEFS, renderExposition, seriesKey, type CollectRule, type ExpositionFamily } from '@canopy/core';
import type { AgentModule, ModuleContext } from '../modules.ts';
import { createRuleRunner } from './collect.ts';
import { supervisorIfAny } from '../supervisor/supervisor.ts';
import { collectMachine, supervisedProcesses } from './proc.ts';

/** `--metrics-*` settings. */
export interface MetricsSettings {
  /** host:port to serve /metrics on; unset: not served. */
  listen?: string | undefined;
  /** Seconds between collections; default 10. */
  intervalSeconds?: number | undefined;
  /** Read /proc from here (tests). */
  procRoot?: string | undefined;
}

/** Collections kept while the control center is away: an hour at 10 s. */
const QUEUE_MAX = 360;

/** Split `host:port` (`[v6]:port` too). */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port < 0 || port > 65535) throw new Error(`--metrics-listen takes host:port, not "${text}"`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** The module (one per daemon). */
export function metricsModule(): AgentModule {
  let timer: NodeJS.Timeout | undefined;
  let server: Server | undefined;
  let families: ExpositionFamily[] = [];
  let rules: CollectRule[] = [];
  let keys: string[] = [];
  let gen = Math.floor(Date.now() / 1000) % 1_000_000_000;
  let needDefs = true;
  let queue: { at: number; v: (number | null)[] }[] = [];
  let inflight = false;
  let collecting = false;
  let lastRefusal = '';
  let ctx: ModuleContext;

  function pump(): void {
    if (inflight || queue.length === 0 || !ctx.connected()) return;
    const batch = queue.slice(0, QUEUE_MAX);
    const sentGen = gen;
    const withDefs = needDefs;
    inflight = true;
    ctx
      .push('metrics', { gen: sentGen, ...(withDefs ? { defs: keys } : {}), samples: batch })
      .then(
        () => {
          if (sentGen === gen) queue.splice(0, batch.length);
          if (withDefs && sentGen === gen) needDefs = false;
        },
        (err: unknown) => {
          const msg = err instanceof Error ? err.message : String(err);
          if (msg.includes(NEED_DEFS)) needDefs = true;
          else if (!/not connected|dropped/.test(msg)) {
            // Said once per distinct refusal: an older control center refuses every push the same way.
            if (msg !== lastRefusal) ctx.log(`metrics push refused: ${msg}`);
            lastRefusal = msg;
            // Refused data would be refused again: drop it rather than block every later collection.
            if (sentGen === gen) queue.splice(0, batch.length);
          }
        },
      )
      .finally(() => {
        inflight = false;
        if (queue.length > 0 && ctx.connected()) pump();
      });
  }

  async function collect(intervalMs: number, runner: ReturnType<typeof createRuleRunner>, procRoot: string | undefined): Promise<void> {
    if (collecting) return;
    collecting = true;
    try {
      const at = Date.now();
      const supervised = supervisedProcesses(supervisorIfAny(ctx.stateDir)?.programs() ?? [], procRoot);
      const now = [...collectMachine(procRoot), ...supervised, ...(await runner.run(rules, intervalMs))];
      families = now;
      const values = new Map<string, number | null>();
      for (const f of now) for (const s of f.samples) values.set(seriesKey(f.name, s.labels), Number.isFinite(s.value) ? s.value : null);
      // The control center takes 5,000 series a machine; a runaway script must not drop the rest.
      const nextKeys = [...values.keys()].slice(0, 5000);
      if (nextKeys.length !== keys.length || nextKeys.some((k, i) => k !== keys[i])) {
        keys = nextKeys;
        gen = (gen + 1) % 1_000_000_000;
        needDefs = true;
        queue = [];
      }
      queue.push({ at, v: keys.map((k) => values.get(k) ?? null) });
      if (queue.length > QUEUE_MAX) queue.splice(0, queue.length - QUEUE_MAX);
      pump();
    } finally {
      collecting = false;
    }
  }

  return {
    name: 'metrics',
    async start(c) {
      ctx = c;
      const settings = (c.settings as { metrics?: MetricsSettings }).metrics ?? {};
      const intervalMs = (settings.intervalSeconds ?? 10) * 1000;
      const runner = createRuleRunner({ ...(settings.procRoot ? { procRoot: settings.procRoot } : {}), log: c.log });
      c.onDoc('collect', (data) => {
        const doc = CollectDoc.safeParse(data ?? { rules: [] });
        if (doc.success) rules = doc.data.rules;
        else c.log(`ignoring a collect document that does not parse: ${doc.error.issues[0]?.message}`);
      });
      c.onConnected(() => {
        needDefs = true;
        pump();
      });
      if (settings.listen) {
        const { host, port } = parseListen(settings.listen);
        server = createServer((req, res) => {
          if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
            res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
            return;
          }
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(renderExposition(families));
        });
        await new Promise<void>((resolve, reject) => {
          server!.once('error', reject);
          server!.listen(port, host, () => resolve());
        });
        c.log(`metrics served on http://${settings.listen}/metrics`);
      }
      const tick = () => void collect(intervalMs, runner, settings.procRoot).catch((err: unknown) => c.log(`metrics collection failed: ${String(err)}`));
      tick();
      timer = setInterval(tick, intervalMs);
    },
    async stop() {
      clearInterval(timer);
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server = undefined;
    },
  };
}
