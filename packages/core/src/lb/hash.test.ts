import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { crc32, crc32Final, crc32UpdateUint32LE, CRC32_INIT } from './hash.ts';
import { splitServerText } from './consistent-hash.ts';

describe('crc32', () => {
  test('is CRC-32/IEEE: the check value of "123456789" is 0xCBF43926', () => {
    assert.equal(crc32('123456789'), 0xcbf43926);
    assert.equal(crc32(''), 0);
  });

  test('equals zlib over the UTF-8 bytes of any string, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => crc32(s) === zlibCrc32(Buffer.from(s, 'utf8'))),
      { numRuns: 2000 },
    );
    assert.equal(crc32('\ud800x'), zlibCrc32(Buffer.from('\ud800x', 'utf8')));
  });

  test('feeds a uint32 as four little-endian bytes, as nginx feeds prev_hash', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => {
        const bytes = Buffer.alloc(4);
        bytes.writeUInt32LE(v);
        return crc32Final(crc32UpdateUint32LE(CRC32_INIT, v)) === zlibCrc32(bytes);
      }),
    );
  });
});

describe('splitServerText', () => {
  const cases: [string, string, string][] = [
    ['127.0.0.1:8001', '127.0.0.1', '8001'],
    ['[::1]:80', '[::1]', '80'],
    ['backend.example.com', 'backend.example.com', ''],
    ['UNIX:/run/app.sock', '/run/app.sock', ''],
    ['host:8a', 'host:8a', ''],
    ['host:', 'host', ''],
  ];
  for (const [text, host, port] of cases) {
    test(`splits ${text} into host ${JSON.stringify(host)} and port ${JSON.stringify(port)} as nginx does`, () => {
      const [hs, he, ps] = splitServerText(text);
      assert.deepEqual([text.slice(hs, he), text.slice(ps)], [host, port]);
    });
  }
});
