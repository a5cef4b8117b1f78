/**
 * SSH key material made by the control center with node:crypto alone (no ssh-keygen on the server):
 * an Ed25519 key pair as OpenSSH writes it (`openssh-key-v1` private key, one-line public key) and
 * the SHA256 fingerprint sshd logs.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';

/** SSH wire string: uint32 length + bytes. */
export function sshString(b: Buffer | string): Buffer {
  const body = typeof b === 'string' ? Buffer.from(b) : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** OpenSSH-style fingerprint of a public key blob. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The raw 32-byte seed and public key of a new Ed25519 pair. */
function ed25519Raw(): { seed: Buffer; pub: Buffer } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url');
  return { seed, pub };
}

/** A new Ed25519 key pair: OpenSSH private key (unencrypted PEM-armoured), public key line, fingerprint. */
export function newEd25519(comment: string): { privateKey: string; publicKey: string; fingerprint: string } {
  const { seed, pub } = ed25519Raw();
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  const check = randomBytes(4);
  let priv = Buffer.concat([check, check, sshString('ssh-ed25519'), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString(comment)]);
  const pad: number[] = [];
  for (let i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i);
  priv = Buffer.concat([priv, Buffer.from(pad)]);
  const body = Buffer.concat([Buffer.from('openssh-key-v1\0'), sshString('none'), sshString('none'), sshString(''), uint32(1), sshString(blob), sshString(priv)]);
  const b64 = body.toString('base64').replace(/.{1,70}/g, '$&\n');
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `ssh-ed25519 ${blob.toString('base64')}`,
    fingerprint: fingerprintOf(blob),
  };
}
