/**
 * The events of one server-sent-events endpoint of the API, as `{ event, data }` with `data` parsed
 * from JSON. A refused request throws the API's own error when `explain` reproduces it (a plain
 * GET of the same resource), otherwise the HTTP status.
 */
import type { CliContext } from './context.ts';
import { UsageError } from './output.ts';

export async function* sseEvents(ctx: CliContext, path: string, explain: () => Promise<unknown>): AsyncGenerator<{ event: string; data: unknown }> {
  const { url, token } = ctx.connection();
  const res = await fetch(`${url.replace(/\/+$/, '')}/api/v1${path}`, { headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  if (!res.ok || !res.body) {
    await explain();
    throw new UsageError(`cannot follow ${path}: HTTP ${res.status}`);
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event && data) yield { event, data: JSON.parse(data) as unknown };
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
