/** Password hashing (scrypt) and random bearer secrets stored as SHA-256. */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (pw: string, salt: Buffer, len: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(pw, salt, len, opts, (err, key) => (err ? reject(err) : resolve(key))));

const N = 16384;
const r = 8;
const p = 1;
const KEYLEN = 32;

/** Hash a password as `scrypt$N$r$p$salt$key` (base64url parts). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEYLEN, { N, r, p });
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Check a password against a stored hash in constant time. */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  // Compare against a dummy hash when the user has none, so timing does not reveal which users exist.
  const parts = (stored ?? DUMMY).split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, rr, pp, salt, key] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(key, 'base64url');
  const actual = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, { N: Number(n), r: Number(rr), p: Number(pp) });
  return stored !== null && timingSafeEqual(actual, expected);
}

const DUMMY = `scrypt$${N}$${r}$${p}$${Buffer.alloc(16).toString('base64url')}$${Buffer.alloc(KEYLEN).toString('base64url')}`;

/** A new bearer secret with a readable kind prefix: `cnp_…` (API token) or `cns_…` (session). */
export function newSecret(kind: 'cnp' | 'cns'): string {
  return `${kind}_${randomBytes(32).toString('base64url')}`;
}

/** SHA-256 of a secret, hex; what the database stores. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A random password for the first admin. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/** OpenSSH-style SHA256 fingerprint of a public key line. */
export function sshFingerprint(keyLine: string): { fingerprint: string; comment: string } {
  const [, b64 = '', ...rest] = keyLine.trim().split(/\s+/);
  const digest = createHash('sha256').update(Buffer.from(b64, 'base64')).digest('base64').replace(/=+$/, '');
  return { fingerprint: `SHA256:${digest}`, comment: rest.join(' ') };
}
