/**
 * The agent daemon: the state dir, the worker, the reporter and the session wired together, with
 * one lifecycle (starting → running → stopping → stopped) and signal handling in one place. The
 * tasks' own processes outlive a stop: a restarted agent resumes them.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ControlMessage, MachineFacts } from '@canopy/core';
import type { AgentSettings } from './exec/index.ts';
import { readFacts } from './facts.ts';
import { accessLogModule } from './access-log/module.ts';
import { cronModule } from './cron/index.ts';
import { metricsModule } from './metrics/module.ts';
import { createModuleHost, type AgentModuleFactory } from './modules.ts';
import { createReporter } from './reporter.ts';
import { createSession, type SessionState } from './session.ts';
import { openStorage } from './storage.ts';
import { supervisorModule } from './supervisor/module.ts';
import { sshModule } from './ssh/module.ts';
import { createWorker } from './worker.ts';

export const AGENT_VERSION = '0.1.0';

/** The agent's modules (modules.ts), started in this order and stopped in the reverse one. */
const MODULES: AgentModuleFactory[] = [supervisorModule, cronModule, accessLogModule, sshModule, metricsModule];

export interface DaemonOptions {
  url: string;
  token: string;
  stateDir: string;
  hostname?: string | undefined;
  caPem?: string | undefined;
  fingerprint?: string | undefined;
  allowInsecure?: boolean | undefined;
  /** Settings controllers read (boot id file, reboot command and grace). */
  settings?: AgentSettings | undefined;
  /** The modules to run instead of the built-in ones (tests). */
  modules?: AgentModuleFactory[] | undefined;
  /** Seconds between facts checks (sent when they changed, and hourly regardless); default 60. */
  factsCheckSeconds?: number | undefined;
  log?: (msg: string) => void;
}

export type Daemon = ReturnType<typeof startDaemon>;

/** Start the agent; it runs until `stop()`. */
export function startDaemon(opts: DaemonOptions) {
  const log = opts.log ?? ((m: string) => console.log(`${new Date().toISOString()} ${m}`));
  const storage = openStorage(opts.stateDir);
  const factsOpts = { bootIdFile: opts.settings?.bootIdFile };
  let facts: MachineFacts = readFacts(opts.hostname, factsOpts);
  let lifecycle: 'running' | 'stopping' | 'stopped' = 'running';

  const reporter = createReporter({ send: (m) => session.send(m) });
  const controlCenter = { url: opts.url, token: opts.token, caPem: opts.caPem };
  const worker = createWorker({ storage, reporter, hostname: facts.hostname, settings: opts.settings, controlCenter, log });
  const session = createSession({
    url: opts.url,
    token: opts.token,
    agentVersion: AGENT_VERSION,
    facts: () => facts,
    held: () => worker.held(),
    caPem: opts.caPem,
    fingerprint: opts.fingerprint,
    allowInsecure: opts.allowInsecure,
    onMessage: handle,
    onState: (s: SessionState, detail?: string) => {
      log(`session ${s}${detail ? `: ${detail}` : ''}`);
      if (s !== 'connected') modules.disconnected();
    },
  });
  const modules = createModuleHost({
    stateDir: opts.stateDir,
    hostname: facts.hostname,
    settings: opts.settings ?? {},
    log,
    send: (m) => session.send(m),
    connected: () => session.state === 'connected',
  });

  function handle(msg: ControlMessage): void {
    if (modules.handle(msg)) return;
    switch (msg.t) {
      case 'welcome':
        reporter.resend();
        worker.reportAll();
        modules.connected();
        break;
      case 'assign':
        worker.assign(msg.full, msg.tasks, msg.removed);
        break;
      case 'ack':
        reporter.ack(msg.seq);
        break;
      case 'close':
        log(`the control center closed the session: ${msg.reason}`);
        break;
    }
  }

  // Facts: re-read every minute (by default), sent when they changed, and hourly regardless.
  const checkMs = (opts.factsCheckSeconds ?? 60) * 1000;
  let sinceSent = 0;
  const factsTimer = setInterval(() => {
    const now = readFacts(opts.hostname, factsOpts);
    if (!isDeepStrictEqual(now, facts) || ++sinceSent * checkMs >= 3_600_000) {
      facts = now;
      sinceSent = 0;
      session.send({ t: 'facts', facts });
    }
  }, checkMs);
  factsTimer.unref();

  worker.resume();
  reporter.start();
  const started = modules.start(opts.modules ?? MODULES).catch((err: unknown) => log(`a module failed to start: ${err instanceof Error ? err.message : String(err)}`));
  session.start();

  return {
    get state() {
      return lifecycle;
    },
    session,
    /** Stop taking work, send what is queued, close the session. */
    async stop(): Promise<void> {
      if (lifecycle !== 'running') return;
      lifecycle = 'stopping';
      clearInterval(factsTimer);
      await started;
      await modules.stop();
      await worker.stop();
      reporter.stop();
      session.close();
      lifecycle = 'stopped';
    },
  };
}
