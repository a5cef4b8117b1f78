/**
 * BENCH_CLIENTS concurrent downloads of one URL, each on its own connection, bytes counted and
 * dropped (what the server can serve, not what a disk can take). Prints `{"bytes":N,"seconds":S}`.
 * With BENCH_VERIFY=1 each client also hashes what it got and checks it against BENCH_SHA256.
 */
import { createHash } from 'node:crypto';
import { get } from 'node:http';

const url = process.env['BENCH_URL']!;
const token = process.env['BENCH_TOKEN']!;
const clients = Number(process.env['BENCH_CLIENTS'] ?? 100);
const verify = process.env['BENCH_VERIFY'] === '1';
const want = process.env['BENCH_SHA256'];

function one(): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
      const h = verify ? createHash('sha256') : undefined;
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        h?.update(c);
      });
      res.on('end', () => {
        if (h && h.digest('hex') !== want) return reject(new Error('sha256 mismatch'));
        resolve(n);
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

const t0 = performance.now();
const sizes = await Promise.all(Array.from({ length: clients }, one));
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(`${JSON.stringify({ bytes: sizes.reduce((a, b) => a + b, 0), seconds })}\n`);
