/**
 * The DNS transport: one UDP socket and one TCP listener on the same port, speaking through
 * `dns-packet`. UDP answers that do not fit the client's limit (512 bytes, or its EDNS size) are
 * sent empty with TC set so the client retries over TCP; TCP messages carry RFC 1035's two-byte
 * length prefix and a connection may carry many queries (RFC 7766).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type DecodedPacket, type OptAnswer, type Packet } from 'dns-packet';
import { RCODE, type Responder } from './responder.ts';

/** What this server advertises in EDNS and the most it sends over UDP whatever a client offers. */
const EDNS_SIZE = 1232;
const MAX_UDP = 4096;
const TCP_IDLE_MS = 10_000;
const MAX_TCP_CONNECTIONS = 1024;

export type DnsState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface Transport {
  state(): DnsState;
  /** The port both sockets are bound to (the real one when 0 was asked). */
  port(): number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** UDP + TCP listeners answering with `responder`. */
export function createTransport(responder: Responder, opts: { host: string; port: number; reusePort: boolean; onError: (err: unknown) => void }): Transport {
  let state: DnsState = 'idle';
  let udp: dgram.Socket | undefined;
  let tcp: net.Server | undefined;
  let bound = 0;
  const sockets = new Set<net.Socket>();

  /** The encoded answer to one message, or undefined when it is not worth answering. */
  function answer(msg: Buffer, source: string, limit: number | 'edns'): Buffer | undefined {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      // Never answer what claims to be a response: two servers could bounce errors forever.
      return msg.length >= 12 && (msg[2]! & 0x80) === 0 ? header(msg, RCODE.FORMERR) : undefined;
    }
    if (query.type !== 'query') return undefined;
    const opt = query.additionals?.find((a): a is OptAnswer => a.type === 'OPT');
    let reply: Packet;
    try {
      reply = responder.respond(query, source);
    } catch (err) {
      opts.onError(err);
      reply = { type: 'response', id: query.id ?? 0, flags: RCODE.SERVFAIL | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED), questions: query.questions ?? [] };
    }
    if (opt) reply.additionals = [...(reply.additionals ?? []), { type: 'OPT', name: '.', udpPayloadSize: EDNS_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }];
    const max = limit === 'edns' ? (opt ? Math.min(Math.max(opt.udpPayloadSize, 512), MAX_UDP) : 512) : limit;
    return fit(reply, max);
  }

  function onTcp(socket: net.Socket): void {
    sockets.add(socket);
    socket.setTimeout(TCP_IDLE_MS, () => socket.end());
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const out = answer(pending.subarray(2, 2 + len), socket.remoteAddress ?? '', 65_535);
        pending = pending.subarray(2 + len);
        if (!out) continue;
        const size = Buffer.alloc(2);
        size.writeUInt16BE(out.length);
        socket.write(Buffer.concat([size, out]));
      }
    });
  }

  async function listen(port: number): Promise<void> {
    const type = net.isIPv6(opts.host) ? 'udp6' : 'udp4';
    const u = dgram.createSocket({ type, reuseAddr: false, reusePort: opts.reusePort });
    u.on('message', (msg, rinfo) => {
      const out = answer(msg, rinfo.address, 'edns');
      if (out) u.send(out, rinfo.port, rinfo.address);
    });
    u.on('error', opts.onError);
    await new Promise<void>((resolve, reject) => {
      u.once('error', reject);
      u.bind(port, opts.host, () => {
        u.off('error', reject);
        resolve();
      });
    });
    const p = u.address().port;
    const t = net.createServer(onTcp);
    t.maxConnections = MAX_TCP_CONNECTIONS;
    try {
      await new Promise<void>((resolve, reject) => {
        t.once('error', reject);
        t.listen({ port: p, host: opts.host, reusePort: opts.reusePort }, () => {
          t.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      u.close();
      throw err;
    }
    t.on('error', opts.onError);
    udp = u;
    tcp = t;
    bound = p;
  }

  return {
    state: () => state,
    port: () => bound,

    async start(): Promise<void> {
      if (state !== 'idle') throw new Error(`the DNS server cannot start from state '${state}'`);
      state = 'starting';
      try {
        // Port 0 picks a free UDP port; the same number may be taken for TCP, so try a few.
        for (let attempt = 0; ; attempt++) {
          try {
            await listen(opts.port);
            break;
          } catch (err) {
            if (opts.port !== 0 || attempt >= 8 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
          }
        }
        state = 'running';
      } catch (err) {
        state = 'stopped';
        throw err;
      }
    },

    async stop(): Promise<void> {
      if (state !== 'running') {
        state = state === 'idle' ? 'stopped' : state;
        return;
      }
      state = 'stopping';
      const closedTcp = new Promise<void>((resolve) => (tcp ? tcp.close(() => resolve()) : resolve()));
      // An answer is one message: nothing to drain but the TCP connections' idle waits.
      for (const s of sockets) s.end();
      for (const s of sockets) s.destroy();
      await Promise.all([closedTcp, new Promise<void>((resolve) => (udp ? udp.close(() => resolve()) : resolve()))]);
      state = 'stopped';
    },
  };
}

/** `reply` encoded, or, when it is longer than `max`, the same header and question with TC set and no records. */
function fit(reply: Packet, max: number): Buffer {
  const full = dnsPacket.encode(reply);
  if (full.length <= max) return full;
  const opt = reply.additionals?.filter((a) => a.type === 'OPT') ?? [];
  return dnsPacket.encode({ ...reply, flags: (reply.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [], additionals: opt });
}

/** A bare header answering an undecodable message: same id, QR set, the given rcode. */
function header(msg: Buffer, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(msg.readUInt16BE(0), 0);
  out.writeUInt16BE(0x8000 | rcode, 2);
  return out;
}
