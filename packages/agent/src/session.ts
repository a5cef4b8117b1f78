/**
 * The agent's one session with the control center: a WebSocket authenticated by the machine
 * credential. It says hello with the tasks it holds, heartbeats at the period the control center
 * sets (jittered ±10 %), and when the connection drops reconnects with exponential backoff and full
 * jitter (AWS's "full jitter": a random wait between 0 and min(cap, base·2^n)).
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import WebSocket from 'ws';
import { AGENT_PROTOCOL, AGENT_SESSION_PATH, type AgentMessage, type ControlMessage, type MachineFacts } from '@canopy/core';

export type SessionState = 'connecting' | 'connected' | 'backoff' | 'closed';

export interface SessionOptions {
  url: string;
  token: string;
  agentVersion: string;
  facts: () => MachineFacts;
  held: () => { taskId: string; state: number }[];
  onMessage: (msg: ControlMessage) => void;
  onState?: (state: SessionState, detail?: string) => void;
  /** PEM of the CA (or the pinned self-signed certificate) the control center's chain must end in. */
  caPem?: string | undefined;
  /**
   * SHA-256 fingerprint (hex, colons optional) the control center's certificate must have. With it
   * the certificate's name need not match the URL's host; the chain is still checked against `caPem`.
   */
  fingerprint?: string | undefined;
  /** Allow plain HTTP to a host other than loopback. */
  allowInsecure?: boolean | undefined;
  backoffBaseMs?: number;
  backoffCapMs?: number;
}

/** Refuse plain HTTP to anything but loopback unless asked for. */
export function checkTransport(url: string, allowInsecure = false): void {
  const u = new URL(url);
  if (u.protocol === 'https:') return;
  if (u.protocol !== 'http:') throw new Error(`--url must be http(s)://, not ${u.protocol}`);
  const loopback = u.hostname === 'localhost' || u.hostname === '[::1]' || /^127\./.test(u.hostname);
  if (!loopback && !allowInsecure) throw new Error(`refusing plain HTTP to ${u.host}: use https:// or --insecure-http`);
}

/** The SHA-256 fingerprint of a certificate, as lower-case hex without colons. */
export function fingerprintOf(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}

const normalise = (fp: string) => fp.replaceAll(':', '').toLowerCase();

export type Session = ReturnType<typeof createSession>;

/** Build the session; `start()` connects and keeps it up until `close()`. */
export function createSession(opts: SessionOptions) {
  checkTransport(opts.url, opts.allowInsecure);
  const base = opts.backoffBaseMs ?? 500;
  const cap = opts.backoffCapMs ?? 30_000;
  let ws: WebSocket | undefined;
  let state: SessionState = 'closed';
  let attempt = 0;
  let heartbeatMs = 5000;
  let beat: NodeJS.Timeout | undefined;
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;

  const setState = (s: SessionState, detail?: string) => {
    state = s;
    opts.onState?.(s, detail);
  };

  function wsUrl(): string {
    const u = new URL(AGENT_SESSION_PATH, opts.url);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return u.toString();
  }

  // A certificate the chain check rejects while a pin is set is most often an impostor (or a
  // replaced certificate): say so, rather than OpenSSL's bare "self-signed certificate".
  function refusal(err: Error): string | undefined {
    const code = (err as { code?: unknown }).code;
    if (!opts.fingerprint || typeof code !== 'string' || !/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code)) return undefined;
    return `refusing the control center's certificate: it is not the one pinned at enrollment (${err.message}); re-enroll if it was replaced on purpose`;
  }

  function tlsOptions(): WebSocket.ClientOptions {
    const out: WebSocket.ClientOptions = {};
    if (opts.caPem) out.ca = opts.caPem;
    if (opts.fingerprint) {
      const want = normalise(opts.fingerprint);
      // ws hands this to tls.connect, which takes an Error (refuse) or undefined (accept).
      const check = (_host: string, cert: PeerCertificate) =>
        fingerprintOf(cert.raw) === want ? undefined : new Error(`the control center's certificate ${fingerprintOf(cert.raw)} is not the pinned ${want}`);
      out.checkServerIdentity = check as unknown as WebSocket.ClientOptions['checkServerIdentity'];
    }
    return out;
  }

  // Everything but the hello waits for the welcome: the control center reads nothing before it.
  function send(msg: AgentMessage): boolean {
    if (!ws || ws.readyState !== WebSocket.OPEN || (state !== 'connected' && msg.t !== 'hello')) return false;
    ws.send(JSON.stringify(msg));
    return true;
  }

  function scheduleBeat(): void {
    clearTimeout(beat);
    const jitter = heartbeatMs * (0.9 + Math.random() * 0.2);
    beat = setTimeout(() => {
      send({ t: 'heartbeat' });
      scheduleBeat();
    }, jitter);
  }

  function connect(): void {
    if (stopped) return;
    setState('connecting');
    const sock = new WebSocket(wsUrl(), { headers: { authorization: `Bearer ${opts.token}` }, handshakeTimeout: 10_000, ...tlsOptions() });
    ws = sock;
    let failure: string | undefined;
    sock.on('open', () => {
      send({ t: 'hello', protocol: AGENT_PROTOCOL, agentVersion: opts.agentVersion, facts: opts.facts(), tasks: opts.held() as never });
    });
    sock.on('message', (data) => {
      let msg: ControlMessage;
      try {
        msg = JSON.parse(String(data)) as ControlMessage;
      } catch {
        return;
      }
      if (msg.t === 'welcome') {
        attempt = 0;
        heartbeatMs = msg.heartbeatMs;
        setState('connected');
        scheduleBeat();
      }
      if (msg.t === 'close') failure = msg.reason;
      opts.onMessage(msg);
    });
    sock.on('unexpected-response', (_req, res) => {
      failure = `the control center answered ${res.statusCode}`;
      res.resume();
      sock.terminate();
    });
    sock.on('error', (err) => {
      failure ??= refusal(err) ?? err.message;
    });
    sock.on('close', () => {
      clearTimeout(beat);
      if (ws === sock) ws = undefined;
      if (stopped) return setState('closed');
      const wait = Math.random() * Math.min(cap, base * 2 ** attempt++);
      setState('backoff', failure);
      retry = setTimeout(connect, wait);
    });
  }

  return {
    get state() {
      return state;
    },
    send,
    start(): void {
      stopped = false;
      connect();
    },
    /** Drop the connection now (it reconnects by itself): used when the machine's address changes. */
    reconnect(): void {
      ws?.terminate();
    },
    close(): void {
      stopped = true;
      clearTimeout(beat);
      clearTimeout(retry);
      ws?.close();
      setState('closed');
    },
  };
}

/** Read a PEM certificate's SHA-256 fingerprint (for `--pin` at enrollment). */
export function fingerprintOfPem(pem: string): string {
  return fingerprintOf(new X509Certificate(pem).raw);
}
