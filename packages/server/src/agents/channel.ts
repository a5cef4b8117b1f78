/**
 * What flows over an agent session besides tasks, for the capabilities built on the agent:
 * - documents: per-machine desired state that is not a task (SSH access, a cron table, collect
 *   rules), computed by a provider from its read model and sent after the welcome and on refresh,
 *   only when it changed;
 * - pushes: data from the agent (metrics, access counts, login events), acknowledged once the
 *   capability's handler took it, so the agent keeps what was not taken;
 * - subscriptions: a live stream from the agent (a log followed), closed by either side.
 */
import { randomUUID } from 'node:crypto';
import { StreamName, type AgentMessage, type ControlMessage } from '@canopy/core';

/** The session fields the channel keeps. */
export interface ChannelSession {
  machineId: number;
  hostname: string;
  helloDone: boolean;
  /** Document name → its JSON as last sent. */
  docs: Map<string, string>;
  /** Subscription id → where its data goes. */
  subs: Map<string, (data: unknown, done: boolean) => void>;
}

export type DocProvider = (machineId: number) => unknown | Promise<unknown>;
export type PushHandler = (from: { machineId: number; hostname: string }, data: unknown) => void | Promise<void>;

/** The channel over the sessions a dispatcher holds. */
export function createChannel<S extends ChannelSession>(deps: { sessions: Map<number, S>; send: (s: S, msg: ControlMessage) => void; onError: (err: unknown) => void }) {
  const { sessions, send, onError } = deps;
  const providers = new Map<string, DocProvider>();
  const handlers = new Map<string, PushHandler>();

  async function sendDoc(s: S, name: string, provider: DocProvider): Promise<void> {
    const data = (await provider(s.machineId)) ?? null;
    const json = JSON.stringify(data);
    if (s.docs.get(name) === json || sessions.get(s.machineId) !== s) return;
    s.docs.set(name, json);
    send(s, { t: 'doc', name, data });
  }

  function refresh(list: Iterable<S>, names: Iterable<string>): Promise<void> {
    const work: Promise<void>[] = [];
    for (const name of names) {
      const provider = providers.get(name);
      if (!provider) continue;
      for (const s of list) if (s.helloDone) work.push(sendDoc(s, name, provider).catch(onError));
    }
    return Promise.all(work).then(() => {});
  }

  function pushed(s: S, msg: Extract<AgentMessage, { t: 'push' }>): void {
    const handler = handlers.get(msg.stream);
    if (!handler) return send(s, { t: 'pushed', seq: msg.seq, error: `the control center takes no "${msg.stream}" stream` });
    Promise.resolve()
      .then(() => handler({ machineId: s.machineId, hostname: s.hostname }, msg.data))
      .then(
        () => send(s, { t: 'pushed', seq: msg.seq }),
        (err: unknown) => send(s, { t: 'pushed', seq: msg.seq, error: err instanceof Error ? err.message : String(err) }),
      );
  }

  function published(s: S, msg: Extract<AgentMessage, { t: 'publish' }>): void {
    const to = s.subs.get(msg.sub);
    if (!to) return;
    if (msg.done) s.subs.delete(msg.sub);
    to(msg.data, msg.done === true);
  }

  return {
    /** Register document `name`; sessions that said hello before get it now. */
    provideDoc(name: string, provider: DocProvider): void {
      StreamName.parse(name);
      providers.set(name, provider);
      void refresh(sessions.values(), [name]);
    },
    /** Send document `name` again to these machines' sessions here (all when omitted), if it changed. */
    refreshDoc(name: string, machineIds?: Iterable<number>): Promise<void> {
      const list: S[] = [];
      if (machineIds === undefined) list.push(...sessions.values());
      else for (const id of machineIds) {
        const s = sessions.get(id);
        if (s) list.push(s);
      }
      return refresh(list, [name]);
    },
    /** Take pushes of `stream` from agents. */
    onPush(stream: string, handler: PushHandler): void {
      StreamName.parse(stream);
      handlers.set(stream, handler);
    },
    /** A live stream from the agent of `machineId`; undefined when it holds no session here. */
    subscribe(machineId: number, stream: string, params: unknown, onData: (data: unknown, done: boolean) => void): { close(): void } | undefined {
      const s = sessions.get(machineId);
      if (!s?.helloDone) return undefined;
      const sub = randomUUID();
      s.subs.set(sub, onData);
      send(s, { t: 'subscribe', sub, stream, params });
      return {
        close: () => {
          if (s.subs.delete(sub)) send(s, { t: 'unsubscribe', sub });
        },
      };
    },
    /** After the welcome: every document. */
    greeted: (list: S[]) => refresh(list, providers.keys()),
    pushed,
    published,
    /** A session ended: its subscriptions end too. */
    dropped(s: S): void {
      const subs = [...s.subs.values()];
      s.subs.clear();
      for (const to of subs) to(null, true);
    },
  };
}
