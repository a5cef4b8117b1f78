/**
 * The supervisor's agent module: every change of a supervised app goes up on the `processes`
 * stream (all of them again after each reconnection, so the control center's view heals), a drain
 * is acknowledged before the app is signalled, and `process.log` serves a log's tail, followed live.
 */
import { ProcessLogParams, type ProcessLive } from '@canopy/core';
import type { AgentModule, ModuleContext } from '../modules.ts';
import { readFrom, tail } from './logs.ts';
import { supervisorAt } from './supervisor.ts';

export const PROCESSES_STREAM = 'processes';
export const PROCESS_LOG_STREAM = 'process.log';

/** How long a stop waits for the control center to take the drain before going on without it. */
const DRAIN_ACK_MS = 5_000;

/** The module; the daemon lists it in MODULES. */
export function supervisorModule(): AgentModule {
  let unsubscribe: (() => void) | undefined;
  const follows = new Set<NodeJS.Timeout>();

  function start(ctx: ModuleContext): void {
    const s = supervisorAt(ctx.stateDir, ctx.log);
    const push = (items: ProcessLive[], full: boolean) => ctx.push(PROCESSES_STREAM, { full, items });
    unsubscribe = s.onChange((live, drain) => {
      if (!ctx.connected()) return;
      const sent = push([live], false);
      if (!drain) return void sent.catch(() => {}); // all states go again on reconnection
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((r) => (timer = setTimeout(r, DRAIN_ACK_MS)));
      return Promise.race([sent.catch((err: unknown) => ctx.log(`drain not acknowledged: ${String(err)}`)), late]).finally(() => clearTimeout(timer));
    });
    ctx.onConnected(() => void push(s.list(), true).catch((err: unknown) => ctx.log(`pushing process states: ${String(err)}`)));
    if (ctx.connected()) void push(s.list(), true).catch(() => {});

    ctx.serve(PROCESS_LOG_STREAM, (params, publish) => {
      const p = ProcessLogParams.safeParse(params);
      if (!p.success) {
        publish({ error: `bad log request: ${p.error.issues[0]?.message ?? 'invalid'}` }, true);
        return () => {};
      }
      const dir = s.logDir(p.data.nodeId);
      const first = tail(dir, p.data.stream, p.data.lines);
      publish({ text: first.text }, !p.data.follow);
      if (!p.data.follow) return () => {};
      let offset = first.offset;
      const timer = setInterval(() => {
        const next = readFrom(dir, p.data.stream, offset);
        offset = next.offset;
        if (next.text) publish({ text: next.text });
      }, 250);
      follows.add(timer);
      return () => {
        clearInterval(timer);
        follows.delete(timer);
      };
    });
  }

  return {
    name: 'supervisor',
    start,
    // The supervisor itself stays: a task's shutdown may still be under way, and its timers do not hold the process.
    stop() {
      unsubscribe?.();
      for (const t of follows) clearInterval(t);
      follows.clear();
    },
  };
}
