/**
 * The JSON each robot webhook takes. Text is sent as the robot's plain text (or markdown where
 * plain text is folded): DingTalk `msgtype: markdown`, WeCom `msgtype: markdown`, Feishu
 * `msg_type: text`, Slack `text`, and Canopy's own JSON with every field for scripts. Signing
 * (DingTalk, Feishu) needs an HMAC, which the server adds: this module stays pure.
 */
import type { ReceiverFormat } from './schema.ts';
import type { Notice } from './template.ts';

/** Robots refuse long messages (WeCom: 4,096 bytes of content; DingTalk and Feishu: about 20 KB). */
const LIMIT: Record<ReceiverFormat, number> = { dingtalk: 18_000, wecom: 4_000, feishu: 18_000, slack: 38_000, json: 1_000_000 };

function clip(text: string, bytes: number): string {
  if (Buffer.byteLength(text) <= bytes) return text;
  let out = text.slice(0, bytes);
  while (Buffer.byteLength(out) > bytes - 3) out = out.slice(0, -1);
  return `${out}…`;
}

/** Markdown renderers read one newline as a space; a hard break keeps the message's lines. */
function markdownLines(text: string): string {
  return text.split('\n').join('  \n');
}

/** The request body for `format`. */
export function webhookBody(format: ReceiverFormat, n: Notice, text: string): Record<string, unknown> {
  const body = clip(text, LIMIT[format]);
  const title = `${n.kind === 'resolved' ? 'RESOLVED' : 'FIRING'} ${n.rule} ${n.node}`;
  switch (format) {
    case 'dingtalk':
      return { msgtype: 'markdown', markdown: { title, text: markdownLines(body) } };
    case 'wecom':
      return { msgtype: 'markdown', markdown: { content: markdownLines(body) } };
    case 'feishu':
      return { msg_type: 'text', content: { text: body } };
    case 'slack':
      return { text: body };
    case 'json':
      return {
        version: 1,
        kind: n.kind,
        rule: n.rule,
        severity: n.severity,
        node: n.node,
        origin: n.origin,
        summary: n.summary,
        source: n.source,
        text: body,
        count: n.alerts.length,
        alerts: n.alerts,
      };
  }
}
