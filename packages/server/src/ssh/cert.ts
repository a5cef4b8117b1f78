/**
 * OpenSSH certificates (PROTOCOL.certkeys) signed with node:crypto: a CA is an Ed25519 key, and a
 * certificate carries the subject's key fields verbatim, so any key type sshd knows can be signed.
 */
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { ValidationError } from '@canopy/core';
import { fingerprintOf, sshString } from './keys.ts';

/** A CA: its 32-byte seed and public key. */
export interface CaKey {
  seed: Buffer;
  pub: Buffer;
}

const KEY_TYPES = new Set(['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521']);

function uint64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
}
function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** A CA's public key blob and its `ssh-ed25519 AAAA…` line. */
export function caPublic(ca: CaKey): { blob: Buffer; line: string } {
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(ca.pub)]);
  return { blob, line: `ssh-ed25519 ${blob.toString('base64')}` };
}

/** The type and blob of a public key line; refuses types a certificate cannot be made for. */
export function parseKeyLine(line: string): { type: string; blob: Buffer; fingerprint: string } {
  const [type = '', b64 = ''] = line.trim().split(/\s+/);
  const blob = Buffer.from(b64, 'base64');
  const len = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  if (!KEY_TYPES.has(type) || len !== type.length || blob.subarray(4, 4 + len).toString() !== type) {
    throw new ValidationError('not a public key a certificate can be made for', [{ path: ['publicKey'], message: 'must be an ssh-ed25519, ssh-rsa or ecdsa-sha2-* public key line' }]);
  }
  return { type, blob, fingerprint: fingerprintOf(blob) };
}

export interface CertRequest {
  key: string;
  kind: 'user' | 'host';
  serial: bigint;
  keyId: string;
  principals: string[];
  validAfter: Date;
  validBefore: Date;
}

/** Sign `req.key` with `ca`; returns the certificate line (`…-cert-v01@openssh.com AAAA… keyId`). */
export function signCertificate(ca: CaKey, req: CertRequest): string {
  const { type, blob } = parseKeyLine(req.key);
  const fields = blob.subarray(4 + type.length);
  const certType = `${type}-cert-v01@openssh.com`;
  const principals = Buffer.concat(req.principals.map((p) => sshString(p)));
  const extensions = req.kind === 'user' ? Buffer.concat(['permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty', 'permit-user-rc'].flatMap((e) => [sshString(e), sshString('')])) : Buffer.alloc(0);
  const body = Buffer.concat([
    sshString(certType),
    sshString(randomBytes(32)),
    fields,
    uint64(req.serial),
    uint32(req.kind === 'user' ? 1 : 2),
    sshString(req.keyId),
    sshString(principals),
    uint64(BigInt(Math.floor(req.validAfter.getTime() / 1000))),
    uint64(BigInt(Math.floor(req.validBefore.getTime() / 1000))),
    sshString(''),
    sshString(extensions),
    sshString(''),
    sshString(caPublic(ca).blob),
  ]);
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: ca.seed.toString('base64url'), x: ca.pub.toString('base64url') }, format: 'jwk' });
  const signature = Buffer.concat([sshString('ssh-ed25519'), sshString(sign(null, body, key))]);
  return `${certType} ${Buffer.concat([body, sshString(signature)]).toString('base64')} ${req.keyId}`;
}
