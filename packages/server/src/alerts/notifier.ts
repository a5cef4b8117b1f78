/**
 * Notices go out grouped: every alert of one rule reaching machines through one node, changing the
 * same way within the window, is one message per receiver — forty machines of a rack losing power
 * are one message naming forty (Nightingale refuses to merge, #1064). Webhooks are POSTed with the
 * robot's JSON, signed where the robot asks (DingTalk: `timestamp` and `sign` query parameters;
 * Feishu: `timestamp` and `sign` in the body), retried a few times on failure.
 */
import { createHmac } from 'node:crypto';
import { noticeText, webhookBody, type AlertReceiverInput, type Notice, type NoticeAlert, type NoticeKind } from '@canopy/core';
import type { TreeModel } from '../tree/index.ts';
import type { AlertModel } from './model.ts';

/** One alert's part of a notice. */
export interface NoticeItem {
  kind: NoticeKind;
  rule: string;
  severity: string;
  viaNodeId: number;
  origin: string;
  summary: string;
  receivers: readonly string[];
  source: Notice['source'];
  alert: NoticeAlert;
}

export interface NotifierOptions {
  /** How long a group collects alerts before it is sent; default 10 s. */
  groupWindowMs?: number | undefined;
  /** Per request; default 5 s. */
  timeoutMs?: number | undefined;
  /** Attempts per message; default 3. */
  attempts?: number | undefined;
}

export type Notifier = ReturnType<typeof createNotifier>;

/** DingTalk's signature: HMAC-SHA256 of "timestamp\nsecret" keyed by the secret, base64. */
export function dingtalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

/** Feishu's signature: HMAC-SHA256 keyed by "timestamp\nsecret" over nothing, base64. */
export function feishuSign(secret: string, timestampS: number): string {
  return createHmac('sha256', `${timestampS}\n${secret}`).update('').digest('base64');
}

/** The request for one receiver: URL (signed) and body. */
export function webhookRequest(r: AlertReceiverInput, n: Notice, nowMs: number): { url: string; body: Record<string, unknown> } {
  const body = webhookBody(r.format, n, noticeText(n, r.template));
  let url = r.url;
  if (r.secret !== undefined && r.format === 'dingtalk') {
    const u = new URL(r.url);
    u.searchParams.set('timestamp', String(nowMs));
    u.searchParams.set('sign', dingtalkSign(r.secret, nowMs));
    url = u.toString();
  }
  if (r.secret !== undefined && r.format === 'feishu') {
    const t = Math.floor(nowMs / 1000);
    Object.assign(body, { timestamp: String(t), sign: feishuSign(r.secret, t) });
  }
  return { url, body };
}

/** Build the notifier over the alert model's receivers. */
export function createNotifier(deps: { model: AlertModel; tree: TreeModel; now: () => number; onError: (err: unknown) => void }, opts: NotifierOptions = {}) {
  const windowMs = opts.groupWindowMs ?? 10_000;
  const groups = new Map<string, { items: NoticeItem[]; timer: NodeJS.Timeout }>();
  const inflight = new Set<Promise<void>>();
  let sent = 0;

  async function post(url: string, body: unknown): Promise<void> {
    let last: unknown;
    for (let i = 0; i < (opts.attempts ?? 3); i++) {
      try {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(opts.timeoutMs ?? 5000), redirect: 'error' });
        await res.arrayBuffer();
        if (res.ok) return;
        last = new Error(`webhook answered ${res.status}`);
        if (res.status < 500 && res.status !== 429) break;
      } catch (err) {
        last = err;
      }
      await new Promise((r) => setTimeout(r, 200 * 2 ** i));
    }
    throw last;
  }

  function send(items: NoticeItem[]): void {
    const first = items[0]!;
    const via = deps.tree.get(first.viaNodeId);
    if (!via) return;
    const notice: Notice = { kind: first.kind, rule: first.rule, severity: first.severity, node: via.path, origin: first.origin, summary: first.summary, source: first.source, alerts: items.map((i) => i.alert).sort((a, b) => (a.machine < b.machine ? -1 : a.machine > b.machine ? 1 : 0)) };
    for (const name of first.receivers) {
      const found = deps.model.receiver(via, name);
      if (!found) {
        deps.onError(new Error(`alert ${first.rule} on ${via.path}: no receiver named ${name} on the node or above`));
        continue;
      }
      const req = webhookRequest(found.row.spec, notice, deps.now());
      const p = post(req.url, req.body).then(() => void sent++, (err: unknown) => deps.onError(new Error(`alert ${first.rule} on ${via.path}: receiver ${name}: ${String(err)}`)));
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
  }

  function flushGroup(key: string): void {
    const g = groups.get(key);
    if (!g) return;
    groups.delete(key);
    clearTimeout(g.timer);
    send(g.items);
  }

  return {
    /** Add one alert to its group; the group goes out when its window ends. */
    enqueue(item: NoticeItem): void {
      if (item.receivers.length === 0) return;
      const key = JSON.stringify([item.kind, item.viaNodeId, item.rule, item.receivers]);
      const g = groups.get(key);
      if (g) g.items.push(item);
      else groups.set(key, { items: [item], timer: setTimeout(() => flushGroup(key), windowMs) });
    },
    /** Send every open group now and wait for the requests (stop, tests). */
    async flush(): Promise<void> {
      for (const key of [...groups.keys()]) flushGroup(key);
      await Promise.all([...inflight]);
    },
    /** Messages delivered so far. */
    sent: () => sent,
  };
}
