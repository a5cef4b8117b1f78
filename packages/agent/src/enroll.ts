/**
 * Enrollment: the install request's one-time token is exchanged for this machine's credential. Over
 * HTTPS without --ca, the certificate seen now is pinned (trust on first use, as ssh does): its
 * fingerprint and the chain's top are saved with the credential and required from then on.
 */
import { connect, type PeerCertificate } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { MachineFacts } from '@canopy/core';
import { readFacts } from './facts.ts';
import { checkTransport, fingerprintOf } from './session.ts';
import type { Credential, Storage } from './storage.ts';

export interface EnrollOptions {
  url: string;
  token: string;
  storage: Storage;
  hostname?: string | undefined;
  caPem?: string | undefined;
  allowInsecure?: boolean | undefined;
}

function toPem(raw: Buffer): string {
  return new X509Certificate(raw).toString();
}

/** The certificate the server at `url` presents, and the top of its chain. */
async function peerCertificates(url: URL): Promise<{ leaf: Buffer; top: Buffer }> {
  return await new Promise((resolve, reject) => {
    const sock = connect({ host: url.hostname, port: Number(url.port || 443), servername: url.hostname, rejectUnauthorized: false }, () => {
      let cert: PeerCertificate & { issuerCertificate?: PeerCertificate } = sock.getPeerCertificate(true);
      const leaf = cert.raw;
      while (cert.issuerCertificate && cert.issuerCertificate !== cert) cert = cert.issuerCertificate;
      sock.end();
      resolve({ leaf, top: cert.raw });
    });
    sock.once('error', reject);
  });
}

/** Enroll this machine; saves and returns the credential. */
export async function enroll(opts: EnrollOptions): Promise<Credential> {
  checkTransport(opts.url, opts.allowInsecure);
  const url = new URL(opts.url);
  let pin: { fingerprint: string; caPem: string } | undefined;
  if (url.protocol === 'https:' && !opts.caPem) {
    const { leaf, top } = await peerCertificates(url);
    pin = { fingerprint: fingerprintOf(leaf), caPem: toPem(top) };
  }
  const facts: MachineFacts = readFacts(opts.hostname);
  const res = await httpsPost(new URL('/api/v1/agent/enroll', url), { token: opts.token, facts }, opts.caPem ?? pin?.caPem, pin?.fingerprint);
  const body = (await res.json().catch(() => ({}))) as { hostname?: string; token?: string; detail?: string; title?: string };
  if (!res.ok || !body.token || !body.hostname) throw new Error(body.detail ?? body.title ?? `the control center answered ${res.status}`);
  const credential: Credential = { url: url.origin, token: body.token, hostname: body.hostname, ...(pin ?? {}), ...(opts.caPem ? { caPem: opts.caPem } : {}) };
  opts.storage.writeCredential(credential);
  return credential;
}

/**
 * POST JSON, trusting `caPem` for HTTPS (fetch has no per-request CA, so this uses node:https).
 * With `pinned`, the certificate must be the one just pinned (the name need not match, as in the
 * session); with a CA alone, the usual name check applies.
 */
async function httpsPost(url: URL, body: unknown, caPem: string | undefined, pinned?: string): Promise<Response> {
  if (url.protocol === 'http:' || !caPem) return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const { request } = await import('node:https');
  const samePin = (_host: string, cert: PeerCertificate) => (fingerprintOf(cert.raw) === pinned ? undefined : new Error(`the control center's certificate changed during enrollment (${fingerprintOf(cert.raw)}, pinned ${pinned})`));
  return await new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ca: caPem, ...(pinned ? { checkServerIdentity: samePin } : {}), headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500 })));
    });
    req.once('error', reject);
    req.end(JSON.stringify(body));
  });
}
