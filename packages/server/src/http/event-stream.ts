/**
 * A `text/event-stream` response written straight to its socket.
 *
 * Node's `ServerResponse.write` corks the socket and flushes it on the next tick, framing each
 * chunk as three buffers. That costs little for one response, but a change fanned out to 10,000
 * watchers then queues 10,000 writes that only start once the whole fan-out loop has run, each
 * doing more work than it needs. Here the head goes out through the response (so Node keeps its
 * connection bookkeeping), and every event after it is one already-framed buffer handed to the
 * socket, which writes it at once. Frames are cached per event buffer, so thousands of streams
 * sending the same shared event share one framed copy too.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');
const EMPTY = Buffer.alloc(0);
/** Chunked frames of shared event buffers, kept as long as the event buffer lives. */
const frames = new WeakMap<Buffer, Buffer>();

export interface EventStreamOptions {
  /** A stream whose reader is this many bytes behind is cut off (the reader resumes later). */
  maxBuffered: number;
  /** A comment is sent this often so proxies do not close an idle stream. */
  pingMs: number;
}

export interface EventStream {
  /** Queue `bytes` (whole SSE events). Returns false once the stream is gone. */
  write(bytes: Buffer): boolean;
  /** Close the stream (the response ends and the connection closes). */
  end(): void;
  /** Run `listener` once the stream has ended, whichever side ended it (at once if it has). */
  onEnd(listener: () => void): void;
}

const PING = Buffer.from(': ping\n\n');

/** Send the head of an event stream on `res` and return a writer for its events. */
export function openEventStream(req: IncomingMessage, res: ServerResponse, opts: EventStreamOptions): EventStream {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    // The stream ends only by closing the connection, so no reader waits for a reuse that never comes.
    connection: 'close',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  const socket = req.socket as Socket;
  // An HTTP/1.0 reader gets the body unframed, delimited by the connection's close.
  const chunked = res.chunkedEncoding;
  let ended = false;
  const endListeners: (() => void)[] = [];

  const frame = (bytes: Buffer): Buffer => {
    if (!chunked) return bytes;
    let f = frames.get(bytes);
    if (!f) frames.set(bytes, (f = Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, CRLF])));
    return f;
  };

  const stream: EventStream = {
    write(bytes) {
      if (ended || socket.destroyed) return false;
      if (socket.writableLength > opts.maxBuffered) {
        socket.destroy();
        stream.end();
        return false;
      }
      socket.write(frame(bytes));
      return true;
    },
    end() {
      if (ended) return;
      ended = true;
      clearInterval(ping);
      if (!socket.destroyed) socket.end(chunked ? LAST_CHUNK : EMPTY);
      for (const listener of endListeners.splice(0)) listener();
    },
    onEnd(listener) {
      if (ended) listener();
      else endListeners.push(listener);
    },
  };
  const ping = setInterval(() => stream.write(PING), opts.pingMs);
  ping.unref();
  if (socket.destroyed) stream.end();
  else socket.once('close', () => stream.end());
  return stream;
}
