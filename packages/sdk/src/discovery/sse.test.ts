import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSseParser, type SseEvent } from './sse.ts';

function parse(chunks: string[]): { events: SseEvent[]; comments: string[]; retries: number[] } {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const retries: number[] = [];
  const p = createSseParser({ onEvent: (e) => events.push(e), onComment: (c) => comments.push(c), onRetry: (ms) => retries.push(ms) });
  for (const c of chunks) p.push(c);
  return { events, comments, retries };
}

describe('SSE parser', () => {
  test('reads events with id, type and multi-line data, and keeps the last id across events', () => {
    const { events } = parse(['id: 7\nevent: snapshot\ndata: {"a":\ndata: 1}\n\n', 'event: change\ndata: x\n\n']);
    assert.deepEqual(events, [
      { event: 'snapshot', data: '{"a":\n1}', lastEventId: '7' },
      { event: 'change', data: 'x', lastEventId: '7' },
    ]);
  });

  test('gives the same events however the stream is cut, with LF, CRLF or CR line ends', () => {
    const text = 'retry: 2000\r\n\r\n: ping\rid: 42\revent: change\r\ndata:no-space\n\ndata\n\n';
    const whole = parse([text]);
    const bytewise = parse([...text]);
    assert.deepEqual(bytewise, whole);
    assert.deepEqual(whole.events, [
      { event: 'change', data: 'no-space', lastEventId: '42' },
      { event: 'message', data: '', lastEventId: '42' },
    ]);
    assert.deepEqual(whole.comments, ['ping']);
    assert.deepEqual(whole.retries, [2000]);
  });

  test('an event without data is not dispatched, and an unfinished one waits for its blank line', () => {
    const { events } = parse(['event: change\nid: 3\n\n', 'data: half']);
    assert.deepEqual(events, []);
  });
});
