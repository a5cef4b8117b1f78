/**
 * The agent as one ESM file, for machines that get it from the control center rather than from
 * npm: `main.ts` and everything it imports (core, ws, zod) bundled by rolldown (the bundler Vite
 * uses, already in the workspace). Built once per process, on first request, and kept in memory.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';

/** A built artifact with the digest the install script checks. */
export interface Artifact {
  sha256: string;
}

export interface AgentBundle extends Artifact {
  code: string;
}

const MAIN = join(import.meta.dirname, '..', 'main.ts');
let bundle: Promise<AgentBundle> | undefined;
const runtimes = new Map<string, Promise<Artifact>>();

/** Bundle the agent (memoised; a failed build is retried on the next call). */
export function agentBundle(): Promise<AgentBundle> {
  bundle ??= build().catch((err: unknown) => {
    bundle = undefined;
    throw err;
  });
  return bundle;
}

async function build(): Promise<AgentBundle> {
  const { build: rolldown } = await import('rolldown');
  const out = await rolldown({
    input: MAIN,
    platform: 'node',
    write: false,
    // ws loads these native speed-ups when present and works without them.
    external: ['bufferutil', 'utf-8-validate'],
    logLevel: 'warn',
    output: { format: 'esm' },
  });
  const chunk = out.output.find((o) => o.type === 'chunk');
  if (!chunk || chunk.type !== 'chunk') throw new Error('rolldown produced no agent bundle');
  return { code: chunk.code, sha256: createHash('sha256').update(chunk.code).digest('hex') };
}

/** The SHA-256 of the Node runtime at `path` (memoised per path: the binary does not change while we run). */
export function runtimeDigest(path = process.execPath): Promise<Artifact> {
  let p = runtimes.get(path);
  if (!p) {
    p = new Promise<Artifact>((resolve, reject) => {
      const h = createHash('sha256');
      createReadStream(path)
        .on('data', (c) => h.update(c))
        .once('error', reject)
        .once('end', () => resolve({ sha256: h.digest('hex') }));
    });
    p.catch(() => runtimes.delete(path));
    runtimes.set(path, p);
  }
  return p;
}
