import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { openEventStream, type EventStream } from './event-stream.ts';

const EVENT = Buffer.from('id: 1\nevent: change\ndata: {}\n\n');

describe('event stream', () => {
  let server: Server;
  let port: number;
  /** The streams the server opened, in order, with whether each has ended. */
  const opened: { stream: EventStream; ended: boolean }[] = [];
  let maxBuffered = 1024 * 1024;

  before(async () => {
    server = createServer((req, res) => {
      const stream = openEventStream(req, res, { maxBuffered, pingMs: 60_000 });
      const entry = { stream, ended: false };
      stream.onEnd(() => (entry.ended = true));
      opened.push(entry);
      stream.write(EVENT);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Send `request` on a raw socket and collect everything until the server closes it. */
  async function raw(request: string, whileOpen?: (socket: net.Socket) => Promise<void>): Promise<string> {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.write(request);
    const closed = once(socket, 'close');
    await whileOpen?.(socket);
    await closed;
    return Buffer.concat(chunks).toString();
  }

  const lastStream = async (): Promise<{ stream: EventStream; ended: boolean }> => {
    while (opened.length === 0) await new Promise((r) => setTimeout(r, 5));
    return opened.at(-1) as { stream: EventStream; ended: boolean };
  };

  test('HTTP/1.1 readers get chunked frames that a strict client parses, and a clean end', async () => {
    opened.length = 0;
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.equal(res.headers.get('transfer-encoding'), 'chunked');
    const entry = await lastStream();
    entry.stream.write(EVENT);
    entry.stream.end();
    assert.equal(await res.text(), EVENT.toString().repeat(2));
    assert.equal(entry.ended, true);
    assert.equal(entry.stream.write(EVENT), false, 'an ended stream refuses writes');
  });

  test('HTTP/1.0 readers get the events unframed, delimited by the close', async () => {
    opened.length = 0;
    const text = await raw('GET / HTTP/1.0\r\n\r\n', async () => (await lastStream()).stream.end());
    const [head, body] = text.split('\r\n\r\n', 2);
    assert.match(head ?? '', /^HTTP\/1\.1 200 OK/);
    assert.doesNotMatch(head ?? '', /transfer-encoding/i);
    assert.equal(body, EVENT.toString());
  });

  test('a reader that leaves ends the stream', async () => {
    opened.length = 0;
    await raw('GET / HTTP/1.1\r\nHost: x\r\n\r\n', async (socket) => {
      await lastStream();
      socket.destroy();
    });
    const entry = await lastStream();
    while (!entry.ended) await new Promise((r) => setTimeout(r, 5));
    assert.equal(entry.stream.write(EVENT), false);
  });

  test('a reader too far behind is cut off instead of buffering without bound', async () => {
    opened.length = 0;
    maxBuffered = 64 * 1024;
    try {
      const socket = net.connect(port, '127.0.0.1');
      socket.pause(); // never reads: the kernel buffers fill, then the server's
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      const entry = await lastStream();
      const big = Buffer.alloc(256 * 1024, 'x');
      let writes = 0;
      while (entry.stream.write(big) && writes < 10_000) {
        writes++;
        await new Promise((r) => setImmediate(r));
      }
      assert.equal(entry.ended, true, `still open after ${writes} writes`);
      socket.destroy();
    } finally {
      maxBuffered = 1024 * 1024;
    }
  });
});
