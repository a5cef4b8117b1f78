/**
 * `npm test`: builds the shared PGlite template once, then runs every `*.test.ts` under packages/
 * (or the files given) with Node's test runner. Database suites also run on PostgreSQL when
 * CANOPY_TEST_DATABASE_URL is set.
 */
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { pgliteTemplate } from '../packages/server/src/testing/index.ts';

await pgliteTemplate();
const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const targets = files.length > 0 ? files : globSync('packages/*/src/**/*.test.ts', { exclude: (f) => f.includes('node_modules') }).sort();
const concurrency = Math.max(2, availableParallelism());
const res = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...flags, ...targets], { stdio: 'inherit' });
process.exit(res.status ?? 1);
