/**
 * A small `text/event-stream` parser, following the WHATWG HTML "event stream interpretation":
 * lines end in CRLF, LF or CR; `field: value` (one leading space dropped); `data` lines join with
 * LF; a blank line dispatches; the last event id persists across events; `:` lines are comments.
 * Written by hand so the SDK needs no dependency; it is fed text chunks cut anywhere.
 */

export interface SseEvent {
  /** `message` unless an `event:` field named it. */
  event: string;
  data: string;
  /** The last `id:` seen on the stream so far (it persists across events). */
  lastEventId: string;
}

export interface SseHandlers {
  onEvent(event: SseEvent): void;
  /** A comment line (keep-alive pings); optional. */
  onComment?(text: string): void;
  /** A `retry:` field, in milliseconds; optional. */
  onRetry?(ms: number): void;
}

export interface SseParser {
  /** Feed the next piece of the stream. */
  push(chunk: string): void;
}

/** A parser calling `handlers` as events complete. */
export function createSseParser(handlers: SseHandlers): SseParser {
  let buffer = '';
  let data: string[] = [];
  let event = '';
  let lastEventId = '';

  function dispatch(): void {
    if (data.length > 0) handlers.onEvent({ event: event || 'message', data: data.join('\n'), lastEventId });
    data = [];
    event = '';
  }

  function line(text: string): void {
    if (text === '') return dispatch();
    if (text.startsWith(':')) return handlers.onComment?.(text.slice(1).trimStart());
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        data.push(value);
        break;
      case 'event':
        event = value;
        break;
      case 'id':
        if (!value.includes('\0')) lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) handlers.onRetry?.(Number(value));
        break;
      default:
      // Unknown fields are ignored, as the spec says.
    }
  }

  return {
    push(chunk: string): void {
      buffer += chunk;
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer.charCodeAt(i);
        if (c !== 10 && c !== 13) continue;
        // A CR at the very end may be the first half of a CRLF still on its way.
        if (c === 13 && i === buffer.length - 1) break;
        line(buffer.slice(start, i));
        if (c === 13 && buffer.charCodeAt(i + 1) === 10) i++;
        start = i + 1;
      }
      buffer = buffer.slice(start);
    },
  };
}
