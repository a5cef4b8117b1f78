/**
 * `npm run bench`: runs every bench/*.bench.ts (or the ones named) one after another, each in its
 * own process, and prints their markdown tables. Copy the figures into BENCHMARKS.md.
 */
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

const named = process.argv.slice(2);
const files = named.length ? named : globSync('bench/*.bench.ts').sort();
console.log(`# Canopy benchmarks — ${new Date().toISOString()}`);
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}\n`);
let failed = 0;
for (const f of files) {
  console.log(`\n## ${f}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', f], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
