/**
 * The access-log agent module: on an nginx machine it tails the access logs the control center's
 * `access-log` document names, counts each window (aggregate.ts) and pushes the counts on stream
 * `access`, numbered so a resent batch counts once. Counts and tail positions are saved together
 * before a batch is sent, so a restart neither loses nor double-counts a line.
 */
import { dirname, join } from 'node:path';
import { AccessLogDoc, type AccessPush } from '@canopy/core';
import type { AgentModule, ModuleContext } from '../modules.ts';
import { createAggregator } from './aggregate.ts';
import { loadState, saveState, type AccessLogState } from './state.ts';
import { createTail, type Tail } from './tail.ts';

/** Document and stream names. */
export const ACCESS_DOC = 'access-log';
export const ACCESS_STREAM = 'access';
/** Windows kept while the control center is away: a day of 10 s windows. */
const MAX_PENDING = 8640;
const REFUSALS_BEFORE_DROP = 3;

/** Make the module (one per daemon). */
export function accessLogModule(): AgentModule {
  let ctx: ModuleContext;
  let dir = '';
  let state: AccessLogState;
  let timer: NodeJS.Timeout | undefined;
  let windowStart = Date.now();
  let sending = false;
  let refusals = 0;
  let active = false;
  /** The saved state still names tails this machine no longer has. */
  let dirty = false;
  const tails = new Map<string, Tail>();
  const agg = createAggregator();

  function baseDir(doc: AccessLogDoc): string | undefined {
    const s = ctx.settings.accessLog;
    return doc.logDir ?? s?.dir ?? (ctx.settings.nginx ? dirname(ctx.settings.nginx.conf) : undefined);
  }

  function follow(raw: unknown): void {
    const parsed = AccessLogDoc.safeParse(raw);
    const doc = parsed.success ? parsed.data : { files: [], routes: [] };
    if (!parsed.success && raw !== null) ctx.log(`access-log: ignoring a document that does not parse: ${parsed.error.message}`);
    const base = baseDir(doc);
    if (doc.files.length > 0 && base === undefined) ctx.log('access-log: the cluster sets no logDir and this agent has no --access-log-dir or --nginx-conf; not tailing');
    // The control center only names plain files in the log directory (render.ts refuses others); hold it to that.
    const plain = doc.files.filter((f) => !f.file.includes('/') && !f.file.startsWith('.') && f.file.length > 0);
    if (plain.length < doc.files.length) ctx.log('access-log: ignoring log names that are not plain file names');
    const wanted = new Set(base === undefined ? [] : plain.map((f) => join(base, f.file)));
    for (const [path, t] of tails) {
      if (wanted.has(path)) continue;
      t.close();
      tails.delete(path);
      delete state.tails[path];
      dirty = true;
    }
    for (const path of wanted) if (!tails.has(path)) tails.set(path, createTail(path, state.tails[path]));
    agg.setRoutes(doc.routes);
    active = wanted.size > 0;
  }

  /** Close the window: count what was written, save counts and positions together, send. */
  function tick(final = false): void {
    const now = Date.now();
    for (const t of tails.values()) t.poll((line) => void agg.add(line));
    const series = agg.take();
    if (active && (series.length > 0 || (ctx.connected() && state.pending.length === 0))) {
      const batch: AccessPush = { seq: ++state.seq, source: state.source, from: windowStart, to: now, series };
      state.pending.push(batch);
      if (state.pending.length > MAX_PENDING) {
        const dropped = state.pending.splice(0, state.pending.length - MAX_PENDING);
        ctx.log(`access-log: the control center has been away too long; dropped the ${dropped.length} oldest window(s)`);
      }
    }
    windowStart = now;
    // A machine that is no nginx machine (no document, nothing pending) writes nothing.
    if (!active && tails.size === 0 && state.pending.length === 0 && !dirty) return;
    dirty = tails.size > 0;
    for (const [path, t] of tails) state.tails[path] = t.positions();
    saveState(dir, state);
    if (!final) void send();
  }

  async function send(): Promise<void> {
    if (sending) return;
    sending = true;
    try {
      while (state.pending.length > 0 && ctx.connected()) {
        const batch = state.pending[0]!;
        try {
          await ctx.push(ACCESS_STREAM, batch);
          refusals = 0;
        } catch (err) {
          if (!ctx.connected()) break;
          // Connected, yet refused: retry a few times, then drop it rather than block every later window.
          if (++refusals < REFUSALS_BEFORE_DROP) break;
          ctx.log(`access-log: window ${batch.seq} refused ${refusals} times, dropping it: ${(err as Error).message}`);
          refusals = 0;
        }
        if (state.pending[0] === batch) state.pending.shift();
        saveState(dir, state);
      }
    } finally {
      sending = false;
    }
  }

  function schedule(): void {
    const every = (ctx.settings.accessLog?.intervalSeconds ?? 10) * 1000;
    // Windows end on wall-clock multiples of the interval, so every machine's windows line up.
    timer = setTimeout(() => {
      tick();
      schedule();
    }, every - (Date.now() % every));
    timer.unref?.();
  }

  return {
    name: 'access-log',
    start(c) {
      ctx = c;
      dir = join(c.stateDir, 'access-log');
      state = loadState(dir);
      c.onDoc(ACCESS_DOC, follow);
      c.onConnected(() => void send());
      schedule();
    },
    stop() {
      clearTimeout(timer);
      if (!state) return;
      tick(true);
      for (const t of tails.values()) t.close();
      tails.clear();
    },
  };
}
