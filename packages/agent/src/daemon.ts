/**
 * The agent daemon: the state dir, the worker, the reporter and the session wired together, with
 * one lifecycle (starting → running → stopping → stopped) and signal handling in one place. The
 * tasks' own processes outlive a stop: a restarted agent resumes them.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ControlMessage, MachineFacts } from '@canopy/core';
import { readFacts } from './facts.ts';
import { createReporter } from './reporter.ts';
import { createSession, type SessionState } from './session.ts';
import { openStorage } from './storage.ts';
import { createWorker } from './worker.ts';

export const AGENT_VERSION = '0.1.0';

export interface DaemonOptions {
  url: string;
  token: string;
  stateDir: string;
  hostname?: string | undefined;
  caPem?: string | undefined;
  fingerprint?: string | undefined;
  allowInsecure?: boolean | undefined;
  log?: (msg: string) => void;
}

export type Daemon = ReturnType<typeof startDaemon>;

/** Start the agent; it runs until `stop()`. */
export function startDaemon(opts: DaemonOptions) {
  const log = opts.log ?? ((m: string) => console.log(`${new Date().toISOString()} ${m}`));
  const storage = openStorage(opts.stateDir);
  let facts: MachineFacts = readFacts(opts.hostname);
  let lifecycle: 'running' | 'stopping' | 'stopped' = 'running';

  const reporter = createReporter({ send: (m) => session.send(m) });
  const worker = createWorker({ storage, reporter, hostname: facts.hostname, log });
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
    onState: (s: SessionState, detail?: string) => log(`session ${s}${detail ? `: ${detail}` : ''}`),
  });

  function handle(msg: ControlMessage): void {
    switch (msg.t) {
      case 'welcome':
        reporter.resend();
        worker.reportAll();
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

  // Facts: re-read every minute, sent when they changed, and hourly regardless.
  let sinceSent = 0;
  const factsTimer = setInterval(() => {
    const now = readFacts(opts.hostname);
    if (!isDeepStrictEqual(now, facts) || ++sinceSent >= 60) {
      facts = now;
      sinceSent = 0;
      session.send({ t: 'facts', facts });
    }
  }, 60_000);
  factsTimer.unref();

  worker.resume();
  reporter.start();
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
      await worker.stop();
      reporter.stop();
      session.close();
      lifecycle = 'stopped';
    },
  };
}
