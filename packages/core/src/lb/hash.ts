/**
 * Hash functions for the balancers. CRC-32/IEEE is what nginx uses (`ngx_crc32_long`), written here
 * rather than taken from node:zlib because core also runs in the browser. Strings are hashed as
 * their UTF-8 bytes, encoded on the fly so a pick allocates nothing.
 */

const TABLE = makeTable();

function makeTable(): Int32Array {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
}

/** Register value before any byte, as `ngx_crc32_init`. */
export const CRC32_INIT = 0xffffffff;

/** Feeds one byte into a running CRC (not finalised). */
function step(crc: number, byte: number): number {
  return TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
}

/** Feeds bytes into a running CRC (not finalised), as `ngx_crc32_update`. */
export function crc32UpdateBytes(crc: number, bytes: ArrayLike<number>): number {
  for (let i = 0; i < bytes.length; i++) crc = step(crc, bytes[i]!);
  return crc >>> 0;
}

/** Feeds a uint32 as 4 little-endian bytes, as nginx feeds `prev_hash` on little-endian hosts. */
export function crc32UpdateUint32LE(crc: number, value: number): number {
  crc = step(crc, value & 0xff);
  crc = step(crc, (value >>> 8) & 0xff);
  crc = step(crc, (value >>> 16) & 0xff);
  crc = step(crc, value >>> 24);
  return crc >>> 0;
}

/** Feeds the UTF-8 bytes of `s[start, end)`; lone surrogates count as U+FFFD, as TextEncoder does. */
export function crc32UpdateString(crc: number, s: string, start = 0, end = s.length): number {
  for (let i = start; i < end; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      crc = step(crc, c);
      continue;
    }
    if (c < 0x800) {
      crc = step(step(crc, 0xc0 | (c >> 6)), 0x80 | (c & 0x3f));
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < end ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        crc = step(step(crc, 0xf0 | (c >> 18)), 0x80 | ((c >> 12) & 0x3f));
        crc = step(step(crc, 0x80 | ((c >> 6) & 0x3f)), 0x80 | (c & 0x3f));
        continue;
      }
      c = 0xfffd;
    }
    crc = step(step(step(crc, 0xe0 | (c >> 12)), 0x80 | ((c >> 6) & 0x3f)), 0x80 | (c & 0x3f));
  }
  return crc >>> 0;
}

/** Turns a running CRC into the checksum, as `ngx_crc32_final`. */
export function crc32Final(crc: number): number {
  return (crc ^ 0xffffffff) >>> 0;
}

/** CRC-32/IEEE of a string's UTF-8 bytes; equals nginx's `ngx_crc32_long` over the same bytes. */
export function crc32(s: string): number {
  return crc32Final(crc32UpdateString(CRC32_INIT, s));
}

/** FNV-1a (32-bit) of a string's UTF-16 code units; a second, independent hash for Maglev. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's finaliser: spreads every input bit over the output so `% M` sees no CRC structure. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
