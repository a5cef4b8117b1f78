/**
 * Agent modules: the parts of the agent that are not a task kind (SSH access, cron, metrics, access
 * logs…). Each gets per-machine documents from the control center (kept in the state dir, so a
 * restarted agent with no control center still has them), pushes data up (acknowledged), and may
 * serve live streams the control center subscribes to (a log followed).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StreamName, type AgentMessage, type ControlMessage } from '@canopy/core';
import type { AgentSettings } from './exec/index.ts';

/** One module; the daemon starts it after the state dir is open and stops it before the session closes. */
export interface AgentModule {
  name: string;
  start(ctx: ModuleContext): void | Promise<void>;
  stop(): void | Promise<void>;
}

/** Modules are made per daemon (their state lives in the closure). */
export type AgentModuleFactory = () => AgentModule;

/** What a module may use. */
export interface ModuleContext {
  readonly stateDir: string;
  readonly hostname: string;
  readonly settings: AgentSettings;
  log(msg: string): void;
  /** The latest document `name`, or undefined when the control center never sent one. */
  doc(name: string): unknown;
  /** Follow document `name`; called at once with the persisted one, if any. */
  onDoc(name: string, fn: (data: unknown) => void): void;
  /** Send data on `stream`; resolves once the control center took it, rejects when not connected or refused. */
  push(stream: string, data: unknown): Promise<void>;
  connected(): boolean;
  /** Called on every (re)connection, after the welcome. */
  onConnected(fn: () => void): void;
  /** Serve live stream `stream`: `fn` starts it and returns what stops it. */
  serve(stream: string, fn: (params: unknown, publish: (data: unknown, done?: boolean) => void) => () => void): void;
}

/** The modules' side of the session: documents, pushes, subscriptions. */
export function createModuleHost(opts: { stateDir: string; hostname: string; settings: AgentSettings; log: (msg: string) => void; send: (msg: AgentMessage) => boolean; connected: () => boolean }) {
  const docsDir = join(opts.stateDir, 'docs');
  mkdirSync(docsDir, { recursive: true, mode: 0o700 });
  const docs = new Map<string, unknown>();
  for (const f of readdirSync(docsDir)) {
    if (!f.endsWith('.json')) continue;
    try {
      docs.set(f.slice(0, -5), JSON.parse(readFileSync(join(docsDir, f), 'utf8')));
    } catch {
      // A torn file (power loss mid-write cannot make one: writes are renamed into place); ignore.
    }
  }
  const followers = new Map<string, ((data: unknown) => void)[]>();
  const onConnect: (() => void)[] = [];
  const streams = new Map<string, (params: unknown, publish: (data: unknown, done?: boolean) => void) => () => void>();
  const live = new Map<string, () => void>();
  const waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  let seq = 0;
  let modules: AgentModule[] = [];

  const safely = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      opts.log(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const ctx: ModuleContext = {
    stateDir: opts.stateDir,
    hostname: opts.hostname,
    settings: opts.settings,
    log: opts.log,
    doc: (name) => docs.get(name),
    onDoc(name, fn) {
      followers.set(name, [...(followers.get(name) ?? []), fn]);
      if (docs.has(name)) fn(docs.get(name));
    },
    push(stream, data) {
      const n = ++seq;
      return new Promise((resolve, reject) => {
        if (!StreamName.safeParse(stream).success) return reject(new Error(`"${stream}" is not a stream name`));
        if (!opts.send({ t: 'push', seq: n, stream, data })) return reject(new Error('not connected to the control center'));
        waiting.set(n, { resolve, reject });
      });
    },
    connected: opts.connected,
    onConnected: (fn) => void onConnect.push(fn),
    serve(stream, fn) {
      StreamName.parse(stream);
      streams.set(stream, fn);
    },
  };

  function publish(sub: string, data: unknown, done = false): void {
    opts.send({ t: 'publish', sub, data, ...(done ? { done } : {}) });
  }

  return {
    ctx,
    async start(factories: AgentModuleFactory[]): Promise<void> {
      modules = factories.map((f) => f());
      for (const m of modules) await m.start(ctx);
    },
    async stop(): Promise<void> {
      for (const m of modules.toReversed()) await Promise.resolve(m.stop()).catch((err: unknown) => opts.log(`stopping ${m.name}: ${String(err)}`));
      modules = [];
    },
    /** A control message for the modules; false when it is not one. */
    handle(msg: ControlMessage): boolean {
      switch (msg.t) {
        case 'doc': {
          if (!StreamName.safeParse(msg.name).success) return true;
          const path = join(docsDir, `${msg.name}.json`);
          writeFileSync(`${path}.tmp`, JSON.stringify(msg.data), { mode: 0o600 });
          renameSync(`${path}.tmp`, path);
          docs.set(msg.name, msg.data);
          for (const fn of followers.get(msg.name) ?? []) safely(`document ${msg.name}`, () => fn(msg.data));
          return true;
        }
        case 'pushed': {
          const w = waiting.get(msg.seq);
          waiting.delete(msg.seq);
          if (msg.error === undefined) w?.resolve();
          else w?.reject(new Error(msg.error));
          return true;
        }
        case 'subscribe': {
          const fn = streams.get(msg.stream);
          if (!fn) {
            publish(msg.sub, { error: `this agent serves no "${msg.stream}" stream` }, true);
            return true;
          }
          safely(`stream ${msg.stream}`, () => {
            const stop = fn(msg.params, (data, done) => {
              if (done) live.delete(msg.sub);
              publish(msg.sub, data, done);
            });
            live.set(msg.sub, stop);
          });
          return true;
        }
        case 'unsubscribe':
          live.get(msg.sub)?.();
          live.delete(msg.sub);
          return true;
        default:
          return false;
      }
    },
    connected(): void {
      for (const fn of onConnect) safely('on connect', fn);
    },
    /** The session dropped: pushes in flight fail, live streams stop. */
    disconnected(): void {
      for (const w of waiting.values()) w.reject(new Error('the session with the control center dropped'));
      waiting.clear();
      for (const stop of live.values()) safely('stopping a stream', stop);
      live.clear();
    },
  };
}
